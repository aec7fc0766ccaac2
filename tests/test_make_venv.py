"""`make` keeps an in-sync .venv as it is, even when python3.11 is a pyenv-style shim.

A pyenv shim is a shell script that execs the real interpreter; `uv sync --python <shim>`
never matches the interpreter the environment was made from, so every `make` used to
rebuild .venv. The Makefile now hands uv the interpreter's own path (sys.executable).
Runs the real Makefile on a throw-away environment (VENV=<tmp>), never on the repo's .venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.quickstart import REPO_ROOT

pytestmark = pytest.mark.journey


def _make_venv(venv: Path, path: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    env["PATH"] = path
    env["UV_COMPILE_BYTECODE"] = "0"  # a throw-away environment: compiling it proves nothing here
    return subprocess.run(["make", "-s", "venv", f"VENV={venv}"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_make_does_not_rebuild_venv_behind_a_shim(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make not installed")
    real = Path(sys.executable).resolve()  # the interpreter this repo's .venv runs on
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / "python3.11"
    shim.write_text(f'#!/usr/bin/env bash\nexec "{real}" "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "uv").symlink_to(Path(sys.executable).parent / "uv")
    path = os.pathsep.join([str(shims), str(tools), os.environ.get("PATH", "")])
    venv = tmp_path / "venv"

    first = _make_venv(venv, path)
    assert first.returncode == 0, first.stdout + first.stderr
    marker = venv / "pyvenv.cfg"
    before = (marker.stat().st_mtime_ns, (venv / "bin" / "python").lstat().st_ino)
    second = _make_venv(venv, path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "in sync" in second.stdout
    after = (marker.stat().st_mtime_ns, (venv / "bin" / "python").lstat().st_ino)
    assert after == before, "make rebuilt an environment that was already in sync"
