"""504 when a request has not started its answer within the service's timeout.

Why not BentoML's own ``traffic.timeout`` (its ``TimeoutMiddleware``, BentoML 1.4): it
schedules ``loop.call_later(timeout, ...)`` for every request and never cancels it, so each
answered request leaves a timer, a future and a bound method alive for the whole timeout
(60 s). At 2,000 requests/s per worker that is ~120,000 pending timers, over half a million
objects the garbage collector walks in every full collection: measured in a worker at c=32,
full collections grew from 98 to 289 ms within a minute and the p99 latency with them (26 ms
on a fresh server, 250 ms after a minute of load; docs/serving.md, "Where the time goes").

This middleware is BentoML's (the timeout runs until the answer's first message, a slow
download is not cut, the app runs as its own task so a handler stuck in a thread still gets
its 504 on time) with the timer cancelled as soon as the answer starts or the request ends.
BentoML's configuration cannot turn its middleware off (``traffic.timeout`` must be a number
> 0), so ``replace_bentoml_timeout`` puts this class in its place: BentoML builds it with the
configured ``traffic.timeout`` as before.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from accidents.serving.asgi_answers import send_json

TIMEOUT_ENV = "ACCIDENTS_REQUEST_TIMEOUT_S"
#: Seconds a request may take before its answer starts (BentoML's default traffic timeout).
DEFAULT_TIMEOUT_S = 60.0


def request_timeout_s() -> float:
    """``$ACCIDENTS_REQUEST_TIMEOUT_S``, else 60: the service's ``traffic.timeout``."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError:
        raise ValueError(f"${TIMEOUT_ENV} must be a number of seconds, got {raw!r}") from None
    if not value > 0:
        raise ValueError(f"${TIMEOUT_ENV} must be > 0 seconds, got {raw!r}")
    return value


class RequestTimeoutMiddleware:
    """504 ``{"error": ...}`` if the app has not begun to answer within ``timeout`` seconds.

    BentoML's structure, with the timer cancelled: the app runs as its own task, so the 504
    goes out at the timeout even when the handler sits in a worker thread (BentoML runs sync
    APIs with ``anyio.to_thread.run_sync``, which a cancellation cannot interrupt; the
    abandoned thread runs to its end, as under BentoML's middleware).
    """

    def __init__(self, app: Any, timeout: float) -> None:
        if not timeout > 0:
            raise ValueError(f"request timeout must be > 0 seconds, got {timeout!r}")
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        started = loop.create_future()  # done at the answer's first message or the app's end

        async def answer(message: dict) -> None:
            if not started.done():
                started.set_result(None)
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, answer))
        task.add_done_callback(lambda _: started.done() or started.set_result(None))
        timer = loop.call_later(self.timeout, _expire, started)
        try:
            await started
        except TimeoutError:
            if task.cancel():
                await send_json(send, 504, {"error": f"not able to process the request to {scope['path']} "
                                                     f"in {self.timeout:g} seconds"})
                return
        finally:
            timer.cancel()  # what BentoML's middleware does not do
        await task


def _expire(started: asyncio.Future) -> None:
    if not started.done():
        started.set_exception(TimeoutError())


def replace_bentoml_timeout() -> None:
    """Make BentoML build ``RequestTimeoutMiddleware`` where it built its own timeout middleware.

    BentoML imports the class from ``bentoml._internal.server.http.traffic`` each time it
    assembles a worker's middlewares, so replacing the module's attribute before the app is
    built (the service module is imported first) is enough. If a BentoML release moves the
    class, this fails loudly rather than leaving the leak in place silently.
    """
    from bentoml._internal.server.http import traffic

    global _BENTOML_TIMEOUT_MIDDLEWARE
    if not hasattr(traffic, "TimeoutMiddleware"):
        raise RuntimeError("bentoml._internal.server.http.traffic.TimeoutMiddleware is gone: check whether "
                           "this BentoML release still leaves a timer per request, then drop "
                           "accidents/serving/request_timeout.py")
    if traffic.TimeoutMiddleware is not RequestTimeoutMiddleware:
        _BENTOML_TIMEOUT_MIDDLEWARE = traffic.TimeoutMiddleware
    traffic.TimeoutMiddleware = RequestTimeoutMiddleware  # type: ignore[misc]


_BENTOML_TIMEOUT_MIDDLEWARE: type | None = None


def bentoml_timeout_middleware() -> type:
    """BentoML's own timeout middleware class, replaced or not (tests show its behaviour)."""
    from bentoml._internal.server.http import traffic

    return _BENTOML_TIMEOUT_MIDDLEWARE or traffic.TimeoutMiddleware
