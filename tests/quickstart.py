"""The README's quick start as data: the block's commands and what each must achieve.

Why a module of its own: the journey test runs the block (slow, marker ``journey``) and a
fast test checks the same parsing (every command known, curl body = the service's example),
so a README edit that the journey would not understand fails in seconds, not at the end of
a 10-minute run. The block is read from README.md every time, never copied.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
README = REPO_ROOT / "README.md"
HEADING = "## Quick start"
#: The sentence introducing the demos block (each demo runs from the state the quick start leaves).
DEMOS = "More demos, each from the state the quick start leaves:"
#: Ports the block names; the journey test replaces them with free ones (private ports).
SERVE_PORT = "3000"
DASHBOARD_PORT = "8237"


def quickstart_block(readme: Path = README) -> str:
    """The first ```bash block under ``## Quick start``."""
    return _block_after(readme, f"\n{HEADING}\n")


def demos_block(readme: Path = README) -> str:
    """The ```bash block of the demos that follow the quick start."""
    return _block_after(readme, DEMOS)


def drift_demo(readme: Path = README) -> str:
    """The drift demo command of the demos block (the journey runs it after the quick start)."""
    found = [c for c in split_commands(demos_block(readme)) if DRIFT_DEMO.matches(c)]
    if len(found) != 1:
        raise AssertionError(f"{readme}: {len(found)} drift demo commands in the demos block")
    return found[0]


def _block_after(readme: Path, marker: str) -> str:
    text = readme.read_text(encoding="utf-8")
    start = text.find(marker)
    if start < 0:
        raise AssertionError(f"{readme}: no {marker.strip()!r}")
    match = re.search(r"```bash\n(.*?)```", text[start:], flags=re.S)
    if match is None:
        raise AssertionError(f"{readme}: no ```bash block after {marker.strip()!r}")
    return match.group(1)


def split_commands(block: str) -> list[str]:
    """Shell commands of the block: a line continues while it ends with ``\\`` or a single
    quote is still open (the curl's JSON body spans lines)."""
    commands: list[str] = []
    current = ""
    for line in block.splitlines():
        if not current and not line.strip():
            continue
        current = f"{current}\n{line}" if current else line
        if current.rstrip().endswith("\\") or current.count("'") % 2:
            continue
        commands.append(current)
        current = ""
    if current:
        raise AssertionError(f"unterminated command at the end of the quick start: {current!r}")
    return commands


def curl_body(command: str) -> dict:
    """The JSON of a ``curl ... -d '<json>'`` command."""
    match = re.search(r"-d '(.*?)'", command, flags=re.S)
    if match is None:
        raise AssertionError(f"no -d '<json>' body in {command!r}")
    return json.loads(match.group(1))


@dataclass(frozen=True)
class Step:
    """One kind of quick-start command: how to recognise it and what its output must show."""

    name: str
    pattern: str
    check: Callable[[str, int], None]

    def matches(self, command: str) -> bool:
        return re.search(self.pattern, command.split("#")[0] if "'" not in command else command) is not None


def _ok(rc: int, output: str) -> None:
    assert rc == 0, f"exit code {rc}\n{output[-4000:]}"


def _check_train(output: str, rc: int) -> None:
    _ok(rc, output)
    assert "SYNTHETIC" in output, "the synthetic-data banner is missing"
    assert re.search(r"version 1: stage production", output), output[-3000:]


def _check_models(output: str, rc: int) -> None:
    _ok(rc, output)
    assert re.search(r"^\s+1\s+production\s", output, flags=re.M), output


def _check_deploy(output: str, rc: int) -> None:
    _ok(rc, output)
    assert "Bento road_accident_severity:v1" in output, output


def _check_background(output: str, rc: int) -> None:
    _ok(rc, output)


def _check_ready(output: str, rc: int) -> None:
    _ok(rc, output)


def _predictions(output: str) -> list[dict]:
    line = next((x for x in output.splitlines() if x.startswith("[{")), None)
    assert line is not None, f"no JSON predictions in the output:\n{output[-3000:]}"
    return json.loads(line)


def _check_predict(output: str, rc: int) -> None:
    _ok(rc, output)
    (prediction,) = _predictions(output)
    assert prediction["model_version"] == "1", prediction
    assert 0.005 < prediction["probability"] < 0.95, prediction  # a realistic first answer


def _check_predict_examples(output: str, rc: int) -> None:
    from accidents.serving.examples import EXAMPLES

    _ok(rc, output)
    predictions = _predictions(output)
    assert len(predictions) == len(EXAMPLES), predictions
    by_name = dict(zip(EXAMPLES, (p["probability"] for p in predictions), strict=True))
    assert by_name["motorcyclist"] > by_name["car_driver"], by_name


def _check_monitor(output: str, rc: int) -> None:
    from accidents.serving.examples import EXAMPLES

    _ok(rc, output)
    served = 1 + len(EXAMPLES)  # the car driver, then every example: all read back from the log
    assert "served predictions" in output and f"current {served};" in output, output[-3000:]
    assert "decision:" in output, output[-3000:]


def _check_drift_demo(output: str, rc: int) -> None:
    """Two shifted inputs -> RETRAIN -> a training run on 2022-2024 (the shifted year
    included) -> version 2. On the journey's seeded data (700 synthetic accidents a year)
    version 2 does not beat version 1 by the promotion margin on the same test rows: it is
    staged, production stays version 1. Another outcome means the data, the model or the
    promotion changed: look at the printed comparison before updating this."""
    _ok(rc, output)
    assert re.search(r"drift: \d+ of 38 .*: .*\bvma\b", output) and "atm" in output, output[-4000:]
    assert "decision: RETRAIN" in output, output[-4000:]
    assert "retrain: decision RETRAIN -> training on years [2022, 2023, 2024]" in output, output[-4000:]
    assert "DATA: SYNTHETIC" in output.split("retrain: decision RETRAIN")[1], output[-4000:]
    match = re.search(r"retrain: model version (\d+) -> (\w+): (.*)", output)
    assert match, output[-4000:]
    assert match.group(1, 2) == ("2", "staging"), match.group(0)
    assert "does not beat production version 1 on the same test data" in match.group(3), match.group(0)


def _check_kill(output: str, rc: int) -> None:
    _ok(rc, output)


def _check_dashboard(output: str, rc: int) -> None:
    _ok(rc, output)
    assert re.search(r"ZenML dashboard: http://\S+", output), output


STEPS: tuple[Step, ...] = (
    Step("train", r"^make run\b", _check_train),
    Step("models", r"run\.py models\b", _check_models),
    Step("deploy", r"run\.py deploy\b", _check_deploy),
    Step("serve", r"run\.py serve\b.*&\s*(#.*)?$", _check_background),
    Step("ready", r"^curl .*/readyz", _check_ready),
    Step("predict", r"^curl .*/predict -.* -d '", _check_predict),
    Step("predict examples", r"^curl .*/predict -.* -d @examples/road_users\.json", _check_predict_examples),
    Step("monitor", r"run\.py monitor\s*(#.*)?$", _check_monitor),
    Step("stop", r"^kill \$!", _check_kill),
    Step("dashboard", r"run\.py dashboard\b", _check_dashboard),
)
#: The demos block's drift example (run by the journey after the quick start).
DRIFT_DEMO = Step("drift demo", r"run\.py monitor .*--shift .*--retrain\b", _check_drift_demo)


def step_for(command: str) -> Step:
    """The one Step describing ``command`` (AssertionError naming an unknown command)."""
    found = [s for s in STEPS if s.matches(command)]
    if len(found) != 1:
        raise AssertionError(f"the quick start's command {command!r} matches {len(found)} known steps "
                             f"({[s.name for s in found]}); teach tests/quickstart.py what it must do")
    return found[0]
