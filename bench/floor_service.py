"""The HTTP floor of the serving benchmark: BentoML's server with no work behind the route.

    bentoml serve bench.floor_service:HttpFloor      # started by bench/bench_serving.py

Why: issue 13 asks whether the batch targets are reachable with BentoML's own HTTP layer.
This service runs the same server stack as the product's Bento (uvicorn, BentoML's
middlewares, 2 workers, tracing off, the service's timeout middleware) and answers
``/floor/predict_columns`` by reading the whole body and returning a canned answer of the
same shape and size as the Bento's (1,000 probabilities and decisions): no JSON parsing, no
validation, no model, no log. What one request costs the machine here is what the Bento's
requests cost before any of its own work (bench_serving.py prints both).
"""

from __future__ import annotations

import json

import bentoml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accidents.serving.request_timeout import replace_bentoml_timeout

ROWS = 1000
_ANSWER = json.dumps({"model_version": "floor", "threshold": 0.5, "request_id": "0" * 32,
                      "probability": [0.123456789012345] * ROWS, "severe": [False] * ROWS}).encode()


async def _predict_columns(request: Request) -> Response:
    await request.body()
    return Response(_ANSWER, media_type="application/json")


floor_app = Starlette(routes=[Route("/predict_columns", _predict_columns, methods=["POST"])])
replace_bentoml_timeout()


@bentoml.asgi_app(floor_app, path="/floor")
@bentoml.service(name="http_floor", workers=2, traffic={"timeout": 60},
                 logging={"access": {"enabled": False}}, tracing={"excluded_urls": [".*"]})
class HttpFloor:
    """No model: the server stack only."""

    @bentoml.api
    def ready(self) -> str:
        """A route of BentoML's own, so the service is a valid BentoML service."""
        return "ok"
