"""Request limits over real HTTP: body size (413 before the body is held), unknown top-level
fields (400), client errors logged at INFO without a traceback (issue 14 item 2, issue 10).

One server of the session's Bento with one worker (so the worker is the process whose peak
RSS is measured), a 4 MB limit from ``ACCIDENTS_MAX_BODY_MB`` (the override path; the
16 MB default is checked on the shared server and against the largest legal batch) and a
5 s request timeout from ``ACCIDENTS_REQUEST_TIMEOUT_S``. The same server also runs the two
switches that are off (or on) by default, each checked against the shared default server:
BentoML's own JSON reading and writing (``ACCIDENTS_FAST_IO=0``) and BentoML's OpenTelemetry
middleware (``ACCIDENTS_TRACING=1``).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from accidents.serving.request_limits import DEFAULT_MAX_BODY_MB, MB
from accidents.serving.schema import (
    FIELD_SPECS,
    MAX_COLUMN_ROWS,
    frame_to_columns,
    frame_to_records,
)
from tests.fixtures.serving import (
    BentoServer,
    ExportedBento,
    process_peak_rss_kb,
    request_count,
    start_server,
)

LIMIT_MB = 4
TIMEOUT_S = 5
#: A worker that read a 200 MB body would grow by ~200 MB (more, parsed); one that refused
#: it while streaming grows by at most the limit plus buffers.
BODY_MB = 200
MAX_GROWTH_MB = 24


def _widest_legal_row() -> dict:
    """One road user with every field at its widest legal JSON value."""
    row: dict = {}
    for name, spec in FIELD_SPECS.items():
        if spec.codes:
            row[name] = max(spec.codes, key=lambda c: len(str(c)))
        elif spec.kind == "hrmn":
            row[name] = "23:59"
        else:
            assert spec.valid_range is not None, name
            row[name] = int(max(spec.valid_range, key=lambda v: len(str(int(v)))))
    return row


def test_default_limit_holds_the_largest_legal_batch_with_margin() -> None:
    """10,000 road users, every field at its widest: pretty-printed it fits twice in the default."""
    body = json.dumps({"road_users": [_widest_legal_row()] * MAX_COLUMN_ROWS}, indent=2).encode()
    assert 2 * len(body) <= DEFAULT_MAX_BODY_MB * MB, len(body) / MB
    assert len(body) > 5 * MB  # the measurement is of a real batch, not of an empty one


@pytest.fixture(scope="module")
def limited_server(serving_bento: ExportedBento,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[BentoServer]:
    server = start_server(serving_bento.bento_tag, serving_bento.home,
                          tmp_path_factory.mktemp("limits"),
                          extra_env={"ACCIDENTS_WORKERS": "1", "ACCIDENTS_MAX_BODY_MB": str(LIMIT_MB),
                                     "ACCIDENTS_REQUEST_TIMEOUT_S": str(TIMEOUT_S),
                                     "ACCIDENTS_FAST_IO": "0", "ACCIDENTS_TRACING": "1"})
    try:
        yield server
    finally:
        server.stop()


def _raw_post(server: BentoServer, path: str, headers: list[str], chunks: Iterator[bytes]) -> tuple[int, dict]:
    """POST over a raw socket, streaming ``chunks`` until the server answers or closes."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        head = "\r\n".join([f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json",
                            *headers, "", ""])
        sock.sendall(head.encode())
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except OSError:  # the server answered and closed: the rest of the body was never read
            pass
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            part = sock.recv(65536)
            if not part:
                break
            data += part
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 1 << 30


def _megabytes(n: int, chunked: bool) -> Iterator[bytes]:
    piece = b" " * MB
    for _ in range(n):
        yield b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
    if chunked:
        yield b"0\r\n\r\n"


@pytest.mark.service
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_over_the_limit_is_413_without_the_worker_holding_it(limited_server: BentoServer,
                                                                   chunked: bool) -> None:
    before = process_peak_rss_kb(limited_server.proc.pid)
    headers = ["Transfer-Encoding: chunked"] if chunked else [f"Content-Length: {BODY_MB * MB}"]
    status, answer = _raw_post(limited_server, "/predict", headers, _megabytes(BODY_MB, chunked))
    assert status == 413, answer
    assert f"the limit is {LIMIT_MB} MB" in answer["error"] and answer["limit_bytes"] == LIMIT_MB * MB
    after = process_peak_rss_kb(limited_server.proc.pid)
    growth_mb = max(after[pid] - before.get(pid, after[pid]) for pid in after) / 1024
    assert growth_mb < MAX_GROWTH_MB, f"peak RSS grew by {growth_mb:.0f} MB for a {BODY_MB} MB body"
    # the worker is still there and serving
    assert httpx.get(limited_server.url + "/readyz", timeout=10).status_code == 200


@pytest.mark.service
def test_every_endpoint_is_limited(limited_server: BentoServer) -> None:
    for path in ("/predict_batch", "/predict_columns", "/model_info", "/ui/form.json"):
        status, answer = _raw_post(limited_server, path, [f"Content-Length: {LIMIT_MB * MB + 1}"],
                                   _megabytes(LIMIT_MB + 1, False))
        assert status == 413 and path in answer["error"], (path, answer)


@pytest.mark.service
def test_body_just_under_the_limit_is_served(limited_server: BentoServer,
                                             serving_bento: ExportedBento) -> None:
    records = frame_to_records(serving_bento.users.head(50))
    body = json.dumps({"road_users": records}).encode()
    padded = body[:-1] + b" " * (LIMIT_MB * MB - len(body) - 16) + b"}"  # JSON whitespace
    assert LIMIT_MB * MB - 32 < len(padded) < LIMIT_MB * MB
    resp = httpx.post(limited_server.url + "/predict_batch", content=padded,
                      headers={"Content-Type": "application/json"}, timeout=60)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["probability"]) == 50


@pytest.mark.service
@pytest.mark.parametrize(("path", "payload"), [
    ("/predict", {"road_users": [{"an": 2023, "mois": 6, "jour": 14, "hrmn": "17:45", "catu": 1,
                                  "catv": 7, "n_vehicles": 2, "n_users": 2}], "road_user": 1}),
    ("/predict_batch", {"road_users": [], "padding": "x" * 1000}),
    ("/model_info", {"verbose": True}),
])
def test_unknown_top_level_field_is_400(limited_server: BentoServer, path: str, payload: dict) -> None:
    resp = httpx.post(limited_server.url + path, json=payload, timeout=30)
    assert resp.status_code == 400, resp.text
    unknown = [d for d in resp.json()["detail"] if d["type"] == "extra_forbidden"]
    assert [d["loc"][0] for d in unknown] == [k for k in payload if k not in ("road_users",)]


@pytest.mark.service
def test_client_errors_are_logged_at_info_without_traceback(limited_server: BentoServer) -> None:
    bad = {"road_users": [{"an": 2023, "mois": 13, "jour": 14, "hrmn": "17:45", "catu": 1, "catv": 7,
                           "n_vehicles": 2, "n_users": 2}]}
    assert httpx.post(limited_server.url + "/predict", json=bad, timeout=30).status_code == 400
    status, _ = _raw_post(limited_server, "/predict_columns", ["Transfer-Encoding: chunked"],
                          _megabytes(LIMIT_MB + 2, True))
    assert status == 413
    log = limited_server.log_tail(200_000)
    lines = [x for x in log.splitlines() if "client error" in x]
    assert any("[INFO]" in x and "client error 400 on /predict [POST]" in x for x in lines), log[-3000:]
    assert any("[INFO]" in x and "client error 413 on /predict_columns [POST]" in x for x in lines), log[-3000:]
    assert "Traceback" not in log and "[ERROR]" not in log, log[-3000:]


@pytest.mark.service
def test_default_limits_are_reported(bento_server: BentoServer) -> None:
    info = httpx.post(bento_server.url + "/model_info", json={}, headers=bento_server.headers,
                      timeout=30).json()
    assert info["limits"] == {"max_body_mb": DEFAULT_MAX_BODY_MB, "max_rows_predict": 100,
                              "max_rows_batch": MAX_COLUMN_ROWS}


@pytest.mark.service
def test_a_second_server_of_the_same_store_leaves_the_first_ones_metrics_counting(
        bento_server: BentoServer, limited_server: BentoServer, serving_bento: ExportedBento) -> None:
    """The limits server runs the session server's Bento from the same BentoML store, started after it.

    A plain `bentoml serve` wipes the store's Prometheus directory at start: the first
    server's /predict counter then stayed frozen (ops/bento_serve.py). Both servers here are
    started as `run.py serve` starts them, each with a metrics directory of its own.
    """
    for server in (bento_server, limited_server):
        before = request_count(server.url, "/predict", "200")
        for _ in range(3):
            resp = httpx.post(server.url + "/predict", json={"road_users": [frame_to_records(serving_bento.users.head(1))[0]]},
                              headers=server.headers, timeout=60)
            assert resp.status_code == 200, resp.text
        assert request_count(server.url, "/predict", "200") == before + 3, server.url


@pytest.mark.service
def test_a_request_not_answered_within_the_timeout_is_504(limited_server: BentoServer,
                                                          serving_bento: ExportedBento) -> None:
    """A client that stops half-way through its body: the worker answers 504 at the timeout.

    The message is the service's own middleware's (accidents/serving/request_timeout.py):
    BentoML builds it in place of its timeout middleware, with the configured timeout.
    """
    body = json.dumps({"road_users": frame_to_records(serving_bento.users.head(3))}).encode()

    def stalled() -> Iterator[bytes]:
        yield body[: len(body) // 2]
        time.sleep(TIMEOUT_S + 2)
        yield body[len(body) // 2:]

    started = time.monotonic()
    status, answer = _raw_post(limited_server, "/predict", [f"Content-Length: {len(body)}"], stalled())
    assert status == 504, answer
    assert answer == {"error": f"not able to process the request to /predict in {TIMEOUT_S} seconds"}
    assert time.monotonic() - started >= TIMEOUT_S
    assert httpx.get(limited_server.url + "/readyz", timeout=10).status_code == 200


@pytest.mark.service
def test_tracing_is_off_by_default_and_on_with_its_setting(bento_server: BentoServer,
                                                          limited_server: BentoServer,
                                                          serving_bento: ExportedBento) -> None:
    """BentoML names each request's OpenTelemetry span in ``X-BentoML-Request-ID``: no span, no header."""
    body = {"road_users": frame_to_records(serving_bento.users.head(1))}
    default = httpx.post(bento_server.url + "/predict", json=body, headers=bento_server.headers, timeout=30)
    traced = httpx.post(limited_server.url + "/predict", json=body, timeout=30)
    assert default.status_code == traced.status_code == 200, (default.text, traced.text)
    assert "x-bentoml-request-id" not in default.headers, dict(default.headers)
    assert "x-bentoml-request-id" in traced.headers, dict(traced.headers)


@pytest.mark.service
def test_bentomls_own_json_answers_as_the_fast_reading_does(bento_server: BentoServer,
                                                           limited_server: BentoServer,
                                                           serving_bento: ExportedBento) -> None:
    """``ACCIDENTS_FAST_IO=0`` (pydantic in, BentoML's json out) vs the default (msgspec): same answers."""
    rows = serving_bento.users.head(40)
    for path, body in (("/predict_columns", {"columns": frame_to_columns(rows), "explain": True}),
                       ("/predict_batch", {"road_users": frame_to_records(rows)}),
                       ("/predict", {"road_users": frame_to_records(rows.head(5))})):
        fast = httpx.post(bento_server.url + path, json=body, headers=bento_server.headers, timeout=60)
        own = httpx.post(limited_server.url + path, json=body, timeout=60)
        assert fast.status_code == own.status_code == 200, (path, fast.text, own.text)
        a, b = fast.json(), own.json()
        for answer in (a, b):
            for item in answer if isinstance(answer, list) else [answer]:
                item.pop("request_id", None)
                item.pop("prediction_id", None)
        assert a == b, path
    # /model_info: the same answer but for what the two servers were given differently
    infos = [httpx.post(server.url + "/model_info", json={}, headers=server.headers, timeout=30).json()
             for server in (bento_server, limited_server)]
    for info in infos:
        info.pop("limits")
        info.pop("prediction_log")
        info["prediction_log_rotation"].pop("path")
    assert infos[0] == infos[1]
    # the same OpenAPI document: the swapped classes keep the generated models' names and fields
    docs = [httpx.get(server.url + "/docs.json", timeout=30).json() for server in (bento_server, limited_server)]
    assert docs[0] == docs[1]
    # a mistake on the columnar route: the same located 400 from both readings
    columns = frame_to_columns(rows.head(2))
    columns["lum"] = [1, 9]
    bad = {"columns": columns, "explian": True}
    fast = httpx.post(bento_server.url + "/predict_columns", json=bad, headers=bento_server.headers, timeout=30)
    own = httpx.post(limited_server.url + "/predict_columns", json=bad, timeout=30)
    assert fast.status_code == own.status_code == 400, (fast.text, own.text)
    assert fast.json() == own.json()
    assert {tuple(d["loc"]) for d in fast.json()["detail"]} >= {("explian",)}, fast.json()
