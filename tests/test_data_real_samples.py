"""The loader and the feature table on every real BAAC sample year (../shared/data/baac-samples)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from accidents.data.loader import BaacTables, load_file
from accidents.data.schema import MISSING_MARKERS, SCHEMA, TABLES, allowed_codes
from accidents.learning.features import (
    ID_COLUMNS,
    MODEL_INPUT_COLUMNS,
    TARGET,
    accident_level_table,
    build_user_table,
)
from tests.fixtures.data import SAMPLE_YEARS, read_rows, sample_file

pytestmark = pytest.mark.real_data

CASES = [(year, table) for year in SAMPLE_YEARS for table in TABLES]


def _fix_mojibake(value: str) -> str:
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


@pytest.mark.parametrize(("year", "table"), CASES)
def test_row_count_equals_file_data_rows(
    samples_dir: Path, sample_tables: dict[int, BaacTables], year: int, table: str
) -> None:
    rows = read_rows(sample_file(samples_dir, table, year))
    frame = sample_tables[year].table(table)
    assert len(frame) == len(rows) - 1
    assert (frame["year"] == year).all()


@pytest.mark.parametrize(("year", "table"), CASES)
def test_values_round_trip_to_codebook(
    samples_dir: Path, sample_tables: dict[int, BaacTables], year: int, table: str
) -> None:
    """Every loaded value equals the file's text read by the csv module, as a codebook code."""
    rows = read_rows(sample_file(samples_dir, table, year))
    header, data = rows[0], rows[1:]
    frame = sample_tables[year].table(table)
    for j, name in enumerate(header):
        col = SCHEMA[table][name]
        loaded = frame[name].tolist()
        for i, raw in enumerate(r[j] for r in data):
            text = raw.strip()
            got = loaded[i]
            where = f"{table}-{year} line {i + 2} {name}={raw!r} -> {got!r}"
            if col.kind in ("key", "id"):
                digits = "".join(ch for ch in _fix_mojibake(raw) if ch.isdigit())
                assert got == int(digits), where
            elif col.kind == "code":
                assert got in allowed_codes(name), where
                assert got == (-1 if text in MISSING_MARKERS else int(text)), where
            elif col.kind == "int":
                assert got == int(text), where
            elif col.kind == "letter":
                assert got in allowed_codes(name), where
                assert got == ("-1" if text in MISSING_MARKERS else text), where
            elif col.kind == "measure":
                signed = name in ("lat", "long")
                is_missing = text in MISSING_MARKERS and (text != "-1" or not signed)
                if is_missing:
                    assert math.isnan(got), where
                else:
                    expected = float(text.replace(",", ".").replace(" ", "").replace("\xa0", ""))
                    assert got == pytest.approx(expected), where
            elif col.kind == "hrmn":
                assert got == text and len(got) == 5 and got[2] == ":", where
            else:  # text, with double-encoded copies repaired
                assert got == ("" if text in MISSING_MARKERS else _fix_mojibake(text)), where


def test_double_encoded_2021_is_repaired(sample_tables: dict[int, BaacTables]) -> None:
    car = sample_tables[2021].caracteristiques
    adr = " ".join(car["adr"])
    assert "après" in adr and "François" in adr
    assert "Ã" not in adr and "Â" not in adr
    encodings = {f.encoding for f in sample_tables[2021].report.files}
    assert encodings == {"utf-8 (double-encoded, repaired)"}
    assert sample_tables[2021].vehicules["id_vehicule"].iloc[0] == 201764


def test_2021_alternative_usagers_copy_matches(
    samples_dir: Path, sample_tables: dict[int, BaacTables]
) -> None:
    """Two published copies of usagers-2021 (one with id_usager) load to the same rows."""
    alt = load_file(samples_dir / "2021-alt-usagers" / "usagers-2021.csv", "usagers", 2021)
    assert alt["id_usager"].iloc[0] == 267638 and alt["id_usager"].is_unique
    main = sample_tables[2021].usagers
    main = main[main["Num_Acc"].isin(alt["Num_Acc"])]
    cols = [c for c in main.columns if c != "id_usager"]

    def canon(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[cols].sort_values(cols).reset_index(drop=True)

    pd.testing.assert_frame_equal(canon(main), canon(alt))


def test_types_follow_the_contract(all_sample_tables: BaacTables) -> None:
    t = all_sample_tables
    assert t.caracteristiques["lum"].dtype == "int64"
    assert t.caracteristiques["lat"].dtype == "float64"
    assert t.usagers["an_nais"].dtype == "float64"
    assert t.usagers["actp"].map(type).eq(str).all()
    for table in TABLES:
        assert t.table(table)["Num_Acc"].dtype == "int64"
        assert t.table(table)["year"].dtype == "int64"
    assert t.usagers["id_usager"].dtype == "int64"
    assert t.caracteristiques["hrmn"].str.fullmatch(r"\d\d:\d\d").all()
    # 2023/2024 publish several lieux rows for one accident; 2019/2021 one.
    per_acc = t.lieux.groupby(["year", "Num_Acc"]).size().groupby("year").max()
    assert per_acc[2019] == 1 and per_acc[2021] == 1 and per_acc[2023] > 1


def test_join_keys_resolve(all_sample_tables: BaacTables) -> None:
    t = all_sample_tables
    acc = set(t.caracteristiques["Num_Acc"])
    for table in ("lieux", "vehicules", "usagers"):
        assert set(t.table(table)["Num_Acc"]) == acc, table
    veh = set(zip(t.vehicules["Num_Acc"], t.vehicules["id_vehicule"], t.vehicules["num_veh"], strict=True))
    users = set(zip(t.usagers["Num_Acc"], t.usagers["id_vehicule"], t.usagers["num_veh"], strict=True))
    assert users <= veh


def test_feature_table_one_row_per_known_grav_user(all_sample_tables: BaacTables) -> None:
    t = all_sample_tables
    table, report = build_user_table(t)
    known = t.usagers[t.usagers["grav"] != -1]
    assert len(table) == len(known) == report.rows_out
    assert report.excluded["unknown grav (-1)"] == int((t.usagers["grav"] == -1).sum())
    assert list(table.columns) == [*ID_COLUMNS, *MODEL_INPUT_COLUMNS, "grav", TARGET]
    assert table[TARGET].tolist() == table["grav"].isin([2, 3]).astype(int).tolist()
    for col in MODEL_INPUT_COLUMNS:
        if col == "hrmn":
            assert table[col].dtype == object
        elif col in ("an_nais", "vma", "nbv"):
            assert table[col].dtype == "float64", col
        else:
            assert table[col].dtype == "int64", col
    # The join brought each user's own vehicle and accident.
    merged = known.merge(t.vehicules, on=["Num_Acc", "id_vehicule"], suffixes=("", "_v"))
    assert sorted(merged["catv"]) == sorted(table["catv"])
    assert report.accidents_multi_lieux == int((t.lieux.groupby("Num_Acc").size() > 1).sum())


def test_aggregates_on_a_real_accident(all_sample_tables: BaacTables) -> None:
    """2019 accident 1: a car (B01, two people) and an articulated lorry (A01, one person)."""
    table, _ = build_user_table(all_sample_tables)
    acc = table[table["Num_Acc"] == 201900000001].set_index("num_veh")
    assert set(acc["n_vehicles"]) == {2} and set(acc["n_users"]) == {3}
    assert set(acc["n_pedestrians"]) == {0}
    assert set(acc.loc[["B01"], "other_vehicle_class"]) == {4}  # the car's occupants face a lorry
    assert acc.loc["A01", "other_vehicle_class"] == 3  # the lorry driver faces a car


def test_pedestrians_carry_the_hitting_vehicle(all_sample_tables: BaacTables) -> None:
    table, _ = build_user_table(all_sample_tables)
    ped = table[table["catu"] == 3]
    assert len(ped) > 0
    assert (ped["n_pedestrians"] >= 1).all()
    assert (ped["catv"] != -1).all()


def test_accident_level_table_labels_the_worst_hurt(all_sample_tables: BaacTables) -> None:
    table, _ = build_user_table(all_sample_tables)
    acc = accident_level_table(table)
    assert acc["Num_Acc"].is_unique
    assert len(acc) == table["Num_Acc"].nunique()
    expected = table.groupby("Num_Acc")[TARGET].max()
    assert (acc.set_index("Num_Acc")[TARGET] == expected).all()
    rank = {1: 0, 4: 1, 3: 2, 2: 3}
    worst = table.assign(r=table["grav"].map(rank)).groupby("Num_Acc")["r"].max()
    assert (acc.set_index("Num_Acc")["grav"].map(rank) == worst).all()


#: Digest of every loaded sample table (values, index, column names and dtypes) as loaded by
#: the loader before the issue-9 reader (commit 15621bf). The byte-level checks, per-line
#: decoding and validity counts must not change one value of what loaded correctly before.
PRE_ISSUE9_DIGESTS = {
    "2019/caracteristiques": "f64bd85391d20c79", "2019/lieux": "0379dfd59f730733",
    "2019/vehicules": "b7d7d84bcd371c21", "2019/usagers": "ce53201716c3a1d1",
    "2021/caracteristiques": "63be2b36d7d57f98", "2021/lieux": "ae2c48ad2d1e95a2",
    "2021/vehicules": "93578789cc24bbb2", "2021/usagers": "a0b5923924366bb2",
    "2023/caracteristiques": "7fa7fcd1b7ba4a8f", "2023/lieux": "32cda546b49df0ed",
    "2023/vehicules": "2351fc0e1f86396e", "2023/usagers": "a729f5639d02badd",
    "2024/caracteristiques": "b3619823999ec103", "2024/lieux": "eecfbba04bb82fd0",
    "2024/vehicules": "17e20816fc1bccd0", "2024/usagers": "5e68af01c005ba04",
}


def _digest(frame: pd.DataFrame) -> str:
    import hashlib

    h = hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    h.update(str(list(zip(frame.columns, map(str, frame.dtypes), strict=True))).encode())
    return h.hexdigest()[:16]


@pytest.mark.parametrize(("year", "table"), CASES)
def test_every_row_and_value_unchanged_from_the_previous_loader(
    sample_tables: dict[int, BaacTables], year: int, table: str
) -> None:
    """Round trip: every row and value of the real samples loads exactly as before issue 9."""
    assert _digest(sample_tables[year].table(table)) == PRE_ISSUE9_DIGESTS[f"{year}/{table}"]
