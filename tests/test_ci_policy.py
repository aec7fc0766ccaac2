"""CI runs every test: a skip for a missing tool fails under .ci/run (tests/conftest.py).

Why a test of the test set-up: the container, browser, Prometheus and load tests skip on a
machine without their Debian packages; CI installs them, and this policy makes sure a
failed install or a new skip can never turn a part of the product silently untested.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

SKIPPING_TESTS = '''
import pytest

def test_tool_missing():
    pytest.skip("wrk not found at /usr/bin/wrk")

@pytest.mark.skipif(True, reason="promtool (Debian prometheus) not installed")
def test_marked_skip():
    pass

def test_shared_material_absent():
    pytest.skip("real BAAC samples not found at /x (set BAAC_SHARED_DIR)")
'''


def _run(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    test_file = REPO_ROOT / "tests" / f"test_zz_ci_policy_probe_{os.getpid()}.py"
    test_file.write_text(SKIPPING_TESTS)
    env = {k: v for k, v in os.environ.items() if k != "ACCIDENTS_CI_NO_SKIP"}
    if ci:
        env["ACCIDENTS_CI_NO_SKIP"] = "1"
    try:
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "-o", "addopts=", str(test_file)], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
    finally:
        test_file.unlink()


def test_outside_ci_missing_tools_skip(tmp_path: Path) -> None:
    out = _run(tmp_path, ci=False)
    assert out.returncode == 0, out.stdout
    assert "3 skipped" in out.stdout


def test_in_ci_a_missing_tool_fails_but_absent_shared_material_may_skip(tmp_path: Path) -> None:
    out = _run(tmp_path, ci=True)
    assert out.returncode == 1, out.stdout
    assert "skipped in CI (ACCIDENTS_CI_NO_SKIP=1), which must run every test" in out.stdout
    assert "wrk not found" in out.stdout and "promtool" in out.stdout
    assert "1 skipped" in out.stdout, out.stdout


def test_ci_entry_point_sets_the_policy() -> None:
    script = (REPO_ROOT / ".ci" / "run").read_text()
    assert "export ACCIDENTS_CI_NO_SKIP=1" in script
    assert script.index("export ACCIDENTS_CI_NO_SKIP=1") < script.index("make test")
