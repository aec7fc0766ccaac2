"""Synthetic files look like the published ones and pass through the project loader."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from accidents.data.loader import BaacTables
from accidents.data.schema import COLUMNS, TABLES
from accidents.synthetic import SYNTHETIC_NOTICE, write_synthetic
from tests.fixtures.synthetic import DISK_YEARS

NBSP = "\u00a0"


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh, delimiter=";"))


def _column(path: Path, name: str) -> list[str]:
    rows = _rows(path)
    i = rows[0].index(name)
    return [r[i] for r in rows[1:]]


def test_every_field_is_quoted_and_separated_by_semicolons(synthetic_dir: Path) -> None:
    for path in synthetic_dir.glob("*.csv"):
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw, path
        lines = raw.decode("utf-8").split("\n")
        assert lines[-1] == "", "trailing newline"
        for line in lines[:200]:
            if line:
                assert re.fullmatch(r'"[^"]*"(;"[^"]*")*', line), (path.name, line)


@pytest.mark.parametrize("year", DISK_YEARS)
def test_headers_are_the_published_ones(synthetic_dir: Path, year: int) -> None:
    for table in TABLES:
        header = _rows(synthetic_dir / f"{table}-{year}.csv")[0]
        expected = list(COLUMNS[table])
        if table == "usagers" and year < 2021:
            expected.remove("id_usager")  # 15 columns in 2019-2020 (FACTS §1)
        if table == "caracteristiques" and year == 2022:
            expected[0] = "Accident_Id"  # the 2022 key name
        assert header == expected, (table, year)


@pytest.mark.real_data
def test_headers_match_the_real_samples(synthetic_dir: Path, samples_dir: Path) -> None:
    """Same header line as the real file of the same year (2019, 2023)."""
    for year in (2019, 2023):
        for table in TABLES:
            real = (samples_dir / str(year) / f"{table}-{year}.csv").read_text("utf-8").split("\n")[0]
            ours = (synthetic_dir / f"{table}-{year}.csv").read_text("utf-8").split("\n")[0]
            assert ours == real, (table, year)


def test_value_formats(synthetic_dir: Path) -> None:
    car23 = synthetic_dir / "caracteristiques-2023.csv"
    assert all(re.fullmatch(r"\d\d:\d\d", v) for v in _column(car23, "hrmn"))
    lat = _column(car23, "lat")
    assert all(re.fullmatch(r" ?-?\d+,\d{8}", v) for v in lat)  # 8 decimals in 2023
    longs = _column(car23, "long")
    assert any(v.startswith(" -") for v in longs), "negative longitudes written ' -x,y'"
    lat19 = _column(synthetic_dir / "caracteristiques-2019.csv", "lat")
    assert all(re.fullmatch(r" ?-?\d+,\d{7}", v) for v in lat19)  # 7 decimals in 2019
    assert all(re.fullmatch(r"\d\d", v) for v in _column(car23, "mois"))  # padded
    assert all(not v.startswith("0") for v in _column(car23, "jour"))  # never padded
    ids = _column(synthetic_dir / "usagers-2023.csv", "id_usager")
    assert all(re.fullmatch(rf"\d{{1,3}}{NBSP}\d{{3}}{NBSP}\d{{3}}", v) for v in ids)
    lieux = synthetic_dir / "lieux-2023.csv"
    assert " -1" in _column(lieux, "vma") and " -1" in _column(lieux, "circ")
    assert set(_column(lieux, "lartpc")) == {""}
    users = synthetic_dir / "usagers-2023.csv"
    assert "Z01" in _column(users, "num_veh")  # vehicles that fled (2021+)
    assert "" in _column(users, "an_nais")
    assert "" not in _column(synthetic_dir / "usagers-2019.csv", "an_nais")


def test_several_lieux_rows_only_from_2023(synthetic_dir: Path) -> None:
    for year in DISK_YEARS:
        keys = pd.Series(_column(synthetic_dir / f"lieux-{year}.csv", "Num_Acc"))
        if year >= 2023:
            assert keys.duplicated().mean() > 0.15
        else:
            assert not keys.duplicated().any()


def test_files_pass_through_the_loader(synthetic_dir: Path, synthetic_loaded: BaacTables) -> None:
    """Row counts equal the files' data rows; nothing dropped or orphaned; nothing replaced
    but the few deliberate ×10 ``vma`` typos (FACTS §3c), below the loader's tolerance."""
    report = synthetic_loaded.report
    for year in DISK_YEARS:
        for table in TABLES:
            n_file = len(_rows(synthetic_dir / f"{table}-{year}.csv")) - 1
            frame = getattr(synthetic_loaded, table)
            assert (frame.year == year).sum() == n_file, (table, year)
    assert set(report.replaced) <= {"lieux.vma"} and report.dropped == {}
    assert report.replaced.get("lieux.vma", 0) <= 0.001 * len(synthetic_loaded.lieux)


def test_keys_resolve(synthetic_loaded: BaacTables) -> None:
    """Every user's vehicle and accident exist, every vehicle's accident exists."""
    t = synthetic_loaded
    acc = set(t.caracteristiques.Num_Acc)
    assert set(t.vehicules.Num_Acc) == acc and set(t.lieux.Num_Acc) == acc
    veh = set(zip(t.vehicules.Num_Acc, t.vehicules.id_vehicule, t.vehicules.num_veh, strict=True))
    usr = set(zip(t.usagers.Num_Acc, t.usagers.id_vehicule, t.usagers.num_veh, strict=True))
    assert usr <= veh
    assert not t.vehicules.duplicated(["Num_Acc", "id_vehicule"]).any()
    with_id = t.usagers[t.usagers.year >= 2021]
    assert with_id.id_usager.is_unique and (with_id.id_usager > 0).all()


def test_feature_table_has_one_row_per_user_with_known_grav(
        synthetic_loaded: BaacTables, synthetic_user_table: pd.DataFrame) -> None:
    users = synthetic_loaded.usagers
    assert len(synthetic_user_table) == int((users.grav != -1).sum())
    assert synthetic_user_table.severe.mean() == pytest.approx(0.18, abs=0.015)


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2019"):
        write_synthetic(tmp_path, [2018], 10)
    with pytest.raises(ValueError, match="n_accidents"):
        write_synthetic(tmp_path, [2020], 0)
    with pytest.raises(ValueError, match="no year"):
        write_synthetic(tmp_path, [], 10)


def test_notice_is_loud() -> None:
    lines = SYNTHETIC_NOTICE.splitlines()
    assert len(lines) >= 8
    assert len({len(line) for line in lines}) == 1, "a closed box: every line the same width"
    assert lines[0].startswith("+") and lines[-1].startswith("+")
    assert all(line.startswith("|") and line.endswith("|") for line in lines[1:-1])
    text = " ".join(" ".join(line.strip("|").split()) for line in lines[1:-1])
    assert "SYNTHETIC DATA" in text and "NOT the real BAAC data" in text
    assert "data.gouv.fr" in text and "data.source: download" in text


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from accidents.synthetic.generator import main

    assert main([str(tmp_path), "--years", "2024", "--n-accidents", "50", "--shift", "vma=0.5"]) == 0
    out, err = capsys.readouterr()
    assert "SYNTHETIC DATA" in err and "caracteristiques-2024.csv: 50 rows" in out
    assert main([str(tmp_path), "--years", "2024", "--shift", "grav=0.5"]) == 2
    assert "column 'grav' cannot be shifted" in capsys.readouterr().err
