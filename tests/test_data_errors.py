"""Every bad-input case of the loader gets a DataError naming the file and the column/value.

Bad files are made in tmp_path from a real sample year (2024) with one defect each.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from accidents.data.loader import load_years
from accidents.errors import DataError, UserError
from tests.fixtures.data import copy_year, edit_table, read_rows, write_rows

pytestmark = pytest.mark.real_data
YEAR = 2024


@pytest.fixture
def data(samples_dir: Path, tmp_path: Path) -> Path:
    return copy_year(samples_dir, YEAR, tmp_path / "data")


def _error(data: Path, **kwargs: object) -> str:
    with pytest.raises(DataError) as info:
        load_years(data, [YEAR], **kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, UserError)
    return str(info.value)


def test_missing_table_for_a_year(data: Path) -> None:
    (data / f"usagers-{YEAR}.csv").unlink()
    msg = _error(data)
    assert str(data) in msg and "usagers" in msg and str(YEAR) in msg
    assert f"lieux-{YEAR}.csv" in msg  # says what the folder does hold


def test_missing_year(data: Path) -> None:
    with pytest.raises(DataError, match="no caracteristiques file for year 2020"):
        load_years(data, [2020])


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data directory not found"):
        load_years(tmp_path / "nowhere", [YEAR])


def test_unknown_separator(data: Path) -> None:
    path = data / f"lieux-{YEAR}.csv"
    path.write_text(path.read_text(encoding="utf-8").replace('";"', '"#"'), encoding="utf-8")
    msg = _error(data)
    assert str(path) in msg and "separator" in msg and "line 1" in msg


def test_missing_column(data: Path) -> None:
    def drop_lum(rows: list[list[str]]) -> list[list[str]]:
        j = rows[0].index("lum")
        return [r[:j] + r[j + 1:] for r in rows]

    path = edit_table(data, "caracteristiques", YEAR, drop_lum)
    msg = _error(data)
    assert str(path) in msg and "missing column(s) lum" in msg


def test_code_outside_codebook_beyond_tolerance(data: Path) -> None:
    def bad_lum(rows: list[list[str]]) -> list[list[str]]:
        j = rows[0].index("lum")
        rows[3][j] = "7"
        return rows

    path = edit_table(data, "caracteristiques", YEAR, bad_lum)
    msg = _error(data)
    assert str(path) in msg and "'lum'" in msg and "'7'" in msg and "line 4" in msg


def test_code_outside_codebook_within_tolerance_is_counted(data: Path) -> None:
    def bad_catv(rows: list[list[str]]) -> list[list[str]]:
        rows[2][rows[0].index("catv")] = "8"  # unused since 2006
        return rows

    edit_table(data, "vehicules", YEAR, bad_catv)
    tables = load_years(data, [YEAR], tolerance=0.05)
    assert tables.report.replaced == {"vehicules.catv": 1}
    assert tables.vehicules["catv"].iloc[1] == -1


def test_letter_code_outside_codebook(data: Path) -> None:
    def bad_actp(rows: list[list[str]]) -> list[list[str]]:
        rows[1][rows[0].index("actp")] = "Z"
        return rows

    path = edit_table(data, "usagers", YEAR, bad_actp)
    msg = _error(data)
    assert str(path) in msg and "'actp'" in msg and "'Z'" in msg


def test_measure_not_a_number(data: Path) -> None:
    def bad_vma(rows: list[list[str]]) -> list[list[str]]:
        rows[1][rows[0].index("vma")] = "#ERREUR"
        return rows

    path = edit_table(data, "lieux", YEAR, bad_vma)
    msg = _error(data)
    assert str(path) in msg and "'vma'" in msg and "'#ERREUR'" in msg


def test_bad_time(data: Path) -> None:
    def bad_hrmn(rows: list[list[str]]) -> list[list[str]]:
        rows[1][rows[0].index("hrmn")] = "25:70"
        return rows

    path = edit_table(data, "caracteristiques", YEAR, bad_hrmn)
    msg = _error(data)
    assert str(path) in msg and "'hrmn'" in msg and "'25:70'" in msg


def test_duplicated_accident_key(data: Path) -> None:
    path = edit_table(data, "caracteristiques", YEAR, lambda rows: rows + [rows[5]])
    msg = _error(data)
    assert str(path) in msg and "Num_Acc" in msg and "202400000005" in msg
    assert "lines 6" in msg


def test_duplicated_vehicle_key(data: Path) -> None:
    path = edit_table(data, "vehicules", YEAR, lambda rows: rows + [rows[1]])
    msg = _error(data)
    assert str(path) in msg and "id_vehicule" in msg and "155781758" in msg


def test_duplicated_user_id(data: Path) -> None:
    path = edit_table(data, "usagers", YEAR, lambda rows: rows + [rows[1]])
    msg = _error(data)
    assert str(path) in msg and "id_usager" in msg and "203988581" in msg


def test_orphan_user_vehicle(data: Path) -> None:
    def orphan(rows: list[list[str]]) -> list[list[str]]:
        rows[2][rows[0].index("id_vehicule")] = "999\xa0999\xa0999"
        return rows

    path = edit_table(data, "usagers", YEAR, orphan)
    msg = _error(data)
    assert str(path) in msg and "line 3" in msg and "999999999" in msg and "vehicules" in msg


def test_orphan_rows_dropped_and_counted_on_request(data: Path) -> None:
    def orphan(rows: list[list[str]]) -> list[list[str]]:
        rows[2][rows[0].index("id_vehicule")] = "999 999 999"
        return rows

    edit_table(data, "usagers", YEAR, orphan)
    n_rows = len(read_rows(data / f"usagers-{YEAR}.csv")) - 1
    tables = load_years(data, [YEAR], on_orphans="drop")
    assert len(tables.usagers) == n_rows - 1
    assert tables.report.dropped == {"usagers rows whose vehicle is missing from vehicules": 1}


def test_orphan_accident(data: Path) -> None:
    def orphan(rows: list[list[str]]) -> list[list[str]]:
        rows[1][0] = "202499999999"
        return rows

    path = edit_table(data, "lieux", YEAR, orphan)
    msg = _error(data)
    assert str(path) in msg and "202499999999" in msg and "caracteristiques" in msg


def test_scientific_notation_key(data: Path) -> None:
    def sci(rows: list[list[str]]) -> list[list[str]]:
        rows[1][0] = "2.024E+11"
        return rows

    path = edit_table(data, "caracteristiques", YEAR, sci)
    msg = _error(data)
    assert str(path) in msg and "line 2" in msg and "'2.024E+11'" in msg and "spreadsheet" in msg


def test_ragged_row(data: Path) -> None:
    path = data / f"vehicules-{YEAR}.csv"
    rows = read_rows(path)
    rows[4].append("extra")
    write_rows(path, rows)
    msg = _error(data)
    assert str(path) in msg and "line 5" in msg


def test_corrupt_gzip(data: Path) -> None:
    src = data / f"lieux-{YEAR}.csv"
    gz = data / f"lieux-{YEAR}.csv.gz"
    gz.write_bytes(gzip.compress(src.read_bytes())[:50])
    src.unlink()
    msg = _error(data)
    assert str(gz) in msg and "cannot read" in msg


def test_blank_lines_are_counted_not_silent(data: Path) -> None:
    path = data / f"caracteristiques-{YEAR}.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:3] + ["\n"] + lines[3:]), encoding="utf-8")
    tables = load_years(data, [YEAR])
    assert tables.report.dropped == {f"blank lines in {path.name}": 1}
    assert len(tables.caracteristiques) == len(lines) - 1


def test_line_numbers_count_skipped_blank_lines(data: Path) -> None:
    """After a skipped blank line, messages still name the physical line of the file."""
    path = data / f"caracteristiques-{YEAR}.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[5].split(";")
    fields[lines[0].split(";").index('"lum"')] = '"7"'
    lines[5] = ";".join(fields)
    path.write_text("".join(lines[:2] + ["\r\n", "\n"] + lines[2:]), encoding="utf-8")
    msg = _error(data)
    assert "'lum'" in msg and "line 8:" in msg  # line 6 of the file + the 2 blank lines above
