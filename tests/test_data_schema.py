"""The schema module: one description per column, codes and labels for the service."""

from __future__ import annotations

import pytest

from accidents.data.schema import (
    CATV_CLASS,
    COLUMNS,
    SCHEMA,
    TABLES,
    VEHICLE_CLASS_LABELS,
    allowed_codes,
    code_columns,
    column,
    columns_of_kind,
    labels,
)
from accidents.learning.features import MODEL_INPUT_COLUMNS


def test_every_column_is_described() -> None:
    for table in TABLES:
        assert tuple(SCHEMA[table]) == COLUMNS[table]
        for col in SCHEMA[table].values():
            assert col.meaning_fr and col.meaning_en, col.name
            if col.kind in ("code", "letter"):
                assert col.codes, col.name
                assert set(col.not_recorded) <= set(col.codes), col.name
                assert str(col.not_recorded[0]) == "-1", col.name


def test_codes_and_labels() -> None:
    assert allowed_codes("lum") == (-1, 1, 2, 3, 4, 5)
    assert labels("catv", "fr")[7] == "VL seul"
    assert labels("catv", "en")[7] == "Car"
    assert labels("grav")[2] == "Killed"
    assert "A" in allowed_codes("actp")
    with pytest.raises(ValueError, match="lang"):
        labels("lum", "de")
    with pytest.raises(KeyError, match="unknown BAAC column 'nope'"):
        column("nope")
    with pytest.raises(KeyError, match="no code list"):
        allowed_codes("an_nais")


def test_every_model_input_is_typed_by_the_schema() -> None:
    """The service validates each raw model input from here (codes or a numeric range)."""
    aggregates = {"n_vehicles", "n_users", "n_pedestrians", "other_vehicle_class"}
    for name in MODEL_INPUT_COLUMNS:
        if name in aggregates:
            continue
        col = column(name)
        assert col.kind in ("code", "int", "measure", "hrmn"), name
        if col.kind == "code":
            assert name in code_columns()


def test_vehicle_classes_cover_the_codebook() -> None:
    catv = {c for c in allowed_codes("catv")}
    assert set(CATV_CLASS) == catv
    assert set(CATV_CLASS.values()) <= set(VEHICLE_CLASS_LABELS)
    assert CATV_CLASS[14] > CATV_CLASS[7] > CATV_CLASS[33] > CATV_CLASS[1]


def test_columns_of_kind() -> None:
    assert columns_of_kind("vehicules", "key", "id") == ("Num_Acc", "id_vehicule")
    assert "lat" in columns_of_kind("caracteristiques", "measure")
