"""Every user mistake on the command line ends in one `error:` line, exit code 2, no traceback.

Each case runs the real ``run.py`` in a private ZenML/outputs environment and is refused
*before* any pipeline runs (a future year used to train for minutes, a year before the
synthetic format or a missing monitoring file used to print a traceback).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.zenml import make_zenml_env

CASES = {
    "future training year": (("train", "--set", "data.years=[2031]"), "data.years[0] = 2031"),
    "year before the synthetic format": (("train", "--set", "data.years=[2010]"),
                                         "synthetic generator writes the 2019+ format"),
    "synthetic monitoring year 1850": (("monitor", "--synthetic-year", "1850"), "--synthetic-year 1850"),
    "missing prediction log": (("monitor", "--prediction-log", "{tmp}/missing.jsonl"), "file not found"),
    "missing feature file": (("monitor", "--current-file", "{tmp}/missing.csv"), "file not found"),
    "retrain on unlabelled served traffic": (("monitor", "--retrain"), "--retrain needs a labelled batch"),
    "serve before any deploy": (("serve",), "nothing deployed yet"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_user_mistake_is_one_error_line(case: str, tmp_path: Path) -> None:
    args, expected = CASES[case]
    env = make_zenml_env(tmp_path)
    proc = env.run(*(a.format(tmp=tmp_path) for a in args), check=False, timeout=300)
    output = proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 2, output[-3000:]
    assert len(errors) == 1 and expected in errors[0], output[-3000:]
    assert "Traceback" not in output, output[-3000:]
