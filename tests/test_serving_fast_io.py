"""The batch routes' quick reading and writing (accidents/serving/fast_io.py), without a server.

The fast reading must accept only what pydantic accepts and build the very arrays pydantic's
path builds; everything else (lax spellings pydantic still takes, every mistake) must be
handed back to pydantic, whose explained 400s tests/test_serving_http.py checks over HTTP.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, ValidationError

from accidents.data.loader import BaacTables
from accidents.learning.features import MODEL_INPUT_COLUMNS, build_user_table
from accidents.serving.fast_io import decode_columns_body, encode_answer
from accidents.serving.fields import MAX_COLUMN_ROWS
from accidents.serving.schema import RoadUserColumns, frame_to_columns

VALID = {"an": 2023, "mois": 6, "jour": 14, "hrmn": "17:45", "catu": 1, "catv": 7,
         "n_vehicles": 2, "n_users": 3}


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
