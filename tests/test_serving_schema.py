"""The service's typed input (accidents/serving/schema.py), without a server."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from accidents.data import schema
from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.serving.columns import _column_errors, _valid_int_block
from accidents.serving.schema import (
    FIELD_SPECS,
    RoadUser,
    RoadUserColumns,
    form_spec,
    frame_to_columns,
    frame_to_records,
    rows_to_frame,
)
from tests.fixtures.serving import MINIMAL_ROAD_USER

VALID = MINIMAL_ROAD_USER


def test_every_model_input_is_a_documented_field() -> None:
    props = RoadUser.model_json_schema()["properties"]
    assert list(props) == list(MODEL_INPUT_COLUMNS)
    for name, prop in props.items():
        assert name in prop["description"] or FIELD_SPECS[name].meaning_en in prop["description"]


def test_code_fields_take_exactly_the_codebook_codes() -> None:
    for name, spec in FIELD_SPECS.items():
        if spec.kind == "code" and name != "other_vehicle_class":
            assert tuple(spec.codes) == schema.allowed_codes(name), name
            assert RoadUser.model_json_schema()["properties"][name]["enum"] == list(schema.allowed_codes(name))


def test_optional_fields_default_to_not_recorded() -> None:
    row = RoadUser.model_validate(VALID)
    frame = rows_to_frame([row])
    for name, spec in FIELD_SPECS.items():
        if name in VALID:
            continue
        value = frame.loc[0, name]
        if spec.kind == "code":
            assert value == schema.NOT_RECORDED, name
        elif spec.kind == "measure":
            assert pd.isna(value), name


def _valid_users(n: int) -> pd.DataFrame:
    from tests.training_frames import fabricated_users

    users = fabricated_users(n)
    users["catv"] = 7  # fabricated codes are arbitrary; keep rows valid for the schema
    for name in ("lum", "agg", "int", "atm", "col", "catr", "circ", "vosp", "prof", "plan", "surf",
                 "infra", "situ", "obs", "obsm", "choc", "manv", "motor", "place", "catu", "sexe",
                 "trajet", "secu1", "secu2", "secu3", "locp", "etatp", "other_vehicle_class"):
        users[name] = -1
    users["catu"] = 1
    users["n_vehicles"], users["n_users"], users["n_pedestrians"] = 2, 3, 0
    users["an_nais"] = users["an_nais"].where(users["an_nais"] <= users["an"])
    return users


def test_frame_matches_the_feature_table_dtypes_and_round_trips() -> None:
    users = _valid_users(50)
    rows = [RoadUser.model_validate(r) for r in frame_to_records(users)]
    frame = rows_to_frame(rows)
    expected = users[list(MODEL_INPUT_COLUMNS)].reset_index(drop=True)
    pd.testing.assert_frame_equal(frame, expected.astype(frame.dtypes.to_dict()), check_dtype=True)
    assert frame.dtypes.to_dict() == expected.dtypes.to_dict()


ROW_ERRORS = [
    ({**VALID, "lum": 9}, "lum", "allowed: -1 = Not recorded, 1 = Full daylight"),
    ({**VALID, "mois": 13}, "mois", "from 1 to 12"),
    ({k: v for k, v in VALID.items() if k != "catv"}, "catv", "is required"),
    ({**VALID, "mois": 4, "jour": 31}, "jour", "2023-04-31 is not a date"),
    ({**VALID, "an": 2024, "mois": 2, "jour": 30}, "jour", "2024-02-30 is not a date"),
    ({**VALID, "an_nais": 2024}, "an_nais", "born in 2024, after the accident year 2023"),
    ({**VALID, "catu": 3}, "n_pedestrians", "at least 1 pedestrian"),
    ({**VALID, "hrmn": "7h30"}, "hrmn", "HH:MM"),
]


def test_columnar_frame_equals_the_row_frame() -> None:
    users = _valid_users(50)
    by_rows = rows_to_frame([RoadUser.model_validate(r) for r in frame_to_records(users)])
    by_columns = RoadUserColumns.model_validate(frame_to_columns(users)).frame()
    pd.testing.assert_frame_equal(by_columns, by_rows, check_dtype=True)
    leap = RoadUserColumns.model_validate({k: [v] for k, v in {**VALID, "an": 2024, "mois": 2, "jour": 29}.items()})
    assert leap.frame().loc[0, "jour"] == 29  # 29 February exists in leap years on both paths
    RoadUser.model_validate({**VALID, "an": 2024, "mois": 2, "jour": 29})


def test_the_integer_block_check_allows_exactly_what_each_field_allows() -> None:
    """validate_columns checks all integer columns as one block and falls back to the
    per-field check (which names the offender) when any value fails: both must let through
    exactly the field's codes or range, at every boundary."""
    int_fields = [name for name, spec in FIELD_SPECS.items() if spec.kind not in ("measure", "hrmn")]
    assert len(int_fields) > 30
    for name in int_fields:
        spec = FIELD_SPECS[name]
        low, high = ((min(spec.codes), max(spec.codes)) if spec.codes
                     else (int(spec.valid_range[0]), int(spec.valid_range[1])))
        extremes = [v for v in (-(2**63), 2**63 - 1, 2**63 - 1 + low, low - 2**63) if -(2**63) <= v < 2**63]
        for value in [*range(low - 2, high + 3), *extremes]:
            per_field = _column_errors(spec, [value], np.array([value], dtype=np.int64)) is None
            block = _valid_int_block([name], {name: [value]}) is not None
            by_spec = value in spec.codes if spec.codes else low <= value <= high
            assert block == per_field == by_spec, (name, value)
    assert _valid_int_block(["an"], {"an": [2**63]}) is None  # beyond int64: the per-field message
    valid = {name: [VALID.get(name, FIELD_SPECS[name].default)] * 3 for name in int_fields}
    block = _valid_int_block(int_fields, valid)
    assert block is not None and block.shape == (len(int_fields), 3)
    assert _valid_int_block(int_fields, {**valid, "catu": [1, 9, 1]}) is None


@pytest.mark.parametrize(("row", "field", "text"), ROW_ERRORS)
def test_columnar_errors_follow_the_same_rules(row: dict, field: str, text: str) -> None:
    columns = {name: [VALID.get(name, FIELD_SPECS[name].default), row[name]] if name in row else None
               for name in FIELD_SPECS}
    missing = "is required" in text
    if missing:  # the required list is missing altogether
        columns.pop(field)
    columns = {k: v for k, v in columns.items() if v is not None}
    with pytest.raises(ValidationError) as info:
        RoadUserColumns.model_validate(columns)
    (err,) = info.value.errors()
    assert err["loc"] == ((field,) if missing else (field, 1))
    assert err["msg"].startswith(field) and text in err["msg"]


@pytest.mark.parametrize(("row", "field", "text"), ROW_ERRORS)
def test_errors_name_the_field_and_the_allowed_values(row: dict, field: str, text: str) -> None:
    with pytest.raises(ValidationError) as info:
        RoadUser.model_validate(row)
    (err,) = info.value.errors()
    assert err["loc"] == (field,)
    assert err["msg"].startswith(field) and text in err["msg"]


def test_form_offers_labels_for_every_code_field() -> None:
    fields = {f["name"]: f for g in form_spec() for f in g["fields"]}
    assert list(fields) == list(MODEL_INPUT_COLUMNS)
    lum = fields["lum"]
    assert {c["label_en"] for c in lum["choices"]} >= {"Full daylight", "Not recorded"}
    assert all(f["choices"] for f in fields.values() if f["kind"] == "code")
