"""A real Prometheus (Debian `prometheus`) scrapes the running Bento's /metrics.

The Bento is the serving area's session server (`bento_server`, served by ops/bento_serve.py
on a free loopback port, after whatever serving tests ran before: their extra servers of the
same BentoML store once froze its counters, see ops/bento_serve.py); Prometheus runs from /usr/bin/prometheus with a temp config (1 s scrape
interval) on another free port. The request counter seen *through Prometheus* must grow by
exactly the predictions sent, and the metrics the Grafana dashboard (deploy/grafana) plots
must exist in what Prometheus scraped.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from tests.fixtures.serving import MINIMAL_ROAD_USER
from tests.fixtures.stack import PROMETHEUS, start_prometheus

REPO_ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "dashboards" / "accidents-serving.json"
ROAD_USER = MINIMAL_ROAD_USER
PREDICT_COUNT = 'sum(accidents_request_total{endpoint="/predict"})'

pytestmark = [
    pytest.mark.stack,
    pytest.mark.service,
    pytest.mark.skipif(not (REPO_ROOT / "service.py").exists(),
                       reason="service.py (serving area) has not landed: no Bento to scrape"),
    pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="/usr/bin/prometheus (Debian prometheus) not installed"),
]


@pytest.fixture(scope="module")
def prometheus(bento_server, tmp_path_factory):
    target = urlparse(bento_server.url).netloc
    server = start_prometheus(tmp_path_factory.mktemp("prometheus"), [target], interval="1s")
    try:
        yield server
    finally:
        server.stop()


def _value(prom, expr: str) -> float | None:
    result = prom.query(expr)
    return float(result[0]["value"][1]) if result else None


def _wait(predicate, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def test_prometheus_scrapes_the_bento_and_the_request_counter_grows(prometheus, bento_server):
    _wait(lambda: _value(prometheus, 'up{job="accidents-bento"}') == 1.0, what="target up")
    # One prediction so the counter series exists, then a clean baseline.
    sent = httpx.post(bento_server.url + "/predict", json={"road_users": [ROAD_USER]},
                      headers=bento_server.headers, timeout=30)
    assert sent.status_code == 200, sent.text
    _wait(lambda: (_value(prometheus, PREDICT_COUNT) or 0) >= 1, what="first /predict counted")
    time.sleep(2.5)  # two more scrapes: the baseline is settled
    before = _value(prometheus, PREDICT_COUNT)
    n = 7
    for _ in range(n):
        resp = httpx.post(bento_server.url + "/predict", json={"road_users": [ROAD_USER]},
                          headers=bento_server.headers, timeout=30)
        assert resp.status_code == 200, resp.text
    _wait(lambda: _value(prometheus, PREDICT_COUNT) >= before + n, what=f"counter >= {before + n}")
    time.sleep(2.5)
    assert _value(prometheus, PREDICT_COUNT) == before + n  # exactly our requests, no others


def _dashboard_metrics() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    names = set(re.findall(r"\b(accidents_[a-z_]+)\b", " ".join(exprs)))
    return names


def test_grafana_dashboard_metrics_exist_in_what_prometheus_scraped(prometheus, bento_server):
    _wait(lambda: _value(prometheus, 'up{job="accidents-bento"}') == 1.0, what="target up")
    httpx.post(bento_server.url + "/predict", json={"road_users": [ROAD_USER]},
               headers=bento_server.headers, timeout=30)
    time.sleep(2.5)
    series = prometheus.query('{job="accidents-bento", __name__=~"accidents_.+"}')
    scraped = {r["metric"]["__name__"] for r in series}
    wanted = _dashboard_metrics()
    assert {"accidents_request_total", "accidents_request_duration_seconds_bucket"} <= wanted
    missing = wanted - scraped
    assert not missing, f"dashboard plots metrics the Bento does not export: {missing}; scraped: {sorted(scraped)}"
