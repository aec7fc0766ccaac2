"""BentoML 1.4 service: P(severe) for a road user in a French injury road accident.

Serves the model exported from the production ZenML model version (ops/bento_export.py)
with no ZenML import. Endpoints (all JSON):

- ``POST /predict``        1..100 road users per request, scored on the event loop by the
                           lean scorer (the online path); ``"explain": true`` adds per-row
                           contributions of the fields (also on the two batch routes).
- ``POST /predict_batch``  1..10,000 road users in one model call (bulk scoring).
- ``POST /predict_columns`` the same batch column-wise (one list per field), validated
                           with numpy instead of one pydantic object per row: the fast
                           bulk path.
- ``POST /model_info``     model version, threshold, metrics, features, training years.
- ``GET /healthz /livez /readyz /metrics`` BentoML's health, readiness and Prometheus metrics.
- ``GET /ui/``             the interactive page (labelled choices, no raw codes).

Each answer carries the probability, the severe/not-severe decision at the model's
threshold (chosen on validation at training time) and the model version; every prediction
is appended to the prediction log read by the monitoring pipeline. When
``ACCIDENTS_API_KEY`` is set, the prediction endpoints need it (``X-API-Key`` or
``Authorization: Bearer``), health and metrics stay open.

Performance choices (docs/serving.md, "Where the time goes"; figures in docs/benchmarks.md):
every route turns validated input into numpy columns and scores them with the lean scorer
(accidents/serving/scoring.py: the saved pipeline's deriver function and fitted trees, no
DataFrame), logs a batch with one vectorised write; the columnar route never creates
per-row Python objects (msgspec parses the lists, numpy checks the rules), and the batch
routes' bodies and every JSON answer go through msgspec rather than BentoML's pydantic/json
round trips (accidents/serving/fast_io.py; ``ACCIDENTS_FAST_IO=0`` restores BentoML's).
"""

from __future__ import annotations

import gc
import hmac
import os
import uuid
from pathlib import Path
from typing import Annotated, Any

import bentoml
import numpy as np
from bentoml.validators import ContentType
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from accidents.constants import BENTO_MODEL_NAME, BENTO_SERVICE_NAME, META_THRESHOLD
from accidents.errors import UserError
from accidents.serving import client_errors, fast_io
from accidents.serving.asgi_answers import send_json
from accidents.serving.coalesce import Coalescer
from accidents.serving.examples import EXAMPLES
from accidents.serving.explain import Explainer
from accidents.serving.keep_alive import KeepAliveLimitMiddleware, max_requests_from_env
from accidents.serving.prediction_log import DEFAULT_LINGER_MS, LogSettings, PredictionLogWriter
from accidents.serving.request_limits import (
    BodySizeLimitMiddleware,
    forbid_unknown_fields,
    max_body_mb,
)
from accidents.serving.request_timeout import replace_bentoml_timeout, request_timeout_s
from accidents.serving.schema import (
    MAX_COLUMN_ROWS,
    RoadUser,
    RoadUserColumns,
    form_spec,
    rows_to_columns,
)
from accidents.serving.scoring import Scorer

WEB_DIR = Path(__file__).resolve().parent / "web"
API_KEY_ENV = "ACCIDENTS_API_KEY"
GC_FREEZE_ENV = "ACCIDENTS_GC_FREEZE"
METRICS_ENV = "ACCIDENTS_METRICS"
TRACING_ENV = "ACCIDENTS_TRACING"
LOG_LINGER_ENV = "ACCIDENTS_PREDICTION_LOG_LINGER_MS"
FAST_IO_ENV = "ACCIDENTS_FAST_IO"
MAX_ROWS_PREDICT = 100
MAX_ROWS_BATCH = MAX_COLUMN_ROWS


class BentoArgs(BaseModel):
    """Build/serve arguments: ``bentoml build --arg model_tag=...`` pins the exported model.

    ``run.py deploy`` also bakes in the profile's ``serving`` section (ops/bento_export.py):
    the absolute prediction-log path of the project, its rotation, and the body size limit;
    the ``ACCIDENTS_*`` environment variables override them when the Bento is served
    (docs/serving.md). Empty/0 = the default.
    """

    model_tag: str = f"{BENTO_MODEL_NAME}:latest"
    prediction_log: str = ""
    prediction_log_max_mb: float = 0
    prediction_log_rotate: str = ""
    prediction_log_keep: int = 0
    prediction_log_compress: bool = False
    max_body_mb: float = 0


ARGS = bentoml.use_arguments(BentoArgs)
replace_bentoml_timeout()  # BentoML's own leaves a timer per request alive for the whole timeout
MAX_BODY_MB = max_body_mb(ARGS.max_body_mb)
JSON = ContentType("application/json")  # a fixed media type spares BentoML a schema walk per response


class Contribution(BaseModel):
    """How much one field the user gave moved the score (see ``Explanation``)."""

    field: str = Field(description="BAAC field (a derived feature is reported under the field it comes from).")
    label: str = Field(description="The field's meaning, as the page shows it.")
    value: Any = Field(description="The value given for this road user (null: not recorded).")
    contribution: float = Field(description="> 0 raised the risk, < 0 lowered it (in the explanation's units).")


class Explanation(BaseModel):
    """Why the score is what it is: ``base + sum(top contributions) + rest`` = the model's margin.

    XGBoost: TreeSHAP values in log-odds (``sigmoid(margin)`` = probability); RandomForest:
    decision-path contributions in probability (their sum is the probability).
    """

    units: str = Field(description="'log-odds' (XGBoost, TreeSHAP) or 'probability' (RandomForest, decision paths).")
    base: float = Field(description="The model's average output before any field is known.")
    top: list[Contribution] = Field(description="The largest contributions by size, largest first.")
    rest: float = Field(description="Sum of the contributions of all other fields.")


class Prediction(BaseModel):
    """The model's answer for one road user."""

    probability: float = Field(description="Probability that the road user is killed or hospitalised (BAAC grav 2 or 3).")
    severe: bool = Field(description="probability >= threshold: predicted killed or hospitalised.")
    threshold: float = Field(description="Decision threshold of this model version (chosen on validation data).")
    model_version: str = Field(description="ZenML model version that produced the answer.")
    prediction_id: str = Field(description="Id of this prediction in the prediction log (request_id there).")
    explanation: Explanation | None = Field(None, description='What raised or lowered the risk (with "explain": true).')


class BatchPrediction(BaseModel):
    """The model's answers for a batch, column-wise (row i of each list = input row i)."""

    model_version: str = Field(description="ZenML model version that produced the answers.")
    threshold: float = Field(description="Decision threshold of this model version.")
    request_id: str = Field(description="Prediction ids in the log are '<request_id>-<row index>'.")
    probability: list[float] = Field(description="P(severe) per input row.")
    severe: list[bool] = Field(description="probability >= threshold, per input row.")
    explanations: list[Explanation] | None = Field(None, description="Per input row, with explain=true.")


class ModelInfo(BaseModel):
    """Which model answers, and how it was trained and evaluated."""

    service: str
    model_tag: str = Field(description="BentoML model-store tag.")
    zenml_model: str
    model_version: str
    threshold: float
    metrics: dict[str, Any] = Field(description="Test metrics logged at training time.")
    feature_columns: list[str]
    data_years: list[int]
    prediction_log: str = Field(description="Absolute path of the prediction log this worker writes.")
    prediction_log_rotation: dict[str, Any] = Field(
        description="When the log is rotated (max_mb, rotate) and how many rotated files are kept.")
    limits: dict[str, Any] = Field(description="Request limits: body size (MB) and rows per endpoint.")


class ApiKeyMiddleware:
    """401 on the prediction endpoints unless the request carries the configured API key.

    Why an ASGI middleware: it runs before any body is read or validated, costs one
    dictionary lookup per request when no key is configured, and leaves the health,
    readiness, metrics and page routes open for probes and scrapers.
    """

    def __init__(self, app: Any, protected: tuple[str, ...] = ()) -> None:
        self.app = app
        self.protected = frozenset(protected)
        key = os.environ.get(API_KEY_ENV, "")
        self.key = key.encode() if key else None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if self.key is None or scope["type"] != "http" or scope["path"] not in self.protected:
            await self.app(scope, receive, send)
            return
        given = b""
        for name, value in scope["headers"]:
            if name == b"x-api-key":
                given = value
            elif name == b"authorization" and value[:7].lower() == b"bearer ":
                given = value[7:]
        if given and hmac.compare_digest(given, self.key):
            await self.app(scope, receive, send)
            return
        await send_json(send, 401, {"error": f"missing or wrong API key for {scope['path']}: send the key "
                                             f"of ${API_KEY_ENV} as header 'X-API-Key' or "
                                             "'Authorization: Bearer <key>'"},
                        ((b"www-authenticate", b'Bearer realm="accidents"'),))


class JsonOnlyMiddleware:
    """415 for an API request whose body is not declared as JSON.

    Why: the API takes JSON only, and BentoML would try its multipart or pickle decoders
    on other content types (a multipart type without boundary ends in a 500 there).
    """

    def __init__(self, app: Any, protected: tuple[str, ...] = ()) -> None:
        self.app = app
        self.protected = frozenset(protected)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in self.protected:
            for name, value in scope["headers"]:
                if name == b"content-type":
                    media = value.split(b";", 1)[0].strip().lower()
                    if media != b"application/json":
                        shown = value.decode("latin-1")[:80]
                        await send_json(send, 415, {"error": f"Content-Type {shown!r} is not supported "
                                                             f"by {scope['path']}: send application/json"})
                        return
                    break
        await self.app(scope, receive, send)


def tracing_config() -> dict[str, Any]:
    """BentoML's OpenTelemetry middleware, off for every route unless ``ACCIDENTS_TRACING=1``.

    Why: BentoML 1.4 always wraps requests in OpenTelemetry's ASGI middleware (a server span
    plus one span per ASGI receive/send), even with no exporter configured, where the spans
    go nowhere; its ``tracing.excluded_urls`` setting is the only switch. Measured at c=32:
    see docs/serving.md ("Where the time goes"). With ``ACCIDENTS_TRACING=1`` BentoML's
    defaults apply (configure an exporter with ``BENTOML_CONFIG``, BentoML's tracing docs).
    """
    return {} if os.environ.get(TRACING_ENV, "0") == "1" else {"excluded_urls": [".*"]}


_COUNTERS: dict[str, Any] = {}


def _prediction_counter() -> Any:
    """``accidents_predictions_total{severe, model_version}``: rows scored, by decision.

    Created in the worker (not at import) so prometheus_client sees the multiprocess
    directory BentoML sets at worker start; the Grafana "prediction share" panel reads it.
    """
    if "predictions" not in _COUNTERS:
        import prometheus_client

        _COUNTERS["predictions"] = prometheus_client.Counter(
            "accidents_predictions", "Road users scored, by decision at the model threshold.",
            ["severe", "model_version"])
    return _COUNTERS["predictions"]


#: The page's state, filled by the service instance of this worker process.
_PAGE_STATE: dict[str, Any] = {}


async def _page(_: Request) -> Response:
    return FileResponse(WEB_DIR / "index.html", media_type="text/html")


async def _form(_: Request) -> Response:
    examples = [{"name": name, "label": label, "values": values}
                for name, (label, values) in EXAMPLES.items()]
    return JSONResponse({"groups": form_spec(), "model": _PAGE_STATE.get("info", {}),
                         "examples": examples})


ui_app = Starlette(routes=[
    Route("/", _page),
    Route("/form.json", _form),
    Mount("/static", StaticFiles(directory=WEB_DIR), name="static"),
])


@bentoml.asgi_app(ui_app, path="/ui", name="ui")
@bentoml.service(
    name=BENTO_SERVICE_NAME,
    workers=int(os.environ.get("ACCIDENTS_WORKERS", "2")),
    traffic={"timeout": request_timeout_s()},  # run by our RequestTimeoutMiddleware (replace_bentoml_timeout)
    logging={"access": {"enabled": os.environ.get("ACCIDENTS_ACCESS_LOG", "0") == "1"}},
    metrics={"enabled": os.environ.get(METRICS_ENV, "1") == "1", "namespace": "accidents"},
    tracing=tracing_config(),
)
class RoadAccidentSeverity:
    """Severity of a road user in a French injury road accident (ONISR BAAC codes)."""

    bento_model = bentoml.models.BentoModel(ARGS.model_tag)

    def __init__(self) -> None:
        stored = self.bento_model
        self.model = bentoml.sklearn.load_model(stored)
        # The lean path: the saved pipeline's own deriver function and fitted trees, called
        # on validated numpy columns (accidents/serving/scoring.py); the pipeline stays the
        # one saved artifact and the fallback for other classifiers.
        self.scorer = Scorer(self.model)
        self.explainer = Explainer(self.scorer)
        self.coalescer = Coalescer(self._score)
        # The pipeline (the fallback for other classifiers) runs one thread: the lean scorer
        # chooses its own XGBoost threads per call (scoring.py). Predictions are unchanged.
        if hasattr(self.model, "named_steps") and "classifier" in self.model.named_steps:
            clf = self.model.named_steps["classifier"]
            if "n_jobs" in clf.get_params():
                clf.set_params(n_jobs=1)
        meta = dict(stored.info.metadata)
        if meta.get(META_THRESHOLD) is None:  # never serve at an invented 0.5
            raise UserError(f"BentoML model {stored.tag} has no {META_THRESHOLD!r} metadata: "
                            "export the model with `.venv/bin/python run.py deploy`")
        self.threshold = float(meta[META_THRESHOLD])
        self.version = str(meta.get("zenml_version") or stored.tag.version)
        self.log = PredictionLogWriter(settings=LogSettings.resolve(
            ARGS.prediction_log, ARGS.prediction_log_max_mb, ARGS.prediction_log_rotate,
            ARGS.prediction_log_keep, ARGS.prediction_log_compress),
            linger=float(os.environ.get(LOG_LINGER_ENV, DEFAULT_LINGER_MS)) / 1000)
        client_errors.install()
        self.info = ModelInfo(
            service=BENTO_SERVICE_NAME,
            model_tag=str(stored.tag),
            zenml_model=str(meta.get("zenml_model", "")),
            model_version=self.version,
            threshold=self.threshold,
            metrics=dict(meta.get("metrics") or {}),
            feature_columns=list(meta.get("feature_columns") or []),
            data_years=[int(y) for y in meta.get("data_years") or []],
            prediction_log=str(self.log.path),
            prediction_log_rotation=self.log.settings.describe(),
            limits={"max_body_mb": MAX_BODY_MB, "max_rows_predict": MAX_ROWS_PREDICT,
                    "max_rows_batch": MAX_ROWS_BATCH},
        )
        _PAGE_STATE["info"] = self.info.model_dump()
        self.predictions = _prediction_counter()
        if os.environ.get(GC_FREEZE_ENV, "1") == "1":
            # Move everything loaded so far (BentoML, pandas, sklearn, the model: hundreds of
            # thousands of objects) out of the collector's reach, so a full collection no
            # longer walks them on the request path (see README.md, "Serving", tail latency).
            gc.collect()
            gc.freeze()

    @bentoml.on_shutdown
    def _close_log(self) -> None:
        self.log.close()

    def _score(self, columns: dict[str, np.ndarray],
               raw_json: dict[str, Any] | None = None) -> tuple[np.ndarray, np.ndarray, str]:
        """One model call on validated columns + one log write; returns (probability, severe, request id).

        ``raw_json``: the request's own JSON of some columns, which the log writes as it is.
        """
        proba = self.scorer.proba(columns)
        severe = proba >= self.threshold
        request_id = uuid.uuid4().hex
        n = len(proba)
        self.log.write(columns, proba, severe, request_id, self.version,  # rows: '<request_id>-<i>'
                       raw_inputs=raw_json)
        n_severe = int(severe.sum())
        self.predictions.labels(severe="true", model_version=self.version).inc(n_severe)
        self.predictions.labels(severe="false", model_version=self.version).inc(n - n_severe)
        return proba, severe, request_id

    @bentoml.api
    async def predict(
        self,
        road_users: Annotated[list[RoadUser], Field(min_length=1, max_length=MAX_ROWS_PREDICT,
                                                    description="1 to 100 road users (usually one).")],
        explain: Annotated[bool, Field(description="Also return what raised or lowered each risk.")] = False,
    ) -> Annotated[list[Prediction], JSON]:
        """P(severe) and the decision for each road user (optionally explained).

        ``async`` on purpose: the lean scorer takes well under a millisecond for a few rows,
        less than handing the call to a thread would cost, so it runs on the worker's event
        loop; requests reaching it in the same loop turn are scored in one call
        (``accidents/serving/coalesce.py``: BentoML's adaptive batching without its wait).
        """
        columns = rows_to_columns(road_users)
        proba, severe, request_id, offset = await self.coalescer.score(columns)
        version, threshold = self.version, self.threshold
        answers = [
            {"probability": p, "severe": s, "threshold": threshold, "model_version": version,
             "prediction_id": f"{request_id}-{offset + i}", "explanation": None}
            for i, (p, s) in enumerate(zip(proba.tolist(), severe.tolist(), strict=True))
        ]
        if explain:
            for answer, explanation in zip(answers, self._explain(columns), strict=True):
                answer["explanation"] = explanation
        return answers

    def _explain(self, columns: dict[str, np.ndarray]) -> list[dict[str, Any] | None]:
        explanations = self.explainer.explain(columns)
        return explanations if explanations is not None else [None] * len(columns["an"])

    def _batch_answer(self, columns: dict[str, np.ndarray], explain: bool,
                      raw_json: dict[str, Any] | None = None) -> BatchPrediction:
        proba, severe, request_id = self._score(columns, raw_json)
        return BatchPrediction.model_construct(
            model_version=self.version, threshold=self.threshold, request_id=request_id,
            probability=proba.tolist(), severe=severe.tolist(),
            explanations=self._explain(columns) if explain else None)

    @bentoml.api
    def predict_batch(
        self,
        road_users: Annotated[list[RoadUser], Field(min_length=1, max_length=MAX_ROWS_BATCH,
                                                    description="1 to 10,000 road users.")],
        explain: Annotated[bool, Field(description="Also return what raised or lowered each risk.")] = False,
    ) -> Annotated[BatchPrediction, JSON]:
        """P(severe) and the decision for a batch of road users, in one model call."""
        return self._batch_answer(rows_to_columns(road_users), explain)

    @bentoml.api
    def predict_columns(
        self,
        columns: Annotated[RoadUserColumns, Field(description=(
            "1 to 10,000 road users column-wise: one list per field, row i of every list "
            "describing road user i; optional fields may be omitted (not recorded)."))],
        explain: Annotated[bool, Field(description="Also return what raised or lowered each risk.")] = False,
    ) -> Annotated[BatchPrediction, JSON]:
        """The batch path without per-row objects: same rules and answer as /predict_batch.

        The lists are parsed by msgspec and checked with numpy while the request is read
        (accidents/serving/fast_io.py; a body it does not take as it stands goes to
        pydantic-core, whose errors name the field, the first offending row and its value),
        which also builds the model's inputs once.
        """
        return self._batch_answer(columns.arrays(), explain, columns.raw_json())

    @bentoml.api
    def model_info(self) -> ModelInfo:
        """The model behind the predictions: version, threshold, metrics, features, years."""
        return self.info


_API_PATHS = tuple(method.route for method in RoadAccidentSeverity.apis.values())
# Starlette makes the first-added middleware the outermost: the API key is checked first.
RoadAccidentSeverity.add_asgi_middleware(
    KeepAliveLimitMiddleware, max_requests=max_requests_from_env())
RoadAccidentSeverity.add_asgi_middleware(ApiKeyMiddleware, protected=_API_PATHS)
RoadAccidentSeverity.add_asgi_middleware(BodySizeLimitMiddleware, max_mb=MAX_BODY_MB)
RoadAccidentSeverity.add_asgi_middleware(JsonOnlyMiddleware, protected=_API_PATHS)
forbid_unknown_fields(RoadAccidentSeverity)
# After forbid_unknown_fields: the fast input class inherits the rebuilt model's extra="forbid".
if os.environ.get(FAST_IO_ENV, "1") == "1":  # "0": BentoML's own JSON in and out (to compare)
    fast_io.install(RoadAccidentSeverity, columns_api="predict_columns",
                    rows_apis={"predict_batch": MAX_ROWS_BATCH},  # /predict: few rows, pydantic is quicker
                    json_apis=("predict", "predict_batch", "predict_columns", "model_info"))
