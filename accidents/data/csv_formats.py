"""Reading one published BAAC file into a frame of raw strings, whatever copy it is.

The yearly files circulate in several on-disk variants (official `;` + quotes UTF-8,
spreadsheet re-saves with `,`, Latin-1 and double-encoded UTF-8 copies, `.csv.gz`). This
module finds the file of a (table, year), decodes it, detects the separator and maps the
header to the canonical column names; typing the values is the loader's job.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from accidents.errors import DataError
from accidents.data.schema import COLUMN_ALIASES, COLUMNS, OPTIONAL_COLUMNS

#: File-name stems by table, as published on data.gouv.fr and in copies seen in the wild
#: (``carcteristiques-2022.csv`` is the official 2022 spelling; ``caract-2023.csv`` exists).
TABLE_FILE_STEMS: dict[str, tuple[str, ...]] = {
    "caracteristiques": ("caracteristiques", "carcteristiques", "caract"),
    "lieux": ("lieux",),
    "vehicules": ("vehicules",),
    "usagers": ("usagers",),
}
SEPARATORS: tuple[str, ...] = (";", ",", "\t", "|")

# UTF-8 sequences of 2-4 bytes read as Latin-1 ("Ã©" for "é", "Â\xa0" for a no-break space).
_MOJIBAKE = re.compile(r"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


@dataclass
class RawFile:
    """A decoded file: raw string values under canonical column names."""

    path: Path
    table: str
    year: int
    frame: pd.DataFrame  # dtype str, canonical names, no type conversion yet
    encoding: str
    separator: str
    repaired_mojibake: int  # how many double-encoded character sequences were repaired
    blank_lines: int  # empty lines skipped (counted in the load report)
    extra_columns: tuple[str, ...]


def _year_pattern(table: str, year: int) -> re.Pattern[str]:
    stems = "|".join(TABLE_FILE_STEMS[table])
    return re.compile(rf"^(?:{stems})[-_ ]?(?:{year})\.csv(?:\.gz)?$", re.IGNORECASE)


def table_file_candidates(data_dir: Path, table: str, year: int) -> list[Path]:
    """Files in ``data_dir`` or ``data_dir/<year>/`` whose name is one of ``table``'s published names."""
    pattern = _year_pattern(table, year)
    candidates: list[Path] = []
    for folder in (data_dir, data_dir / str(year)):
        if folder.is_dir():
            candidates += sorted(p for p in folder.iterdir() if p.is_file() and pattern.match(p.name))
    return candidates


def find_table_file(data_dir: Path, table: str, year: int) -> Path:
    """The file holding ``table`` for ``year`` in ``data_dir`` or ``data_dir/<year>/``.

    Names as published (``caracteristiques-2021.csv``, ``carcteristiques-2022.csv``,
    ``caract-2023.csv``, ``usagers_2023.csv``, optionally ``.gz``). Raises DataError if
    none or several match, listing what the directory holds.
    """
    candidates = table_file_candidates(data_dir, table, year)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        present = sorted(p.name for p in data_dir.iterdir()) if data_dir.is_dir() else []
        if (data_dir / str(year)).is_dir():
            present += sorted(f"{year}/{p.name}" for p in (data_dir / str(year)).iterdir())
        raise DataError(
            f"{data_dir}: no {table} file for year {year} (expected a name like "
            f"{TABLE_FILE_STEMS[table][0]}-{year}.csv or .csv.gz, in {data_dir} or "
            f"{data_dir / str(year)}); found: {', '.join(present) or 'nothing'}"
        )
    raise DataError(
        f"{data_dir}: several {table} files for year {year}: "
        f"{', '.join(str(c) for c in candidates)}; keep one"
    )


def decode(raw: bytes) -> tuple[str, str, int]:
    """Text of a file, the encoding used, and the number of repaired mojibake sequences.

    UTF-8 (with or without BOM) first; a file that is not valid UTF-8 is a Latin-1 /
    Windows-1252 copy. A UTF-8 file whose accented letters appear as "Ã©" / "Â\xa0" was
    double-encoded (UTF-8 bytes decoded as Latin-1 and saved again): each such sequence is
    decoded back, the rest of the text is left untouched.
    """
    try:
        text = raw.decode("utf-8-sig")
        encoding = "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            text, encoding = raw.decode("latin-1"), "latin-1"
        return text, encoding, 0
    repaired = 0

    def fix(m: re.Match[str]) -> str:
        nonlocal repaired
        try:
            out = m.group().encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            return m.group()
        repaired += 1
        return out

    # Cheap test first: French mojibake starts with Â/Ã (2-byte) or â (’, €: 3-byte).
    if any(lead in text for lead in "ÂÃâ") and _MOJIBAKE.search(text):
        text = _MOJIBAKE.sub(fix, text)
        if repaired:
            encoding = "utf-8 (double-encoded, repaired)"
    return text, encoding, repaired


def _row_lines(payload: bytes, n_rows: int) -> np.ndarray:
    """Physical line number of each data row when blank lines were skipped.

    Rows are the non-blank lines after the header, in order. (A quoted field holding a
    line break would shift this; the published files have none: then rows count from 2.)
    """
    raw = np.frombuffer(payload, dtype=np.uint8)
    ends = np.flatnonzero(raw == 10)  # "\n" positions; line k ends at ends[k - 1]
    starts = np.concatenate(([0], ends[:-1] + 1))
    length = ends - starts
    blank = (length == 0) | ((length == 1) & (raw[np.minimum(starts, len(raw) - 1)] == 13))
    lines = np.flatnonzero(~blank) + 1  # 1-based line numbers of non-blank lines
    lines = lines[lines >= 2]  # after the header
    if len(raw) and raw[-1] != 10:  # last line without a line end
        lines = np.append(lines, len(ends) + 1)
    if len(lines) != n_rows:
        return np.arange(2, n_rows + 2)
    return lines


def _norm_header(name: str) -> str:
    return name.lstrip("\ufeff").strip().strip('"').strip().lower()


def detect_separator(header_line: str, path: Path, table: str) -> str:
    """The separator that splits the header into known column names of ``table``."""
    known = {c.lower() for c in COLUMNS[table]} | set(COLUMN_ALIASES)
    best, best_hits = "", 0
    for sep in SEPARATORS:
        fields = next(csv.reader([header_line], delimiter=sep))
        hits = sum(_norm_header(f) in known for f in fields)
        if hits > best_hits:
            best, best_hits = sep, hits
    if best_hits < 2:
        raise DataError(
            f"{path}: line 1: cannot find the separator: the header {header_line[:120]!r} "
            f"does not split into {table} column names with any of "
            f"{', '.join(repr(s) for s in SEPARATORS)}"
        )
    return best


def read_raw(path: Path, table: str, year: int) -> RawFile:
    """Read ``path`` as ``table`` of ``year`` into raw strings under canonical names."""
    try:
        data = path.read_bytes()
        if path.suffix.lower() == ".gz":
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: cannot read the file: {exc}") from exc
    text, encoding, repaired = decode(data)
    first_nl = text.find("\n")
    header_line = (text if first_nl < 0 else text[:first_nl]).rstrip("\r")
    if not header_line.strip():
        raise DataError(f"{path}: line 1: empty file or empty header line")
    sep = detect_separator(header_line, path, table)
    # Count blank lines so they are reported rather than silently skipped by pandas.
    blank_lines = text.count("\n\n") + text.count("\n\r\n")
    try:
        # pandas parses UTF-8 bytes about twice as fast as a str: hand it bytes.
        payload = data if encoding == "utf-8" else text.encode("utf-8")
        frame = pd.read_csv(
            io.BytesIO(payload), sep=sep, encoding="utf-8-sig", dtype=str, quotechar='"',
            keep_default_na=False, na_filter=False, skip_blank_lines=True, engine="c",
        )
    except pd.errors.ParserError as exc:
        detail = str(exc).replace("Error tokenizing data. C error: ", "").strip()
        n_header = len(next(csv.reader([header_line], delimiter=sep)))
        raise DataError(
            f"{path}: malformed CSV ({sep!r}-separated, {n_header} columns in the header): {detail}"
        ) from exc
    canon = {c.lower(): c for c in COLUMNS[table]}
    canon.update(COLUMN_ALIASES)
    rename: dict[str, str] = {}
    extra: list[str] = []
    for col in frame.columns:
        key = _norm_header(str(col))
        if key in canon and canon[key] not in rename.values():
            rename[col] = canon[key]
        else:
            extra.append(str(col))
    frame = frame.rename(columns=rename).drop(columns=extra)
    optional = OPTIONAL_COLUMNS.get(table, frozenset())
    missing = [c for c in COLUMNS[table] if c not in frame.columns and c not in optional]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)} for table {table}; header has "
            f"{', '.join(map(str, rename)) or 'no known column'}"
            + (f" (unknown: {', '.join(extra)})" if extra else "")
        )
    order = [c for c in COLUMNS[table] if c in frame.columns]
    frame.index = _row_lines(payload, len(frame)) if blank_lines else np.arange(2, len(frame) + 2)
    return RawFile(path, table, year, frame[order], encoding, sep, repaired, blank_lines,
                   tuple(extra))
