"""What a request to the service may be: a body size limit and no unknown top-level field.

Why a size limit enforced in an ASGI middleware: BentoML reads the whole body into memory
and parses it before any handler runs, so without a limit any key holder could make a
worker hold a body of any size (a 300 MB body was read, parsed and answered 200). The
middleware sits in front of every route: a declared ``Content-Length`` over the limit is
refused before a byte of the body is read; a body without a length (chunked) is counted
while it streams and refused as soon as it passes the limit, so a worker never holds more
than the limit (plus one chunk).

Why 16 MB by default: the largest legal request is a batch of 10,000 road users
(``schema.MAX_COLUMN_ROWS``) with every field at its widest legal value: 5.2 MB as compact
JSON, 7.6 MB pretty-printed with a 2-space indent (tests/test_serving_limits.py measures
it). 16 MB leaves a 2x margin over the pretty-printed batch.

Why unknown top-level fields are refused: unknown fields inside a road user are refused
(a typo such as ``"secu"`` must not silently become "not recorded"); a typo at the top
level (``"road_user"``, ``"explian"``) deserves the same 400, and an unread field was also
the way to smuggle a huge body past the row validation.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from accidents.serving.asgi_answers import send_json

MAX_BODY_ENV = "ACCIDENTS_MAX_BODY_MB"
DEFAULT_MAX_BODY_MB = 16.0
MB = 1024 * 1024


class RequestTooLarge(Exception):
    """The body grew past the limit while streaming (raised from ``receive``)."""

    status = 413


def max_body_mb(configured: float | None = None) -> float:
    """The limit in MB: ``$ACCIDENTS_MAX_BODY_MB``, else ``configured`` (the Bento's), else 16."""
    raw = os.environ.get(MAX_BODY_ENV, "").strip()
    if raw:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"${MAX_BODY_ENV} must be a number of megabytes, got {raw!r}") from None
    else:
        value = float(configured or DEFAULT_MAX_BODY_MB)
    if not value > 0:
        raise ValueError(f"the request body limit must be > 0 MB, got {value!r} (${MAX_BODY_ENV})")
    return value


def too_large_message(path: str, limit_mb: float) -> str:
    """The 413 message: the limit, and what fits in it."""
    return (f"request body too large for {path}: the limit is {limit_mb:g} MB "
            f"({int(limit_mb * MB):,} bytes; a batch of 10,000 road users needs at most ~8 MB). "
            f"Split the batch, or raise the limit with ${MAX_BODY_ENV} on the server")


class BodySizeLimitMiddleware:
    """413 for any request whose body is larger than ``max_mb``, before it is held in memory."""

    def __init__(self, app: Any, max_mb: float = DEFAULT_MAX_BODY_MB) -> None:
        self.app = app
        self.max_mb = max_mb
        self.max_bytes = int(max_mb * MB)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
                break
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                await self._refuse(scope, send)
                return
            # the HTTP server delivers exactly the declared length, already checked
            await self.app(scope, receive, send)
            return
        await self._streamed(scope, receive, send)

    async def _streamed(self, scope: dict, receive: Any, send: Any) -> None:
        """A body of unknown length: count it as the app reads it, stop at the limit."""
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> dict:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise RequestTooLarge(too_large_message(scope["path"], self.max_mb))
            return message

        async def guarded_send(message: dict) -> None:
            nonlocal started
            if exceeded:  # the app answered the exception (BentoML turns it into a 500): drop it
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(RequestTooLarge):  # answered below, once
            await self.app(scope, counting_receive, guarded_send)
        if exceeded and not started:
            await self._refuse(scope, send)

    async def _refuse(self, scope: dict, send: Any) -> None:
        # close the connection: the rest of the body is never read
        await send_json(send, 413, {"error": too_large_message(scope["path"], self.max_mb),
                                    "limit_bytes": self.max_bytes}, ((b"connection", b"close"),))


def forbid_unknown_fields(service: Any) -> None:
    """Make every API's request model refuse unknown top-level fields (400, ``extra_forbidden``).

    BentoML builds each API's input model from the method signature with pydantic's default
    (unknown fields ignored); the models are rebuilt here with ``extra="forbid"``, so the
    error has the same shape as an unknown field inside a road user.
    """
    for method in service.apis.values():
        spec = method.input_spec
        if getattr(spec, "__root_input__", False):
            continue  # a bare body (no top-level object): nothing to forbid
        spec.model_config = {**spec.model_config, "extra": "forbid"}
        spec.model_rebuild(force=True)
