"""Recycle a keep-alive connection when its worker is shared: an ASGI middleware.

Why: the workers share one listening socket and each accepts greedily, so connections that
open together (a load balancer's, a load generator's) can all land on one worker while the
other idles. Closing a connection every ``max_requests`` requests (nginx's
``keepalive_requests`` idea) lets the client reconnect, and the new connection may land
elsewhere: at 32 connections this spread them over both workers.

But a reconnect lands on a random worker. Recycling every connection also broke up a
balanced spread: with 2 connections on 2 workers, both on one worker about half the time
(1,000-row batches: 253k rows/s recycling every 25 requests, 285k not, same CPU per request;
docs/serving.md).
So a connection is only recycled when its worker was serving another request at the same
time during its last ``max_requests`` requests: a worker that has a connection to itself
keeps it, a worker holding several busy connections hands one back to the lottery.
"""

from __future__ import annotations

from typing import Any

from accidents.serving.env_settings import whole_number_setting

KEEPALIVE_ENV = "ACCIDENTS_KEEPALIVE_REQUESTS"
#: Requests per shared connection before it is asked to reconnect. Why 200, not nginx's
#: usual 100 or the 25 used before: a reconnect costs the server and the client about a
#: request's worth of CPU or more when requests are single rows (~0.4 ms), so at 32
#: connections one in 25 cost ~10 %; 200 still re-spreads a busy connection every second or
#: two. Three interleaved runs (docs/serving.md, "Keep-alive recycling"): c=32 4,528 ->
#: 5,015 req/s, c=8 3,133 -> 3,300, 1,000-row batches unchanged (276k -> 284k).
DEFAULT_MAX_REQUESTS = 200
#: Forget connection counts beyond this many clients (connections that went away are not seen).
MAX_TRACKED = 50_000


def max_requests_from_env() -> int:
    """``$ACCIDENTS_KEEPALIVE_REQUESTS``, else ``DEFAULT_MAX_REQUESTS`` (0: never recycle)."""
    return whole_number_setting(KEEPALIVE_ENV, DEFAULT_MAX_REQUESTS, 0, "requests",
                                " (0: never ask a client to reconnect)")


class KeepAliveLimitMiddleware:
    """Answer ``Connection: close`` after ``max_requests`` requests on one connection, if the
    worker served another request concurrently with one of them; ``max_requests <= 0``: never.
    """

    def __init__(self, app: Any, max_requests: int = DEFAULT_MAX_REQUESTS) -> None:
        self.app = app
        self.max_requests = max_requests
        self.in_flight = 0
        #: client (host, port) -> [requests on this connection since the last check,
        #: whether another request was in flight when one of them started]
        self._served: dict[tuple, list] = {}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        client = scope.get("client")
        if scope["type"] != "http" or not client or self.max_requests <= 0:
            await self.app(scope, receive, send)
            return
        key = tuple(client)
        state = self._served.get(key)
        if state is None:
            if len(self._served) > MAX_TRACKED:
                self._served.clear()
            state = self._served[key] = [0, False]
        state[0] += 1
        state[1] = state[1] or self.in_flight > 0
        close = False
        if state[0] >= self.max_requests:
            close = state[1]
            state[0], state[1] = 0, False
            if close:
                del self._served[key]
        self.in_flight += 1
        try:
            await self.app(scope, receive, _closing(send) if close else send)
        finally:
            self.in_flight -= 1


def _closing(send: Any) -> Any:
    """``send`` with ``Connection: close`` added to the response's headers."""

    async def closing_send(message: dict) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
        await send(message)

    return closing_send
