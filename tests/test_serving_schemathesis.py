"""Property-based fuzzing of the served API from its own OpenAPI schema: no 5xx, ever."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.fixtures.serving import REPO_ROOT, BentoServer

pytestmark = pytest.mark.service

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
MIN_CASES = 1000


def test_schemathesis_generates_no_server_error(bento_server: BentoServer, tmp_path: Path) -> None:
    har = tmp_path / "schemathesis.har"
    cmd = [
        SCHEMATHESIS, "run", f"{bento_server.url}/docs.json",
        "--checks", "not_a_server_error",
        "--header", f"X-API-Key: {bento_server.api_key}",
        "--max-examples", "300", "--seed", "20261123", "--workers", "2",
        "--request-timeout", "60",
        "--report", "har", "--report-har-path", str(har),
    ]
    run = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    summary = run.stdout[-4000:]
    assert har.exists(), f"schemathesis wrote no HAR report:\n{summary}\n{run.stderr[-2000:]}"
    entries = json.loads(har.read_text())["log"]["entries"]
    statuses = Counter(int(e["response"]["status"]) for e in entries)
    print(f"schemathesis: {len(entries)} requests, statuses {dict(sorted(statuses.items()))}")
    server_errors = {s: n for s, n in statuses.items() if s >= 500}
    assert not server_errors, f"5xx answers {server_errors}:\n{summary}"
    assert run.returncode == 0, summary
    assert len(entries) >= MIN_CASES, f"only {len(entries)} generated cases:\n{summary}"
    by_path = Counter((e["request"]["url"].rsplit("/", 1)[-1], int(e["response"]["status"])) for e in entries)
    print(f"by route: {dict(sorted(by_path.items()))}")
    for route in ("predict", "predict_batch", "predict_columns"):
        assert sum(n for (r, _), n in by_path.items() if r == route) >= 50, f"/{route} barely fuzzed: {by_path}"
    # Both valid and invalid inputs were exercised.
    assert statuses[200] > 100 and sum(n for s, n in statuses.items() if 400 <= s < 500) > 100, statuses
