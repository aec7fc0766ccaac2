"""run.py training commands: help text and clear errors for user mistakes (no pipeline run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env_extra: dict[str, str] | None = None, tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "ZENML_ANALYTICS_OPT_IN": "false", **(env_extra or {})}
    if tmp is not None:  # never touch the repository's own ZenML store
        env.update({"ZENML_CONFIG_PATH": str(tmp / "zh"), "ZENML_REPOSITORY_PATH": str(tmp)})
    return subprocess.run([sys.executable, str(REPO_ROOT / "run.py"), *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("command", ["train", "models", "promote", "dashboard"])
def test_help(command: str) -> None:
    proc = run(command, "--help")
    assert proc.returncode == 0 and f"usage: run.py {command}" in proc.stdout


def test_unknown_profile(tmp_path: Path) -> None:
    proc = run("--config", "nosuch", tmp=tmp_path)
    assert proc.returncode == 2
    assert "error: unknown profile 'nosuch'" in proc.stderr and "local" in proc.stderr


def test_bad_key_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: local\nmodel:\n  kind: xgboost\n  n_estimators: 5\n")
    proc = run("--config", str(bad), tmp=tmp_path)
    assert proc.returncode == 2 and "unknown key 'model.n_estimators'" in proc.stderr, proc.stderr
    proc = run("--set", "split.seed=abc", tmp=tmp_path)
    assert proc.returncode == 2 and "split.seed must be an integer, got 'abc'" in proc.stderr


def test_missing_data_dir(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run("--set", "data.source=dir", "--set", f"data.dir={empty}", tmp=tmp_path)
    assert proc.returncode == 2
    assert str(empty) in proc.stderr and "usagers-2022.csv" in proc.stderr, proc.stderr
