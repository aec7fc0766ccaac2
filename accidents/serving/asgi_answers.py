"""One way for the service's ASGI middlewares to answer a request themselves: a JSON body.

Why: the API key (401), content type (415), body size (413) and timeout (504) checks answer
before or instead of BentoML's routes, over raw ASGI messages; each answer is a JSON object
with its length declared, so clients that read by ``Content-Length`` (not chunks) get it whole.
"""

from __future__ import annotations

import json
from typing import Any


async def send_json(send: Any, status: int, payload: dict[str, Any],
                    headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    """Send ``payload`` as the whole answer: status, JSON content type and length, extra headers."""
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), *headers,
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
