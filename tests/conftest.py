"""Shared pytest set-up. Area-specific fixtures live in tests/fixtures/<area>.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
os.environ.setdefault("ZENML_ENABLE_RICH_TRACEBACK", "false")
os.environ.setdefault("AUTO_OPEN_DASHBOARD", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("BAAC_SHARED_DIR", REPO_ROOT.parent / "shared"))
SAMPLES_DIR = SHARED_DIR / "data" / "baac-samples"
FACTS_FILE = SHARED_DIR / "data" / "BAAC-FACTS.md"

pytest_plugins: list[str] = []
for _plugin in sorted((Path(__file__).parent / "fixtures").glob("*.py")):
    if _plugin.stem != "__init__":
        pytest_plugins.append(f"tests.fixtures.{_plugin.stem}")


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The real BAAC first-page samples; tests using them skip (with the reason) when absent."""
    if not SAMPLES_DIR.is_dir():
        pytest.skip(f"real BAAC samples not found at {SAMPLES_DIR} (set BAAC_SHARED_DIR)")
    return SAMPLES_DIR
