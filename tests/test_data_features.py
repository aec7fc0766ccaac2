"""The feature table on small hand-written accidents whose answers are known."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from accidents.data.loader import BaacTables, load_years
from accidents.learning.features import (
    MODEL_INPUT_COLUMNS,
    TARGET,
    accident_level_table,
    build_user_table,
    vehicle_class,
)
from tests.fixtures.data import write_year

YEAR = 2022
A1, A2, A3 = 202200000001, 202200000002, 202200000003

ROWS: dict[str, list[dict[str, object]]] = {
    "caracteristiques": [
        {"Num_Acc": A1, "lum": 1, "hrmn": "08:05"},
        {"Num_Acc": A2, "lum": 3, "hrmn": "23:40"},
        {"Num_Acc": A3, "lum": 5},
    ],
    "lieux": [  # A2 has two roads (2023+ style), A3 none
        {"Num_Acc": A1, "catr": 4, "vma": 50},
        {"Num_Acc": A2, "catr": 3, "vma": 80},
        {"Num_Acc": A2, "catr": 4, "vma": 50},
    ],
    "vehicules": [
        {"Num_Acc": A1, "id_vehicule": "1 011", "num_veh": "A01", "catv": 7},
        {"Num_Acc": A1, "id_vehicule": "1 012", "num_veh": "B01", "catv": 14},
        {"Num_Acc": A1, "id_vehicule": "1 013", "num_veh": "C01", "catv": 1},
        {"Num_Acc": A2, "id_vehicule": "1 021", "num_veh": "A01", "catv": 33},
        {"Num_Acc": A3, "id_vehicule": "1 031", "num_veh": "A01", "catv": 7},
        {"Num_Acc": A3, "id_vehicule": "1 032", "num_veh": "B01", "catv": 0},
    ],
    "usagers": [
        {"Num_Acc": A1, "id_usager": 1, "id_vehicule": "1 011", "num_veh": "A01", "catu": 1, "grav": 1},
        {"Num_Acc": A1, "id_usager": 2, "id_vehicule": "1 011", "num_veh": "A01", "catu": 2, "place": 2, "grav": 4},
        {"Num_Acc": A1, "id_usager": 3, "id_vehicule": "1 012", "num_veh": "B01", "catu": 1, "grav": 1},
        {"Num_Acc": A1, "id_usager": 4, "id_vehicule": "1 013", "num_veh": "C01", "catu": 1, "grav": 3},
        # a pedestrian belongs to the car that hit them
        {"Num_Acc": A1, "id_usager": 5, "id_vehicule": "1 011", "num_veh": "A01", "catu": 3, "place": 10, "grav": 2},
        # a runaway passenger: unknown grav, excluded but counted as involved
        {"Num_Acc": A1, "id_usager": 6, "id_vehicule": "1 012", "num_veh": "B01", "catu": 2, "grav": " -1", "sexe": " -1", "an_nais": ""},
        {"Num_Acc": A2, "id_usager": 7, "id_vehicule": "1 021", "num_veh": "A01", "catu": 1, "grav": 3, "secu1": 2},
        {"Num_Acc": A3, "id_usager": 8, "id_vehicule": "1 031", "num_veh": "A01", "catu": 1, "grav": 4},
        {"Num_Acc": A3, "id_usager": 9, "id_vehicule": "1 032", "num_veh": "B01", "catu": 1, "grav": 1},
    ],
}


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> BaacTables:
    # The hand-written year lacks lieux rows on purpose (features must cope): no validity stop.
    return load_years(write_year(tmp_path_factory.mktemp("mini"), YEAR, ROWS), [YEAR], validity_tolerance=1.0)


@pytest.fixture(scope="module")
def built(tables: BaacTables) -> tuple[pd.DataFrame, object]:
    return build_user_table(tables)


def _row(table: pd.DataFrame, acc: int, num_veh: str, catu: int) -> pd.Series:
    sel = table[(table["Num_Acc"] == acc) & (table["num_veh"] == num_veh) & (table["catu"] == catu)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_unknown_grav_excluded_and_counted(built: tuple[pd.DataFrame, object]) -> None:
    table, report = built
    assert len(table) == 8
    assert report.users_in == 9 and report.rows_out == 8  # type: ignore[attr-defined]
    assert report.excluded == {"unknown grav (-1)": 1}  # type: ignore[attr-defined]
    assert (table["grav"] != -1).all()


def test_accident_aggregates_count_everyone_involved(built: tuple[pd.DataFrame, object]) -> None:
    table, _ = built
    a1 = table[table["Num_Acc"] == A1]
    assert set(a1["n_vehicles"]) == {3}
    assert set(a1["n_users"]) == {6}  # the runaway passenger was there
    assert set(a1["n_pedestrians"]) == {1}
    a2 = table[table["Num_Acc"] == A2]
    assert a2["n_vehicles"].tolist() == [1] and a2["n_pedestrians"].tolist() == [0]


def test_heaviest_other_vehicle(built: tuple[pd.DataFrame, object]) -> None:
    table, _ = built
    assert _row(table, A1, "A01", 1)["other_vehicle_class"] == 4  # car driver vs the lorry
    assert _row(table, A1, "A01", 2)["other_vehicle_class"] == 4  # car passenger
    assert _row(table, A1, "B01", 1)["other_vehicle_class"] == 3  # lorry driver vs the car
    assert _row(table, A1, "C01", 1)["other_vehicle_class"] == 4  # cyclist vs the lorry
    ped = _row(table, A1, "A01", 3)
    assert ped["catv"] == 7  # the pedestrian's vehicle fields are the car that hit them
    assert ped["other_vehicle_class"] == 4
    assert _row(table, A2, "A01", 1)["other_vehicle_class"] == 0  # alone on the road
    assert _row(table, A3, "A01", 1)["other_vehicle_class"] == -1  # other vehicle unknown (catv 0)
    assert _row(table, A3, "B01", 1)["other_vehicle_class"] == 3


def test_first_lieux_row_and_missing_lieux(built: tuple[pd.DataFrame, object]) -> None:
    table, report = built
    a2 = _row(table, A2, "A01", 1)
    assert a2["catr"] == 3 and a2["vma"] == 80.0
    a3 = table[table["Num_Acc"] == A3]
    assert (a3["catr"] == -1).all() and a3["vma"].isna().all()
    assert report.accidents_multi_lieux == 1  # type: ignore[attr-defined]
    assert report.users_without_lieux == 2  # type: ignore[attr-defined]


def test_inputs_and_target_types(built: tuple[pd.DataFrame, object]) -> None:
    table, _ = built
    assert table[TARGET].tolist() == [0, 0, 0, 1, 1, 1, 0, 0]
    assert table["hrmn"].iloc[0] == "08:05"
    numeric = [c for c in MODEL_INPUT_COLUMNS if c != "hrmn"]
    assert all(pd.api.types.is_numeric_dtype(table[c]) for c in numeric)


def test_no_input_depends_on_anyones_grav(tables: BaacTables, built: tuple[pd.DataFrame, object]) -> None:
    """Shuffling the known grav values among users leaves every model input unchanged."""
    table, _ = built
    users = tables.usagers.copy()
    known = users["grav"] != -1
    rng = np.random.default_rng(0)
    users.loc[known, "grav"] = rng.permutation(users.loc[known, "grav"].to_numpy())
    users.loc[known, "grav"] = users.loc[known, "grav"].map({1: 2, 2: 3, 3: 4, 4: 1})
    shuffled = BaacTables(tables.caracteristiques, tables.lieux, tables.vehicules, users, tables.report)
    other, _ = build_user_table(shuffled)
    pd.testing.assert_frame_equal(table[list(MODEL_INPUT_COLUMNS)], other[list(MODEL_INPUT_COLUMNS)])
    assert not table["grav"].equals(other["grav"])


def test_accident_level(built: tuple[pd.DataFrame, object]) -> None:
    table, _ = built
    acc = accident_level_table(table).set_index("Num_Acc")
    assert acc.loc[A1, "grav"] == 2 and acc.loc[A1, TARGET] == 1  # the killed pedestrian
    assert acc.loc[A3, "grav"] == 4 and acc.loc[A3, TARGET] == 0
    # The row's inputs are the first vehicle's driver, not the worst-hurt (a leak).
    assert acc.loc[A1, "catu"] == 1 and acc.loc[A1, "num_veh"] == "A01"
    assert acc.loc[A1, "n_pedestrians"] == 1


def test_accident_level_inputs_do_not_depend_on_grav(tables: BaacTables) -> None:
    table, _ = build_user_table(tables)
    shuffled = table.assign(grav=table["grav"].map({1: 2, 2: 1, 3: 4, 4: 3}))
    shuffled[TARGET] = shuffled["grav"].isin([2, 3]).astype("int64")
    a = accident_level_table(table)[list(MODEL_INPUT_COLUMNS)]
    b = accident_level_table(shuffled)[list(MODEL_INPUT_COLUMNS)]
    pd.testing.assert_frame_equal(a, b)


def test_vehicle_class_of_unknown_codes() -> None:
    got = vehicle_class(pd.Series([7, 14, 1, 33, 40, 0, 99, -1, 8]))
    assert got.tolist() == [3, 4, 1, 2, 5, -1, -1, -1, -1]


def test_missing_birth_year_is_nan(tables: BaacTables) -> None:
    runaway = tables.usagers[tables.usagers["grav"] == -1].iloc[0]
    assert math.isnan(runaway["an_nais"]) and runaway["sexe"] == -1


def test_write_year_reads_back(tmp_path: Path) -> None:
    """The hand-written rows go through the same loader (ids with spaces included)."""
    t = load_years(write_year(tmp_path, YEAR, ROWS), [YEAR], validity_tolerance=1.0)
    assert t.vehicules["id_vehicule"].tolist()[:2] == [1011, 1012]
