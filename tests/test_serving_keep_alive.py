"""Keep-alive recycling (accidents/serving/keep_alive.py) at the ASGI level: a connection is
closed after ``max_requests`` requests only if its worker served another request at the same
time; a connection alone on its worker is kept. Over HTTP: tests/test_serving_http.py."""

from __future__ import annotations

import asyncio

import pytest

from accidents.serving.keep_alive import (
    DEFAULT_MAX_REQUESTS,
    KEEPALIVE_ENV,
    KeepAliveLimitMiddleware,
    max_requests_from_env,
)


class _App:
    """An ASGI app answering 200 once ``release`` is set (immediately when it is None)."""

    def __init__(self) -> None:
        self.release: asyncio.Event | None = None

    async def __call__(self, scope: dict, receive: object, send: object) -> None:
        if self.release is not None:
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]})
        await send({"type": "http.response.body", "body": b"{}"})


async def _request(middleware: KeepAliveLimitMiddleware, port: int) -> bool:
    """One request from client port ``port``; True if the answer says ``Connection: close``."""
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "client": ("127.0.0.1", port)}
    await middleware(scope, None, send)
    return (b"connection", b"close") in sent[0]["headers"]


def test_a_connection_alone_on_its_worker_is_kept() -> None:
    middleware = KeepAliveLimitMiddleware(_App(), max_requests=25)

    async def run() -> list[bool]:
        return [await _request(middleware, 5000) for _ in range(100)]

    assert asyncio.run(run()) == [False] * 100


def test_connections_sharing_a_worker_are_recycled_after_max_requests() -> None:
    app = _App()
    middleware = KeepAliveLimitMiddleware(app, max_requests=25)

    async def run() -> tuple[list[bool], list[bool]]:
        a: list[bool] = []
        b: list[bool] = []
        for i in range(25):  # each round: both requests in flight together, either first
            app.release = asyncio.Event()
            ports = (5000, 5001) if i % 2 else (5001, 5000)
            tasks = {port: asyncio.create_task(_request(middleware, port)) for port in ports}
            await asyncio.sleep(0)
            app.release.set()
            a.append(await tasks[5000])
            b.append(await tasks[5001])
        return a, b

    a, b = asyncio.run(run())
    assert a == b == [False] * 24 + [True]
    assert middleware.in_flight == 0


def test_one_overlap_is_enough_and_the_count_starts_again() -> None:
    app = _App()
    middleware = KeepAliveLimitMiddleware(app, max_requests=5)

    async def run() -> list[bool]:
        closes = [await _request(middleware, 5000) for _ in range(5)]  # alone: kept, count reset
        held = app.release = asyncio.Event()
        other = asyncio.create_task(_request(middleware, 5001))
        await asyncio.sleep(0)  # 5001's request is now in flight, held
        app.release = None
        closes.append(await _request(middleware, 5000))  # started beside 5001's request
        held.set()
        assert await other is False
        closes += [await _request(middleware, 5000) for _ in range(4)]  # alone again
        return closes

    assert asyncio.run(run()) == [False] * 9 + [True]


def test_zero_turns_recycling_off() -> None:
    app = _App()
    middleware = KeepAliveLimitMiddleware(app, max_requests=0)

    async def run() -> list[bool]:
        held = app.release = asyncio.Event()
        other = asyncio.create_task(_request(middleware, 5001))
        await asyncio.sleep(0)
        app.release = None
        closes = [await _request(middleware, 5000) for _ in range(50)]
        held.set()
        closes.append(await other)
        return closes

    assert asyncio.run(run()) == [False] * 51


def test_the_setting_defaults_to_200_and_refuses_what_is_not_a_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEEPALIVE_ENV, raising=False)
    assert max_requests_from_env() == DEFAULT_MAX_REQUESTS == 200
    assert KeepAliveLimitMiddleware(_App()).max_requests == 200
    monkeypatch.setenv(KEEPALIVE_ENV, "0")
    assert max_requests_from_env() == 0
    for bad in ("-1", "ten", "2.5"):
        monkeypatch.setenv(KEEPALIVE_ENV, bad)
        with pytest.raises(ValueError, match=rf"\$ACCIDENTS_KEEPALIVE_REQUESTS must be a whole number.*{bad!r}"):
            max_requests_from_env()
