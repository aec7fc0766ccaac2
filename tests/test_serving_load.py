"""Bounded load test over real HTTP: 20 s at concurrency 32 on loopback, zero errors/5xx.

Not a performance assertion (figures come from bench/bench_serving.py): it shows that the
adaptive-batching configuration queues under this load instead of shedding it with 503.
20 s is thousands of requests with all 32 connections busy throughout, so the dispatcher
faces a full queue for the whole run; the former 60 s cost 40 s more on every suite run for
the same check. ``ACCIDENTS_LOAD_SECONDS`` lengthens it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from accidents.serving.schema import frame_to_records
from tests.fixtures.serving import WRK, BentoServer, ExportedBento, run_wrk, server_error_count

pytestmark = pytest.mark.service

SECONDS = int(os.environ.get("ACCIDENTS_LOAD_SECONDS", "20"))
CONNECTIONS = 32


def test_sustained_concurrency_32_without_errors(bento_server: BentoServer,
                                                        serving_bento: ExportedBento,
                                                        tmp_path: Path) -> None:
    if not Path(WRK).exists():
        pytest.skip(f"wrk not found at {WRK} (Debian package wrk; set WRK)")
    users: pd.DataFrame = serving_bento.users.sample(300, random_state=7)
    bodies = [json.dumps({"road_users": [r]}) for r in frame_to_records(users)]
    errors_before = server_error_count(bento_server.url)
    res = run_wrk(bento_server.url, "/predict", bodies, tmp_path, connections=CONNECTIONS,
                  seconds=SECONDS, headers=bento_server.headers)
    print(f"load: {res['requests']} requests in {res['seconds']:.1f} s = {res['rps']:.0f} req/s, "
          f"p50 {res['p50_ms']:.1f} ms, p99 {res['p99_ms']:.1f} ms, max {res['max_us'] / 1e3:.0f} ms, "
          f"errors {res['errors']}")
    assert res["requests"] > 0
    assert res["errors"] == 0, res
    assert server_error_count(bento_server.url) == errors_before
