"""Reading one published BAAC file into a frame of raw strings, whatever copy it is.

The yearly files circulate in several on-disk variants (official `;` + quotes UTF-8,
spreadsheet re-saves with `,`, Latin-1 and double-encoded UTF-8 copies, `.csv.gz`). This
module finds the file of a (table, year), decodes it, detects the separator and maps the
header to the canonical column names; typing the values is the loader's job.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from accidents.data import scan
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
    blank_lines: int  # empty or whitespace-only lines skipped (counted in the load report)
    extra_columns: tuple[str, ...]
    other_encoding_lines: int = 0  # lines of a UTF-8 file decoded as CP1252/Latin-1 (counted)
    first_other_line: int = 0


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


@dataclass
class Decoded:
    """A file's text and how it was decoded."""

    text: str
    encoding: str
    repaired_mojibake: int
    #: lines of a UTF-8 file that were not valid UTF-8 and were decoded as CP1252/Latin-1
    other_encoding_lines: int = 0
    first_other_line: int = 0


def _decode_line(line: bytes) -> tuple[str, str]:
    try:
        return line.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return line.decode("latin-1"), "latin-1"


def decode(raw: bytes) -> Decoded:
    """Text of a file, the encoding used, repaired mojibake and lines in another encoding.

    UTF-8 (with or without BOM) first. A file that is not valid UTF-8 is decoded line by
    line: lines that are valid UTF-8 stay so, the others are CP1252 (Latin-1 for the few
    bytes CP1252 leaves undefined). A file whose non-ASCII lines all needed the fallback is a
    CP1252/Latin-1 copy; one that mixes both is a mixed file and its fallback lines are
    counted (the whole file is never re-decoded in another codec). A UTF-8 file whose
    accented letters appear as "Ã©" / "Â\xa0" was double-encoded: each such sequence is
    decoded back, the rest of the text is left untouched.
    """
    try:
        text = raw.decode("utf-8-sig")
        encoding = "utf-8"
    except UnicodeDecodeError:
        parts: list[str] = []
        utf8_non_ascii, fallback, codecs_used = 0, [], set()
        for number, line in enumerate(raw.split(b"\n"), start=1):
            try:
                parts.append(line.decode("utf-8"))
                utf8_non_ascii += not line.isascii()
            except UnicodeDecodeError:
                decoded, codec = _decode_line(line)
                parts.append(decoded)
                codecs_used.add(codec)
                fallback.append(number)
        text = "\n".join(parts).lstrip("\ufeff")
        other = "/".join(sorted(codecs_used))
        if not utf8_non_ascii:
            return Decoded(text, other, 0)
        return Decoded(text, f"utf-8 + {other} on {len(fallback)} line(s)", 0, len(fallback), fallback[0])
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
    return Decoded(text, encoding, repaired)


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


def _header_names(header_line: str, sep: str, path: Path, table: str) -> list[str]:
    """Normalised header fields; two fields meaning one column are refused (pandas would rename one)."""
    names = next(csv.reader([header_line], delimiter=sep))
    canon = {c.lower(): c for c in COLUMNS[table]}
    canon.update(COLUMN_ALIASES)
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        key = canon.get(_norm_header(name), _norm_header(name))
        if key in seen:
            raise DataError(
                f"{path}: line 1, column {name.strip()!r}: the header names column {key!r} twice "
                f"(fields {seen[key] + 1} and {i + 1}); which one holds the data cannot be known"
            )
        seen[key] = i
    # canonical names for known columns (messages say 'Num_Acc'), the header's own otherwise
    return [canon.get(_norm_header(n), n.strip().strip('"').strip()) for n in names]


@dataclass
class CheckedCsv:
    """A CSV file that passed the byte-level checks, parsed to raw strings."""

    frame: pd.DataFrame  # dtype str, header names as in the file, index = physical line
    names: list[str]
    separator: str
    decoded: Decoded
    blank_lines: int


def read_checked_csv(path: Path, header_names: Callable[[str], tuple[str, list[str]]]) -> CheckedCsv:
    """Read a CSV file through the byte-level checks of accidents.data.scan, then pandas.

    ``header_names(header_line)`` returns the separator and the header's names (and raises
    for a header it cannot use). Nothing pandas would shift or swallow reaches it: quotes,
    field counts, control bytes, line ends and line lengths are checked on the bytes first.
    The frame's index is the physical line number of each row.
    """
    data = scan.read_bytes(path)
    scan.refuse_non_text(data, path)
    if not data.strip():
        raise DataError(f"{path}: line 1: empty file (no header, no data)")
    scan.refuse_cr_only_file(data, path)
    lines = scan.find_lines(data)
    if lines.too_long == 0:
        scan.refuse_long_line(data, path, lines, None, b";")
    header = data[lines.starts[0]:lines.ends[0]].removeprefix(b"\xef\xbb\xbf")
    control = scan.CONTROL.search(header)
    if control is not None:
        raise DataError(f"{path}: line 1, byte {control.start() + 1}: control byte "
                        f"0x{header[control.start()]:02x} in the header; not CSV text")
    if lines.blank[0]:
        raise DataError(f"{path}: line 1: empty header line (the header must be the first line)")
    sep, names = header_names(decode(header).text)
    sep_b = sep.encode()
    scan.refuse_long_line(data, path, lines, names, sep_b)
    scan.refuse_control_bytes(data, path, names, sep_b)
    scan.refuse_stray_cr(data, path, names, sep_b)
    scan.check_structure(data, path, lines, names, sep_b)
    blank_lines = int(lines.blank.sum())
    kept = np.flatnonzero(~lines.blank)
    if blank_lines:
        data = b"\n".join(data[s:e] for s, e in zip(lines.starts[kept], lines.ends[kept], strict=True)) + b"\n"
    decoded = decode(data)
    # pandas parses UTF-8 bytes about twice as fast as a str: hand it bytes.
    payload = data if decoded.encoding == "utf-8" else decoded.text.encode("utf-8")
    del data
    frame = pd.read_csv(
        io.BytesIO(payload), sep=sep, encoding="utf-8-sig", dtype=str, quotechar='"',
        keep_default_na=False, na_filter=False, skip_blank_lines=True, engine="c",
        index_col=False,
    )
    del payload
    row_lines = kept[1:] + 1  # physical line numbers of the data rows
    if len(row_lines) != len(frame):  # cannot happen after check_structure; never guess lines
        raise DataError(f"{path}: {len(frame)} rows parsed from {len(row_lines)} data lines; the file "
                        f"has a structure this reader does not know")
    frame.index = row_lines
    return CheckedCsv(frame, names, sep, decoded, blank_lines)


def read_raw(path: Path, table: str, year: int) -> RawFile:
    """Read ``path`` as ``table`` of ``year`` into raw strings under canonical names."""

    def header_names(header_line: str) -> tuple[str, list[str]]:
        sep = detect_separator(header_line, path, table)
        return sep, _header_names(header_line, sep, path, table)

    checked = read_checked_csv(path, header_names)
    frame, sep, decoded = checked.frame, checked.separator, checked.decoded
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
            f"{path}: line 1: missing column(s) {', '.join(missing)} for table {table}; header has "
            f"{', '.join(map(str, rename)) or 'no known column'}"
            + (f" (unknown: {', '.join(extra)})" if extra else "")
        )
    order = [c for c in COLUMNS[table] if c in frame.columns]
    return RawFile(path, table, year, frame[order], decoded.encoding, sep, decoded.repaired_mojibake,
                   checked.blank_lines, tuple(extra), decoded.other_encoding_lines, decoded.first_other_line)


def read_table_csv(path: Path) -> CheckedCsv:
    """A CSV table that is not a BAAC file (a monitoring batch): same checks, separator = the
    one of ``SEPARATORS`` that splits the header into the most fields; duplicate names refused."""

    def header_names(header_line: str) -> tuple[str, list[str]]:
        sep = max(SEPARATORS, key=lambda s: len(next(csv.reader([header_line], delimiter=s))))
        names = [n.strip() for n in next(csv.reader([header_line], delimiter=sep))]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise DataError(f"{path}: line 1, column {name!r}: the header names this column twice "
                                f"(fields {names.index(name) + 1} and {i + 1})")
        return sep, names

    return read_checked_csv(path, header_names)
