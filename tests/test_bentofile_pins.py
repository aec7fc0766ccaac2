"""``bentofile.yaml``'s packages are exactly what ``uv.lock`` pins for the service's runtime.

Why: the container installs these from PyPI; a hand-typed list drifts from the lock (msgspec
was once missing, so the container ran the slow log writer). When this fails after a
``uv lock`` or a new import in the service path, run ``python -m ops.bentofile_pins``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from ops import bentofile_pins as pins

ROOT = Path(__file__).resolve().parents[1]


def _locked_versions() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {pins.normalise(p["name"]): p["version"] for p in lock["package"]}


def test_bentofile_packages_equal_what_uv_lock_pins() -> None:
    text = (ROOT / "bentofile.yaml").read_text(encoding="utf-8")
    # The pins, not the "imported by" comments: moving an import must not fail the build.
    assert pins.pins_of(pins.bentofile_packages(text)) == pins.pins_of(pins.pinned_packages()), (
        "bentofile.yaml is stale: run `python -m ops.bentofile_pins`")


def test_what_bentoml_reads_is_pinned_to_the_lock() -> None:
    """Parsed as BentoML parses it: every entry is name==locked version, and the service's
    own imports are there (msgspec for the fast log writer, the model's libraries)."""
    packages = yaml.safe_load((ROOT / "bentofile.yaml").read_text(encoding="utf-8"))["python"]["packages"]
    locked = _locked_versions()
    pinned = {}
    for entry in packages:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s;]+)", entry)
        assert match, f"not an exact pin: {entry!r}"
        pinned[pins.normalise(match.group(1))] = match.group(2)
    assert {k: locked.get(k) for k in pinned} == pinned
    for needed in ("bentoml", "msgspec", "scikit-learn", "xgboost", "pandas", "numpy", "pydantic",
                   "scipy", "joblib"):
        assert needed in pinned, needed
    assert not {"zenml", "mlflow", "evidently"} & set(pinned), "training-only packages in the Bento"


def test_runtime_imports_follow_the_service_path() -> None:
    found = pins.runtime_imports()
    assert found["msgspec"].startswith("accidents.serving")
    assert found["bentoml"] == "service"
    assert {"sklearn", "xgboost"} <= set(found)  # the pickled model's libraries
    assert "zenml" not in found and "evidently" not in found


def test_a_bumped_lock_makes_the_check_fail(tmp_path: Path, capsys) -> None:
    """The check can fail: the same bentofile against a lock with msgspec bumped is stale."""
    lock = (ROOT / "uv.lock").read_text(encoding="utf-8")
    bumped, count = re.subn(r'(name = "msgspec"\nversion = ")[^"]+"', r'\g<1>99.0.0"', lock)
    assert count == 1
    (tmp_path / "uv.lock").write_text(bumped, encoding="utf-8")
    bentofile = tmp_path / "bentofile.yaml"
    bentofile.write_text((ROOT / "bentofile.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    args = ["--bentofile", str(bentofile), "--lockfile", str(tmp_path / "uv.lock")]
    assert pins.main([*args, "--check"]) == 1
    assert '+    - "msgspec==99.0.0"' in capsys.readouterr().out
    assert pins.main(args) == 0  # rewrite from the bumped lock
    assert pins.main([*args, "--check"]) == 0
    rewritten = yaml.safe_load(bentofile.read_text(encoding="utf-8"))
    assert "msgspec==99.0.0" in rewritten["python"]["packages"]
    assert rewritten["service"] == "service:RoadAccidentSeverity"  # the rest of the file kept
