"""The README's quick start, run verbatim in a fresh clone (what a newcomer pastes).

The ```bash block under "## Quick start" is read from README.md (tests/quickstart.py), its
commands are run one after the other by one bash process in a fresh ``git clone`` of this
repository, and each command's outcome is checked (exit code and what its output must
show); then the demos block's drift example (``monitor ... --retrain``), from the state
the quick start left (production version 1, served traffic monitored). Private state
only: the clone's own ZenML store and outputs (run.py's defaults), a temporary BentoML
home, free ports in place of the block's 3000 / 8237, no ZENML_/MLFLOW_/ACCIDENTS_
variable inherited. Two knobs a user could set too: ``ACCIDENTS_N_ACCIDENTS``
(smaller synthetic data, so the run takes minutes) and ``uv`` put on PATH from this
environment (so ``make`` does not download it with pip).

The fast half (``test_quickstart_*`` without the marker) checks the parsing: every command
is one the journey knows, the curl body is the service's realistic example.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.serving import free_port
from tests.quickstart import (
    DASHBOARD_PORT,
    DRIFT_DEMO,
    REPO_ROOT,
    SERVE_PORT,
    curl_body,
    drift_demo,
    quickstart_block,
    split_commands,
    step_for,
)

MARK = "@@@quickstart"
JOURNEY_N_ACCIDENTS = "700"


def test_quickstart_block_is_known_and_ordered() -> None:
    commands = split_commands(quickstart_block())
    names = [step_for(c).name for c in commands]
    for before, after in (("train", "models"), ("deploy", "serve"), ("serve", "ready"),
                          ("ready", "predict"), ("predict", "monitor"), ("monitor", "stop")):
        assert names.index(before) < names.index(after), names
    for command in commands:
        assert "python run.py" not in command.replace(".venv/bin/python run.py", ""), command


def test_quickstart_prediction_is_the_realistic_example() -> None:
    from accidents.serving.examples import CAR_DRIVER

    predict = next(c for c in split_commands(quickstart_block()) if step_for(c).name == "predict")
    assert curl_body(predict) == {"road_users": [CAR_DRIVER]}


def test_drift_demo_is_known() -> None:
    """The README's drift demo asks for the retrain the journey checks (after the quick start)."""
    assert DRIFT_DEMO.matches(drift_demo())
    assert drift_demo().startswith(".venv/bin/python run.py monitor ")


def _script(commands: list[str]) -> str:
    """Each command, then a marker with its exit code; stop at the first failure."""
    lines = ["set -u", "exec 2>&1"]
    for i, command in enumerate(commands):
        lines += [f"echo '{MARK} start {i}'", command, "rc=$?", f"echo; echo \"{MARK} rc {i} $rc\"",
                  '[ "$rc" -eq 0 ] || exit "$rc"']
    return "\n".join(lines) + "\n"


def _outputs(log: str, n: int) -> list[tuple[str, int | None]]:
    """(output, exit code or None when it never finished) per command."""
    found: list[tuple[str, int | None]] = []
    for i in range(n):
        start = log.find(f"{MARK} start {i}\n")
        if start < 0:
            break
        end = re.search(rf"{MARK} rc {i} (\d+)", log[start:])
        body = log[start:start + end.start()] if end else log[start:]
        found.append((body, int(end.group(1)) if end else None))
    return found


@pytest.mark.journey
@pytest.mark.timeout(3000)
def test_quickstart_runs_verbatim_in_a_fresh_clone(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl not installed (the quick start uses it)")
    serve_port, dashboard_port = str(free_port()), str(free_port())
    # the quick start, then the demos block's drift example from the state it leaves
    commands = [c.replace(SERVE_PORT, serve_port).replace(DASHBOARD_PORT, dashboard_port)
                for c in split_commands(quickstart_block())] + [drift_demo()]
    steps = [step_for(c) for c in commands[:-1]] + [DRIFT_DEMO]
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(clone)], check=True)
    tools = tmp_path / "tools"
    tools.mkdir()
    uv = Path(sys.executable).parent / "uv"
    if uv.exists():
        (tools / "uv").symlink_to(uv)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ZENML_", "MLFLOW_", "ACCIDENTS_", "BENTOML_", "VIRTUAL_ENV", "UV_"))}
    env.update(PATH=f"{tools}{os.pathsep}{env.get('PATH', '')}", BENTOML_HOME=str(tmp_path / "bentoml"),
               ACCIDENTS_N_ACCIDENTS=JOURNEY_N_ACCIDENTS, AUTO_OPEN_DASHBOARD="false",
               BENTOML_DO_NOT_TRACK="true", ZENML_ANALYTICS_OPT_IN="false")
    script = tmp_path / "quickstart.sh"
    script.write_text(_script(commands), encoding="utf-8")
    log_file = tmp_path / "quickstart.log"
    with log_file.open("w") as log:
        proc = subprocess.Popen(["bash", str(script)], cwd=clone, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            proc.wait(timeout=2700)
        finally:
            _stop_dashboard(clone, env)
            with contextlib.suppress(ProcessLookupError):  # the server, if the block stopped early
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
    log = log_file.read_text(encoding="utf-8", errors="replace")
    print(log[-20000:])
    results = _outputs(log, len(commands))
    for step, (output, rc) in zip(steps, results, strict=False):
        assert rc is not None, f"step {step.name!r} never finished:\n{output[-4000:]}"
        step.check(output, rc)
    assert len(results) == len(commands), f"only {len(results)} of {len(commands)} commands ran"


def _stop_dashboard(clone: Path, env: dict[str, str]) -> None:
    python = clone / ".venv" / "bin" / "python"
    if python.exists():
        subprocess.run([str(python), "run.py", "dashboard", "--stop"], cwd=clone, env=env,
                       capture_output=True, timeout=300, check=False)
