"""The request timeout middleware (accidents/serving/request_timeout.py), on a real event loop.

Why these tests: BentoML 1.4's own timeout middleware leaves one timer per answered request
scheduled for the whole timeout, which made full garbage collections and the p99 latency
grow with the request rate (docs/serving.md). The first test shows that behaviour of
BentoML's class (when a BentoML release fixes it, it fails and the replacement can go);
the others show ours cancels its timer, answers 504 when the answer has not started in
time, and never cuts an answer that has. Over HTTP: tests/test_serving_limits.py.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from bentoml._internal.server.http import traffic

from accidents.serving.request_timeout import (
    TIMEOUT_ENV,
    RequestTimeoutMiddleware,
    bentoml_timeout_middleware,
    replace_bentoml_timeout,
    request_timeout_s,
)

SCOPE = {"type": "http", "path": "/predict", "method": "POST", "headers": []}


async def _ok(scope: dict, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def _pending_timers_after(middleware_cls: type, requests: int) -> int:
    """Timers still scheduled on the loop after ``requests`` answered requests."""

    async def run() -> int:
        app = middleware_cls(_ok, timeout=60)
        sent: list[dict] = []

        async def send(message: dict) -> None:
            sent.append(message)

        for _ in range(requests):
            await app(dict(SCOPE), None, send)
        assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [200] * requests
        loop = asyncio.get_running_loop()
        return sum(not handle.cancelled() for handle in loop._scheduled)  # type: ignore[attr-defined]

    return asyncio.run(run())


def test_bentoml_timeout_middleware_leaves_a_timer_per_request() -> None:
    assert _pending_timers_after(bentoml_timeout_middleware(), 50) == 50


def test_ours_leaves_no_timer() -> None:
    assert _pending_timers_after(RequestTimeoutMiddleware, 50) == 0


def _call(app: Any) -> tuple[list[dict], BaseException | None]:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def run() -> None:
        await RequestTimeoutMiddleware(app, timeout=0.05)(dict(SCOPE), None, send)

    try:
        asyncio.run(run())
    except BaseException as exc:  # noqa: BLE001 - returned to the test to assert on
        return sent, exc
    return sent, None


def test_a_request_not_answered_in_time_gets_504_naming_the_route() -> None:
    async def slow(scope: dict, receive: Any, send: Any) -> None:
        await asyncio.sleep(5)
        await _ok(scope, receive, send)

    sent, error = _call(slow)
    assert error is None
    body = sent[1]["body"]
    assert sent[0] == {"type": "http.response.start", "status": 504,
                       "headers": [(b"content-type", b"application/json"),
                                   (b"content-length", str(len(body)).encode())]}
    assert json.loads(body) == {"error": "not able to process the request to /predict in 0.05 seconds"}


def test_a_handler_stuck_in_a_thread_gets_its_504_on_time() -> None:
    """BentoML runs sync APIs in a thread that a cancellation cannot stop: the 504 must not wait for it."""
    import time

    import anyio.to_thread

    async def sync_api(scope: dict, receive: Any, send: Any) -> None:
        await anyio.to_thread.run_sync(time.sleep, 2.0)
        await _ok(scope, receive, send)

    sent_at: list[tuple[float, dict]] = []

    async def send(message: dict) -> None:
        sent_at.append((time.monotonic(), message))

    async def run() -> float:
        begin = time.monotonic()
        await RequestTimeoutMiddleware(sync_api, timeout=0.05)(dict(SCOPE), None, send)
        return begin

    begin = asyncio.run(run())  # returns once the abandoned thread is done (the loop's shutdown)
    first_at, first = sent_at[0]
    assert first["status"] == 504 and first_at - begin < 1.0  # long before the thread's 2 s


def test_an_answer_that_has_started_is_not_cut() -> None:
    async def slow_body(scope: dict, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.2)  # four times the timeout, after the answer started
        await send({"type": "http.response.body", "body": b"late but whole"})

    sent, error = _call(slow_body)
    assert error is None
    assert [m.get("status", m.get("body")) for m in sent] == [200, b"late but whole"]


def test_errors_of_the_app_pass_through() -> None:
    async def broken(scope: dict, receive: Any, send: Any) -> None:
        raise KeyError("boom")

    sent, error = _call(broken)
    assert isinstance(error, KeyError) and sent == []


def test_replacement_is_what_bentoml_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(traffic, "TimeoutMiddleware", traffic.TimeoutMiddleware)  # restored after the test
    replace_bentoml_timeout()
    from bentoml._internal.server.base_app import BaseAppFactory

    class Factory(BaseAppFactory):
        name = "probe"

        def __init__(self) -> None:
            super().__init__(timeout=7, max_concurrency=None)

    built = [(m.cls, m.kwargs) for m in Factory().middlewares]
    assert built == [(RequestTimeoutMiddleware, {"timeout": 7})]


@pytest.mark.parametrize(("raw", "expected"), [("", 60.0), ("2.5", 2.5)])
def test_timeout_setting(monkeypatch: pytest.MonkeyPatch, raw: str, expected: float) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, raw)
    assert request_timeout_s() == expected


@pytest.mark.parametrize("raw", ["soon", "0", "-3"])
def test_bad_timeout_setting_is_named(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, raw)
    with pytest.raises(ValueError, match=rf"\$ACCIDENTS_REQUEST_TIMEOUT_S must be .*{raw}"):
        request_timeout_s()
