"""The Bento over real HTTP: predictions equal the model's own (row and columnar input),
bad input -> 4xx naming the field (and row), API key, health, metrics, model info, one log
record per prediction."""

from __future__ import annotations

import asyncio
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pandas as pd
import pytest

from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.serving.prediction_log import read_prediction_log
from accidents.serving.schema import FIELD_SPECS, frame_to_columns, frame_to_records
from tests.fixtures.serving import (
    BENTOML,
    MINIMAL_ROAD_USER,
    BentoServer,
    ExportedBento,
    bento_env,
    request_count,
    wait_for_log_records,
)

pytestmark = pytest.mark.service

TOL = 1e-9


def _expected(bento: ExportedBento, rows: pd.DataFrame) -> np.ndarray:
    """The model object's own P(severe) for these rows (no serving code involved)."""
    return bento.model.predict_proba(rows[list(MODEL_INPUT_COLUMNS)])[:, 1]


def _post(server: BentoServer, path: str, payload: object, **kw: object) -> httpx.Response:
    return httpx.post(server.url + path, json=payload, headers=server.headers, timeout=60, **kw)


@pytest.fixture(scope="module")
def sample_rows(serving_bento: ExportedBento) -> pd.DataFrame:
    """Varied rows of the synthetic feature table (severe and not, several vehicle kinds)."""
    users = serving_bento.users
    picked = pd.concat([users[users["severe"] == 1].head(15), users[users["severe"] == 0].head(15),
                        users.sample(200, random_state=1)])
    return picked.reset_index(drop=True)


def test_single_row_predictions_equal_the_model(bento_server: BentoServer, serving_bento: ExportedBento,
                                                sample_rows: pd.DataFrame) -> None:
    rows = sample_rows.head(30)
    expected = _expected(serving_bento, rows)
    for i, record in enumerate(frame_to_records(rows)):
        resp = _post(bento_server, "/predict", {"road_users": [record]})
        assert resp.status_code == 200, resp.text
        (answer,) = resp.json()
        assert abs(answer["probability"] - expected[i]) <= TOL, (i, answer, expected[i])
        assert answer["severe"] == bool(expected[i] >= serving_bento.threshold)
        assert answer["threshold"] == pytest.approx(serving_bento.threshold, abs=1e-12)
        assert answer["model_version"] == serving_bento.zenml_version
    # the sample has both decisions, so the comparison above covered both branches
    assert {bool(p >= serving_bento.threshold) for p in expected} == {True, False}


def test_batch_predictions_equal_the_model(bento_server: BentoServer, serving_bento: ExportedBento,
                                           sample_rows: pd.DataFrame) -> None:
    expected = _expected(serving_bento, sample_rows)
    resp = _post(bento_server, "/predict_batch", {"road_users": frame_to_records(sample_rows)})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model_version"] == serving_bento.zenml_version
    np.testing.assert_allclose(body["probability"], expected, rtol=0, atol=TOL)
    assert body["severe"] == [bool(p >= serving_bento.threshold) for p in expected]
    # several rows in one /predict request come back in order too
    resp = _post(bento_server, "/predict", {"road_users": frame_to_records(sample_rows.head(40))})
    assert resp.status_code == 200, resp.text
    np.testing.assert_allclose([a["probability"] for a in resp.json()], expected[:40], rtol=0, atol=TOL)


def test_concurrent_requests_do_not_mix_rows(
        bento_server: BentoServer, serving_bento: ExportedBento, sample_rows: pd.DataFrame) -> None:
    rows = sample_rows.head(96)
    records = frame_to_records(rows)
    expected = _expected(serving_bento, rows)

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=bento_server.url, headers=bento_server.headers,
                                     timeout=60) as client:
            return await asyncio.gather(*(client.post("/predict", json={"road_users": [r]}) for r in records))

    answers = asyncio.run(fire())
    assert [r.status_code for r in answers] == [200] * len(records)
    got = np.array([r.json()[0]["probability"] for r in answers])
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)
    assert len({r.json()[0]["prediction_id"] for r in answers}) == len(records)


def test_explanations_sum_to_the_margin_on_every_path(bento_server: BentoServer, serving_bento: ExportedBento,
                                                       sample_rows: pd.DataFrame) -> None:
    """base + top + rest = log-odds of the served probability; fields are raw BAAC fields."""
    rows = sample_rows.head(20)
    expected = _expected(serving_bento, rows)
    single = _post(bento_server, "/predict", {"road_users": frame_to_records(rows), "explain": True})
    batch = _post(bento_server, "/predict_batch", {"road_users": frame_to_records(rows), "explain": True})
    columns = _post(bento_server, "/predict_columns", {"columns": frame_to_columns(rows), "explain": True})
    for resp in (single, batch, columns):
        assert resp.status_code == 200, resp.text
    explanations = ([a["explanation"] for a in single.json()], batch.json()["explanations"],
                    columns.json()["explanations"])
    for found in explanations:
        assert found == explanations[0]
        for exp, p in zip(found, expected, strict=True):
            assert exp["units"] == "log-odds" and len(exp["top"]) == 5
            total = exp["base"] + sum(c["contribution"] for c in exp["top"]) + exp["rest"]
            assert abs(total - np.log(p / (1 - p))) <= 1e-4
            sizes = [abs(c["contribution"]) for c in exp["top"]]
            assert sizes == sorted(sizes, reverse=True)
            assert {c["field"] for c in exp["top"]} <= set(MODEL_INPUT_COLUMNS)
    first = single.json()[0]["explanation"]["top"][0]
    assert first["value"] == _as_typed(rows.iloc[0][first["field"]])
    # without the option the answers carry no explanation
    plain = _post(bento_server, "/predict", {"road_users": frame_to_records(rows.head(1))}).json()
    assert plain[0]["explanation"] is None
    assert _post(bento_server, "/predict_columns",
                 {"columns": frame_to_columns(rows.head(1))}).json()["explanations"] is None


def _as_typed(value: object) -> object:
    if isinstance(value, float):
        return None if np.isnan(value) else int(value) if value.is_integer() else value
    return value.item() if hasattr(value, "item") else value


VALID = MINIMAL_ROAD_USER

BAD_INPUTS = [
    ("unknown code", {**VALID, "lum": 9}, "lum", "allowed: -1 = Not recorded, 1 = Full daylight"),
    ("unknown vehicle category", {**VALID, "catv": 4}, "catv", "Bicycle"),
    ("speed limit out of range", {**VALID, "vma": 500}, "vma", "from 0 to 200"),
    ("day out of range", {**VALID, "jour": 32}, "jour", "from 1 to 31"),
    ("impossible date", {**VALID, "mois": 2, "jour": 30}, "jour", "is not a date"),
    ("birth year out of range", {**VALID, "an_nais": 1800}, "an_nais", "from 1890 to 2100"),
    ("born after the accident", {**VALID, "an_nais": 2030}, "an_nais", "after the accident year"),
    ("missing required user category", {k: v for k, v in VALID.items() if k != "catu"}, "catu", "is required"),
    ("missing required time", {k: v for k, v in VALID.items() if k != "hrmn"}, "hrmn", "is required"),
    ("bad time", {**VALID, "hrmn": "25:61"}, "hrmn", "HH:MM"),
    ("text for a code", {**VALID, "catv": "car"}, "catv", "is not a BAAC code"),
    ("unknown field", {**VALID, "speed": 90}, "speed", "unknown field"),
    ("more pedestrians than users", {**VALID, "n_pedestrians": 5}, "n_pedestrians", "only 3 road users"),
    ("pedestrian without pedestrians", {**VALID, "catu": 3}, "n_pedestrians", "pedestrian"),
]


@pytest.mark.parametrize(("case", "row", "field", "text"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_4xx_naming_the_field(bento_server: BentoServer, case: str, row: dict,
                                           field: str, text: str) -> None:
    for path in ("/predict", "/predict_batch"):
        resp = _post(bento_server, path, {"road_users": [VALID, row]})
        assert 400 <= resp.status_code < 500, (case, resp.status_code, resp.text)
        details = resp.json()["detail"]
        assert any(d["loc"][-1] == field and d["loc"][1] == 1 for d in details), details
        message = " ".join(d["msg"] for d in details)
        assert message.startswith(field) and text in message, message


@pytest.mark.parametrize(("payload", "field"), [
    ({"road_users": []}, "road_users"),
    ({"road_users": [VALID] * 101}, "road_users"),
    ({"users": [VALID]}, "road_users"),
    ({"road_users": VALID}, "road_users"),
])
def test_bad_request_shape_is_4xx_naming_the_field(bento_server: BentoServer, payload: dict, field: str) -> None:
    resp = _post(bento_server, "/predict", payload)
    assert 400 <= resp.status_code < 500, resp.text
    assert field in resp.text


def test_malformed_json_is_4xx(bento_server: BentoServer) -> None:
    resp = httpx.post(bento_server.url + "/predict", content=b'{"road_users": [', timeout=30,
                      headers={**bento_server.headers, "Content-Type": "application/json"})
    assert 400 <= resp.status_code < 500, resp.text


def _columns(rows: list[dict]) -> dict[str, list]:
    """Row dicts -> the columnar body's lists (fields absent from every row are omitted, a
    field absent from some rows takes the row schema's default there)."""
    names = [name for name in MODEL_INPUT_COLUMNS if any(name in r for r in rows)]
    names += [name for r in rows for name in r if name not in MODEL_INPUT_COLUMNS]
    defaults = {name: spec.default for name, spec in FIELD_SPECS.items()}
    return {name: [r.get(name, defaults.get(name)) for r in rows] for name in dict.fromkeys(names)}


def test_columnar_predictions_equal_the_model(bento_server: BentoServer, serving_bento: ExportedBento,
                                              sample_rows: pd.DataFrame) -> None:
    expected = _expected(serving_bento, sample_rows)
    resp = _post(bento_server, "/predict_columns", {"columns": frame_to_columns(sample_rows)})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model_version"] == serving_bento.zenml_version
    assert body["threshold"] == pytest.approx(serving_bento.threshold, abs=1e-12)
    np.testing.assert_allclose(body["probability"], expected, rtol=0, atol=TOL)
    assert body["severe"] == [bool(p >= serving_bento.threshold) for p in expected]
    assert set(body["severe"]) == {True, False}
    # omitted optional fields take the row schema's defaults: same answers on both routes
    minimal = [VALID, {**VALID, "catu": 2, "an_nais": 1990}]
    by_rows = _post(bento_server, "/predict_batch", {"road_users": minimal}).json()
    by_columns = _post(bento_server, "/predict_columns", {"columns": _columns(minimal)}).json()
    assert by_columns["probability"] == by_rows["probability"]


@pytest.mark.parametrize(("case", "row", "field", "text"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_columnar_input_is_4xx_naming_the_field_and_row(bento_server: BentoServer, case: str, row: dict,
                                                           field: str, text: str) -> None:
    rows = [VALID, VALID, row, VALID]
    if field in ("catu", "hrmn") and field not in row:  # a required list missing altogether
        rows = [{k: v for k, v in r.items() if k != field} for r in rows]
    resp = _post(bento_server, "/predict_columns", {"columns": _columns(rows)})
    assert 400 <= resp.status_code < 500, (case, resp.status_code, resp.text)
    details = resp.json()["detail"]
    mine = [d for d in details if d["loc"][:2] == ["columns", field]]
    assert mine, details
    message = " ".join(d["msg"] for d in mine)
    assert message.startswith(field) and text in message, message
    if "is required" not in text and case != "unknown field":
        assert all(d["loc"] == ["columns", field, 2] for d in mine), mine  # the offending row
        assert "(row 2)" in message, message


@pytest.mark.parametrize(("columns", "field", "text"), [
    ({**_columns([VALID] * 3), "lum": [1, 1]}, "lum", "2 values but 'an' has 3"),
    ({**_columns([VALID] * 3), "vma": [50, None, 90.5]}, "vma", "(row 2)"),
    ({**_columns([VALID] * 3), "catv": [7, None, 7]}, "catv", "None (row 1) is not a BAAC code"),
    ({**_columns([VALID] * 3), "an": [2**70, 2023, 2023]}, "an", "(row 0)"),
    ({**_columns([VALID] * 3), "lum": [1, 9, 9]}, "lum", "9 (row 1) is not a BAAC code"),
    ({**_columns([VALID] * 3), "an_nais": [1980, 1990, 2050]}, "an_nais", "after the accident year 2023 (row 2)"),
    ({name: [] for name in _columns([VALID])}, "an", "at least 1"),
    ({name: values * 10_001 for name, values in _columns([VALID]).items()}, "an", "10,000"),
    ({**_columns([VALID]), "lum": 1}, "lum", "list"),
])
def test_bad_columnar_shapes_are_4xx_naming_the_field(bento_server: BentoServer, columns: dict,
                                                     field: str, text: str) -> None:
    resp = _post(bento_server, "/predict_columns", {"columns": columns})
    assert 400 <= resp.status_code < 500, resp.text
    details = resp.json()["detail"]
    mine = [d for d in details if d["loc"][:2] == ["columns", field]]
    assert mine and text in " ".join(d["msg"] for d in mine), details


def test_api_key_is_required_and_health_stays_open(bento_server: BentoServer) -> None:
    assert bento_server.api_key
    body = {"road_users": [VALID]}
    for path in ("/predict", "/predict_batch", "/predict_columns", "/model_info"):
        assert httpx.post(bento_server.url + path, json=body, timeout=30).status_code == 401
        wrong = httpx.post(bento_server.url + path, json=body, headers={"X-API-Key": "nope"}, timeout=30)
        assert wrong.status_code == 401 and "API key" in wrong.json()["error"]
    bearer = httpx.post(bento_server.url + "/predict", json=body, timeout=30,
                        headers={"Authorization": f"Bearer {bento_server.api_key}"})
    assert bearer.status_code == 200, bearer.text
    for path in ("/healthz", "/livez", "/readyz", "/metrics", "/ui/", "/ui/form.json"):
        assert httpx.get(bento_server.url + path, timeout=30).status_code == 200, path


def test_metrics_count_prediction_requests(bento_server: BentoServer) -> None:
    before = request_count(bento_server.url, "/predict", "200")
    for _ in range(3):
        assert _post(bento_server, "/predict", {"road_users": [VALID]}).status_code == 200
    # the tests run one at a time: no other request reaches the server meanwhile
    assert request_count(bento_server.url, "/predict", "200") == before + 3


def test_model_info_describes_the_exported_version(bento_server: BentoServer,
                                                   serving_bento: ExportedBento) -> None:
    resp = _post(bento_server, "/model_info", {})
    assert resp.status_code == 200, resp.text
    info = resp.json()
    assert info["model_version"] == serving_bento.zenml_version
    assert info["model_tag"] == serving_bento.model_tag
    assert info["threshold"] == pytest.approx(serving_bento.threshold)
    assert info["metrics"] == pytest.approx(serving_bento.metrics)
    assert info["feature_columns"] == list(MODEL_INPUT_COLUMNS)
    assert info["data_years"] == serving_bento.years


def test_openapi_documents_every_input_field(bento_server: BentoServer) -> None:
    spec = httpx.get(bento_server.url + "/docs.json", timeout=30).json()
    road_user = spec["components"]["schemas"]["RoadUser"]
    assert list(road_user["properties"]) == list(MODEL_INPUT_COLUMNS)
    for name, prop in road_user["properties"].items():
        assert len(prop.get("description", "")) > 20, name
    assert road_user["properties"]["lum"]["enum"] == [-1, 1, 2, 3, 4, 5]
    assert "Full daylight" in road_user["properties"]["lum"]["description"]
    assert set(road_user["required"]) == {"an", "mois", "jour", "hrmn", "catu", "catv", "n_vehicles", "n_users"}


def test_prediction_log_has_one_row_per_prediction(bento_server: BentoServer,
                                                   sample_rows: pd.DataFrame) -> None:
    log = bento_server.prediction_log
    before = len(read_prediction_log(log)) if log.exists() else 0
    rows = sample_rows.head(28)
    records = frame_to_records(rows)
    ids: list[str] = []
    probabilities: list[float] = []
    for record in records[:3]:
        answer = _post(bento_server, "/predict", {"road_users": [record]}).json()[0]
        ids.append(answer["prediction_id"])
        probabilities.append(answer["probability"])
    batch = _post(bento_server, "/predict_batch", {"road_users": records[3:15]}).json()
    ids += [f"{batch['request_id']}-{i}" for i in range(12)]
    probabilities += batch["probability"]
    columnar = _post(bento_server, "/predict_columns", {"columns": frame_to_columns(rows.iloc[15:])}).json()
    ids += [f"{columnar['request_id']}-{i}" for i in range(len(records) - 15)]
    probabilities += columnar["probability"]

    wait_for_log_records(log, before + len(records))  # written by a thread, per worker
    # two workers append independently: compare by prediction id, not by file order
    logged = read_prediction_log(log)
    assert len(logged) - before == len(records)
    new = logged.set_index("request_id").loc[ids]
    assert new["probability"].tolist() == probabilities
    assert json.loads(log.read_text().splitlines()[-1])["request_id"] in {i.rsplit("-", 1)[0] for i in ids}

    frame = read_prediction_log(log).set_index("request_id").loc[ids].reset_index(drop=True)
    expected = rows[list(MODEL_INPUT_COLUMNS)].reset_index(drop=True)
    pd.testing.assert_frame_equal(frame[list(MODEL_INPUT_COLUMNS)], expected, check_dtype=True)
    assert (frame["model_version"] == "12").all()


def test_bento_carries_model_labels_and_metadata(serving_bento: ExportedBento) -> None:
    env = bento_env(serving_bento.home)
    model = json.loads(subprocess.run([BENTOML, "models", "get", serving_bento.model_tag, "-o", "json"],
                                      env=env, capture_output=True, text=True, check=True).stdout)
    assert model["labels"]["zenml_version"] == "12"
    assert model["labels"]["zenml_model"] == "road_accident_severity"
    meta = model["metadata"]
    assert meta["threshold"] == pytest.approx(serving_bento.threshold)
    assert meta["feature_columns"] == list(MODEL_INPUT_COLUMNS)
    assert meta["data_years"] == [2022, 2023]
    assert meta["metrics"] == pytest.approx(serving_bento.metrics)
    assert serving_bento.bento_tag == "road_accident_severity:v12"
    bento = json.loads(subprocess.run([BENTOML, "get", serving_bento.bento_tag, "-o", "json"],
                                      env=env, capture_output=True, text=True, check=True).stdout)
    assert bento["args"] == {"model_tag": serving_bento.model_tag}
    assert bento["labels"]["zenml_version"] == "12"


def test_a_lone_keep_alive_connection_is_kept(bento_server: BentoServer) -> None:
    """Default settings: a client alone on its worker keeps its connection past the 200
    requests after which a shared one is recycled (accidents/serving/keep_alive.py)."""
    with httpx.Client(base_url=bento_server.url, headers=bento_server.headers, timeout=30) as client:
        answers = [client.post("/predict", json={"road_users": [VALID]}) for _ in range(250)]
    assert all(a.status_code == 200 for a in answers)
    assert [a.headers.get("connection") for a in answers] == [None] * 250


def test_busy_keep_alive_connections_are_recycled_so_workers_share_the_load(bento_server: BentoServer) -> None:
    """8 connections sending at once over 2 workers: at least one worker serves several at the
    same time, so some connections are asked to reconnect (after 200 requests each, the default)."""
    def send(n: int) -> list[str | None]:
        with httpx.Client(base_url=bento_server.url, headers=bento_server.headers, timeout=30) as client:
            answers = [client.post("/predict", json={"road_users": [VALID]}) for _ in range(n)]
        assert all(a.status_code == 200 for a in answers)
        return [a.headers.get("connection") for a in answers]

    with ThreadPoolExecutor(8) as pool:
        per_client = list(pool.map(send, [230] * 8))
    closes = [[i for i, h in enumerate(answers) if h == "close"] for answers in per_client]
    assert sum(map(len, closes)) >= 2
    assert all(i == 199 for found in closes for i in found)  # the 200th request of a connection


def _schema_fields(spec: dict, schema: dict) -> set[str]:
    """The property names of a (possibly $ref'd, possibly array-of) OpenAPI response schema."""
    while "$ref" in schema or schema.get("type") == "array":
        schema = (spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema
                  else schema["items"])
    return set(schema["properties"])


@pytest.mark.parametrize("explain", [False, True])
def test_answers_carry_every_field_their_schema_declares(bento_server: BentoServer,
                                                        sample_rows: pd.DataFrame, explain: bool) -> None:
    """The answers are encoded without a pydantic round trip (accidents/serving/fast_io.py): a
    field with a default (``explanation``) must still be there, and nothing else."""
    spec = httpx.get(bento_server.url + "/docs.json", timeout=30).json()
    rows = sample_rows.head(3)
    bodies = {"/predict": {"road_users": frame_to_records(rows), "explain": explain},
              "/predict_batch": {"road_users": frame_to_records(rows), "explain": explain},
              "/predict_columns": {"columns": frame_to_columns(rows), "explain": explain},
              "/model_info": {}}
    for path, body in bodies.items():
        resp = _post(bento_server, path, body)
        assert resp.status_code == 200, (path, resp.text)
        declared = _schema_fields(spec, spec["paths"][path]["post"]["responses"]["200"]["content"]
                                  ["application/json"]["schema"])
        answer = resp.json()
        for item in answer if isinstance(answer, list) else [answer]:
            assert set(item) == declared, path
