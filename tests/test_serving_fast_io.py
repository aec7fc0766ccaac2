"""The batch routes' quick reading and writing (accidents/serving/fast_io.py), without a server.

The fast reading must accept only what pydantic accepts and build the very arrays pydantic's
path builds; everything else (lax spellings pydantic still takes, every mistake) must be
handed back to pydantic, whose explained 400s tests/test_serving_http.py checks over HTTP.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, ValidationError

from accidents.data.loader import BaacTables
from accidents.learning.features import MODEL_INPUT_COLUMNS, build_user_table
from accidents.serving.fast_io import (
    decode_columns_body,
    decode_rows_body,
    encode_answer,
    rows_decoder,
)
from accidents.serving.fields import MAX_COLUMN_ROWS
from accidents.serving.prediction_log import PredictionLogWriter, read_prediction_log
from accidents.serving.rows import rows_to_columns
from accidents.serving.schema import RoadUser, RoadUserColumns, frame_to_columns, frame_to_records
from tests.fixtures.serving import MINIMAL_ROAD_USER

VALID = MINIMAL_ROAD_USER


def _pydantic_arrays(columns: dict) -> dict[str, np.ndarray]:
    return RoadUserColumns.model_validate(columns).arrays()


def _assert_same_arrays(got: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    assert list(got) == list(expected) == list(MODEL_INPUT_COLUMNS)
    for name in MODEL_INPUT_COLUMNS:
        assert got[name].dtype == expected[name].dtype, name
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)  # NaN == NaN here


def _assert_fast_equals_pydantic(frame: pd.DataFrame, explain: bool = False) -> None:
    columns = frame_to_columns(frame)
    decoded = decode_columns_body(json.dumps({"columns": columns, "explain": explain}).encode())
    assert decoded is not None, "a valid body must take the fast path"
    batch, got_explain = decoded
    assert got_explain is explain
    _assert_same_arrays(batch.arrays(), _pydantic_arrays(columns))


def test_fast_reading_equals_pydantic_on_the_synthetic_user_table(synthetic_user_table: pd.DataFrame) -> None:
    _assert_fast_equals_pydantic(synthetic_user_table.head(2000))
    _assert_fast_equals_pydantic(synthetic_user_table.head(3), explain=True)


@pytest.mark.real_data
def test_fast_reading_equals_pydantic_on_the_real_samples(all_sample_tables: BaacTables) -> None:
    users, _ = build_user_table(all_sample_tables)
    assert len(users) > 100
    _assert_fast_equals_pydantic(users)


def test_omitted_and_null_optional_columns_take_the_defaults() -> None:
    columns = {name: [value, value] for name, value in VALID.items()}
    decoded = decode_columns_body(json.dumps({"columns": {**columns, "vma": None, "nbv": [None, 2]}}).encode())
    assert decoded is not None
    _assert_same_arrays(decoded[0].arrays(), _pydantic_arrays({**columns, "vma": None, "nbv": [None, 2]}))
    assert np.isnan(decoded[0].arrays()["vma"]).all() and decoded[0].arrays()["lum"].tolist() == [-1, -1]


#: Bodies pydantic's lax mode accepts but the strict reading does not: they must go to pydantic.
LAX = {
    "an as a string": {"an": ["2023"]},
    "catv as 7.0": {"catv": [7.0]},
    "catu as true": {"catu": [True]},
    "explain as 1": {"explain": 1},
}


@pytest.mark.parametrize("change", LAX.values(), ids=list(LAX))
def test_lax_spellings_are_left_to_pydantic_which_accepts_them(change: dict) -> None:
    columns = {name: [value] for name, value in VALID.items()}
    body = {"columns": {**columns, **{k: v for k, v in change.items() if k != "explain"}},
            "explain": change.get("explain", False)}
    raw = json.dumps(body).encode()
    assert decode_columns_body(raw) is None
    RoadUserColumns.model_validate_json(json.dumps(body["columns"]))  # pydantic takes it


#: Mistakes: the strict reading refuses them all, so pydantic's path answers its explained 400.
MISTAKES = {
    "unknown code": {"lum": [9]},
    "unknown column": {"secu": [1]},
    "missing required column": {"catv": None},
    "uneven lists": {"mois": [6, 7]},
    "empty required list": {"an": [], "mois": [], "jour": [], "hrmn": [], "catu": [], "catv": [],
                            "n_vehicles": [], "n_users": []},
    "time not HH:MM": {"hrmn": ["7h30"]},
    "time with a trailing newline": {"hrmn": ["17:45\n"]},
    "null in a code column": {"lum": [None]},
    "not a date": {"mois": [4], "jour": [31]},
    "integer beyond int64": {"an": [2**64]},
    "a string": {"an": "2023"},
}


@pytest.mark.parametrize("change", MISTAKES.values(), ids=list(MISTAKES))
def test_every_mistake_is_left_to_pydantic_which_refuses_it(change: dict) -> None:
    columns = {name: [value] for name, value in VALID.items()}
    for name, value in change.items():
        if value is None:
            columns.pop(name)
        else:
            columns[name] = value
    assert decode_columns_body(json.dumps({"columns": columns}).encode()) is None
    with pytest.raises(ValidationError):
        RoadUserColumns.model_validate_json(json.dumps(columns))


def test_unknown_top_level_field_and_broken_json_are_left_to_pydantic() -> None:
    columns = {name: [value] for name, value in VALID.items()}
    assert decode_columns_body(json.dumps({"columns": columns, "explian": True}).encode()) is None
    assert decode_columns_body(b'{"columns": {"an": [2023]') is None
    assert decode_columns_body(b"") is None


def test_longest_batch_is_read_and_one_more_row_is_not() -> None:
    row = {name: value for name, value in VALID.items()}
    full = {name: [value] * MAX_COLUMN_ROWS for name, value in row.items()}
    assert decode_columns_body(json.dumps({"columns": full}).encode()) is not None
    over = {name: [value] * (MAX_COLUMN_ROWS + 1) for name, value in row.items()}
    assert decode_columns_body(json.dumps({"columns": over}).encode()) is None


def test_duplicate_keys_read_as_pydantic_reads_them() -> None:
    """A key given twice: whatever both readers make of it, they must make the same."""
    body = ('{"columns": {"an": [2023], "mois": [6], "jour": [14], "hrmn": ["17:45"], "catu": [1], '
            '"catv": [7], "n_vehicles": [2], "n_users": [3], "lum": [1], "lum": [2]}}')
    decoded = decode_columns_body(body.encode())
    expected = RoadUserColumns.model_validate_json(json.dumps(json.loads(body)["columns"])).arrays()
    assert decoded is not None
    _assert_same_arrays(decoded[0].arrays(), expected)
    assert expected["lum"].tolist() == [2]


class _Answer(BaseModel):
    model_version: str
    probability: list[float]
    severe: list[bool]
    explanations: list[dict] | None = None


class _Nested(BaseModel):
    inner: _Answer


def test_answers_encode_as_pydantic_dumps_them() -> None:
    proba = np.random.default_rng(0).random(1000)
    answer = _Answer.model_construct(model_version="3", probability=proba.tolist(),
                                     severe=(proba > 0.3).tolist(), explanations=None)
    assert json.loads(encode_answer(answer)) == json.loads(answer.model_dump_json())
    rows = [{"probability": 0.25, "severe": False, "prediction_id": "ab-0", "explanation": None}]
    assert json.loads(encode_answer(rows)) == rows


def test_what_msgspec_cannot_encode_is_left_to_bentoml() -> None:
    nested = _Nested.model_construct(inner=_Answer.model_construct(model_version="3", probability=[],
                                                                   severe=[]))
    assert encode_answer(nested) is None
    assert encode_answer([object()]) is None


def _logged_frame(path: Path, arrays: dict, raw: dict | None, encoder: str) -> pd.DataFrame:
    writer = PredictionLogWriter(path, encoder=encoder, linger=0)
    n = len(arrays["an"])
    proba = np.linspace(0.01, 0.99, n)
    writer.write(arrays, proba, proba >= 0.5, "req", "7", ts=datetime(2026, 11, 30, tzinfo=UTC),
                 raw_inputs=raw)
    writer.close()
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1  # one JSON line per batch
    return read_prediction_log(path)


@pytest.mark.parametrize("encoder", ["msgspec", "json"])
def test_the_log_writes_the_requests_own_lists_and_reads_back_the_same_rows(
        tmp_path: Path, synthetic_user_table: pd.DataFrame, encoder: str) -> None:
    """A fast-read body's columns go into the log as the client wrote them (no re-encoding):
    read back, the rows equal those logged from the validated arrays, defaults included."""
    columns = frame_to_columns(synthetic_user_table.head(300))
    columns.pop("lum")  # omitted: the default, from the arrays
    columns["vma"] = None  # null column: the default, from the arrays
    columns["nbv"] = [None, *columns["nbv"][1:]]  # a null inside a measure list
    decoded = decode_columns_body(json.dumps({"columns": columns}, separators=(",", ":")).encode())
    assert decoded is not None
    batch = decoded[0]
    raw = batch.raw_json()
    assert raw is not None and "lum" not in raw and "vma" not in raw and "an" in raw
    from_raw = _logged_frame(tmp_path / "raw.jsonl", batch.arrays(), raw, encoder)
    from_arrays = _logged_frame(tmp_path / "arrays.jsonl", batch.arrays(), None, encoder)
    pd.testing.assert_frame_equal(from_raw, from_arrays)
    # the measure as the client wrote it (integers), where the arrays give floats (2.0)
    nbv = '"nbv":' + json.dumps(columns["nbv"], separators=(",", ":"))
    assert nbv in (tmp_path / "raw.jsonl").read_text()
    assert nbv not in (tmp_path / "arrays.jsonl").read_text()


def test_a_body_spread_over_lines_is_logged_from_the_arrays() -> None:
    """JSON whitespace may hold newlines, which a JSON Lines record cannot: no raw text then."""
    columns = {name: [value] for name, value in VALID.items()}
    decoded = decode_columns_body(json.dumps({"columns": columns}, indent=2).encode())
    assert decoded is not None and decoded[0].raw_json() is None
    decoded = decode_columns_body(json.dumps({"columns": columns}).replace(", ", ",\r").encode())
    assert decoded is not None and decoded[0].raw_json() is None


ROWS_DECODER = rows_decoder(MAX_COLUMN_ROWS)


def _assert_rows_fast_equals_pydantic(records: list[dict]) -> None:
    decoded = decode_rows_body(json.dumps({"road_users": records}).encode(), ROWS_DECODER)
    assert decoded is not None, "a valid body must take the fast path"
    expected = rows_to_columns([RoadUser.model_validate(r) for r in records])
    _assert_same_arrays(rows_to_columns(decoded[0]), expected)


def test_fast_row_reading_equals_pydantic_on_the_synthetic_user_table(synthetic_user_table: pd.DataFrame) -> None:
    _assert_rows_fast_equals_pydantic(frame_to_records(synthetic_user_table.head(2000)))


@pytest.mark.real_data
def test_fast_row_reading_equals_pydantic_on_the_real_samples(all_sample_tables: BaacTables) -> None:
    users, _ = build_user_table(all_sample_tables)
    _assert_rows_fast_equals_pydantic(frame_to_records(users))


def test_fast_row_reading_fills_the_omitted_fields_as_pydantic_does() -> None:
    _assert_rows_fast_equals_pydantic([VALID, {**VALID, "vma": 50, "nbv": None, "lum": 5}])


ROW_MISTAKES = {
    "unknown code": {"lum": 9},
    "unknown field": {"secu": 1},
    "time with a trailing newline": {"hrmn": "17:45\n"},
    "not a date": {"mois": 4, "jour": 31},
    "born after the accident": {"an_nais": 2024},
    "a pedestrian and no pedestrian": {"catu": 3},
    "null code": {"lum": None},
    "lax spelling": {"an": "2023"},
}


@pytest.mark.parametrize("change", ROW_MISTAKES.values(), ids=list(ROW_MISTAKES))
def test_rows_pydantic_must_judge_are_left_to_it(change: dict) -> None:
    body = {"road_users": [VALID, {**VALID, **change}]}
    assert decode_rows_body(json.dumps(body).encode(), ROWS_DECODER) is None


def test_row_counts_and_the_envelope_are_checked() -> None:
    assert decode_rows_body(b'{"road_users": []}', ROWS_DECODER) is None
    assert decode_rows_body(json.dumps({"road_users": [VALID] * 3}).encode(), rows_decoder(2)) is None
    assert decode_rows_body(json.dumps({"road_users": [VALID], "road_user": 1}).encode(), ROWS_DECODER) is None
    decoded = decode_rows_body(json.dumps({"road_users": [VALID] * 2, "explain": True}).encode(), rows_decoder(2))
    assert decoded is not None and decoded[1] is True and len(decoded[0]) == 2
