"""Published-copy variants of the BAAC files load to exactly the same tables.

Each variant is built in tmp_path from a real sample year (2023: ``id_usager``, several
lieux rows, accented addresses) and compared with the official copy.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pandas as pd
import pytest

from accidents.data.loader import BaacTables, load_file, load_years
from accidents.data.schema import TABLES
from accidents.errors import DataError
from tests.fixtures.data import copy_year, edit_table, read_rows, write_rows

pytestmark = pytest.mark.real_data
YEAR = 2023


def _assert_same(a: BaacTables, b: BaacTables) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(a.table(table), b.table(table), check_like=False)


@pytest.fixture(scope="module")
def official(samples_dir: Path) -> BaacTables:
    return load_years(samples_dir, [YEAR])


@pytest.fixture
def copy(samples_dir: Path, tmp_path: Path) -> Path:
    return copy_year(samples_dir, YEAR, tmp_path / "data")


def test_comma_separated_resave(copy: Path, official: BaacTables) -> None:
    """A spreadsheet re-save: `,` separator, quotes only where needed."""
    for table in TABLES:
        path = copy / f"{table}-{YEAR}.csv"
        write_rows(path, read_rows(path), delimiter=",", quoting=csv.QUOTE_MINIMAL)
    loaded = load_years(copy, [YEAR])
    _assert_same(loaded, official)
    assert {f.separator for f in loaded.report.files} == {","}


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-8-sig"])
def test_latin1_copy(copy: Path, official: BaacTables, encoding: str) -> None:
    for table in TABLES:
        path = copy / f"{table}-{YEAR}.csv"
        text = path.read_text(encoding="utf-8")
        # NBSP and accented letters exist in Latin-1; the bytes change, the text must not.
        path.write_bytes(text.encode(encoding))
    loaded = load_years(copy, [YEAR])
    _assert_same(loaded, official)
    assert "Général" in " ".join(loaded.caracteristiques["adr"])


def test_double_encoded_copy(copy: Path, official: BaacTables) -> None:
    """UTF-8 bytes decoded as Latin-1 and saved again as UTF-8 ("Ã©", "Â\xa0")."""
    for table in TABLES:
        path = copy / f"{table}-{YEAR}.csv"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.encode("utf-8").decode("latin-1"), encoding="utf-8")
    assert "Ã©" in (copy / f"caracteristiques-{YEAR}.csv").read_text(encoding="utf-8")
    loaded = load_years(copy, [YEAR])
    _assert_same(loaded, official)


def test_gzip_and_year_subfolder(copy: Path, official: BaacTables, tmp_path: Path) -> None:
    root = tmp_path / "gz"
    (root / str(YEAR)).mkdir(parents=True)
    for table in TABLES:
        src = copy / f"{table}-{YEAR}.csv"
        (root / str(YEAR) / f"{table}-{YEAR}.csv.gz").write_bytes(gzip.compress(src.read_bytes()))
    _assert_same(load_years(root, [YEAR]), official)


@pytest.mark.parametrize("name", ["carcteristiques-2023.csv", "caract-2023.csv", "Caracteristiques_2023.csv"])
def test_published_file_names_and_accident_id(copy: Path, official: BaacTables, name: str) -> None:
    """data.gouv.fr names (carcteristiques-2022.csv) and the 2022 key name Accident_Id."""
    src = copy / f"caracteristiques-{YEAR}.csv"
    rows = read_rows(src)
    rows[0][0] = "Accident_Id"
    src.unlink()
    write_rows(copy / name, rows)
    _assert_same(load_years(copy, [YEAR]), official)


def test_spaces_markers_and_padding_variants(copy: Path, official: BaacTables) -> None:
    """Plain spaces instead of NBSP in ids, unpadded mois, H:MM / HHMM, '.' decimals, 'N/A', '(1)'."""

    def car(rows: list[list[str]]) -> list[list[str]]:
        h = rows[0]
        for i, r in enumerate(rows[1:]):
            r[h.index("mois")] = str(int(r[h.index("mois")]))
            hh, mm = r[h.index("hrmn")].split(":")
            r[h.index("hrmn")] = f"{int(hh)}:{mm}" if i % 2 else f"{hh}{mm}"  # 7:05 / 0705
            r[h.index("lat")] = r[h.index("lat")].replace(",", ".")
        return rows

    def lieux(rows: list[list[str]]) -> list[list[str]]:
        h = rows[0]
        for r in rows[1:]:
            if r[h.index("pr")].strip() == "-1":
                r[h.index("pr")] = "(1)"
            if r[h.index("v2")] == "N/A":
                r[h.index("v2")] = ""
            if r[h.index("larrout")].strip() == "-1":
                r[h.index("larrout")] = "N/A"
        return rows

    def ids(rows: list[list[str]]) -> list[list[str]]:
        return [[v.replace("\xa0", " ") for v in r] for r in rows]

    edit_table(copy, "caracteristiques", YEAR, car)
    edit_table(copy, "lieux", YEAR, lieux)
    edit_table(copy, "vehicules", YEAR, ids)
    edit_table(copy, "usagers", YEAR, ids)
    _assert_same(load_years(copy, [YEAR]), official)


def test_several_years_and_spaces_in_measures(samples_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "two"
    copy_year(samples_dir, 2019, root)
    copy_year(samples_dir, 2024, root)
    tables = load_years(root, [2024, 2019])
    assert sorted(tables.caracteristiques["year"].unique()) == [2019, 2024]
    assert tables.report.rows["usagers"] == 171 + 147

    def spaced(rows: list[list[str]]) -> list[list[str]]:
        rows[1][rows[0].index("pr1")] = "1\xa0630"
        return rows

    edit_table(root, "lieux", 2019, spaced)
    assert load_years(root, [2019]).lieux["pr1"].iloc[0] == 1630.0


def test_uncompressed_and_gz_twins_are_ambiguous(copy: Path) -> None:
    src = copy / f"lieux-{YEAR}.csv"
    (copy / f"lieux-{YEAR}.csv.gz").write_bytes(gzip.compress(src.read_bytes()))
    with pytest.raises(DataError, match="several lieux files for year 2023"):
        load_years(copy, [YEAR])


def test_unknown_column_is_ignored_and_noted(copy: Path, official: BaacTables) -> None:
    def extra(rows: list[list[str]]) -> list[list[str]]:
        return [r + (["source"] if i == 0 else ["x"]) for i, r in enumerate(rows)]

    edit_table(copy, "vehicules", YEAR, extra)
    loaded = load_years(copy, [YEAR])
    _assert_same(loaded, official)
    assert loaded.report.notes[f"unknown columns ignored in vehicules-{YEAR}.csv: source"] == 1


def test_header_only_table_loads_typed_and_empty_but_fails_the_gate(copy: Path) -> None:
    """A table with no data row (e.g. a truncated download) loads empty with the contract's
    dtypes on its own, and a year holding it is refused by the completeness gate."""
    edit_table(copy, "lieux", YEAR, lambda rows: rows[:1])
    lieux = load_file(copy / f"lieux-{YEAR}.csv", "lieux", YEAR)
    assert len(lieux) == 0
    assert lieux["catr"].dtype == "int64" and lieux["vma"].dtype == "float64"
    with pytest.raises(DataError, match=r"lieux-2023.csv: line 2, column 'Num_Acc'.*header but no data row"):
        load_years(copy, [YEAR])


def test_double_encoded_bom(copy: Path, official: BaacTables) -> None:
    path = copy / f"usagers-{YEAR}.csv"
    text = "\ufeff" + path.read_text(encoding="utf-8")
    path.write_text(text.encode("utf-8").decode("latin-1"), encoding="utf-8")
    _assert_same(load_years(copy, [YEAR]), official)
