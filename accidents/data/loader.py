"""Load BAAC yearly files (2019+) into four typed DataFrames, with clear errors.

``load_years(data_dir, years)`` finds each table's file (names as published, ``.csv`` or
``.csv.gz``, directly in ``data_dir`` or in ``data_dir/<year>/``), decodes it whatever the
copy (see ``csv_formats``), converts every column to the type of docs/CONTRACTS.md
column by column (no per-row Python), then checks keys and joins. Bad input raises
``DataError`` naming the file, line or column and value. Nothing is dropped silently:
values replaced by "not recorded" and rows dropped are counted in ``LoadReport``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from accidents.data.csv_formats import RawFile, find_table_file, read_raw
from accidents.data.validity import DEFAULT_VALIDITY_TOLERANCE, check_complete, check_validity
from accidents.errors import DataError
from accidents.data.schema import (
    COLUMN_ALIASES,
    KEY,
    MISSING_MARKERS,
    NOT_RECORDED,
    SCHEMA,
    TABLES,
    Column,
)

#: Share of a column's values that may be outside the codebook (or unparseable) before
#: the file is refused. Below it, such values become "not recorded" and are counted.
DEFAULT_TOLERANCE = 0.001

#: Measures where ``-1`` is a real value, not the "not recorded" marker.
_SIGNED_MEASURES = frozenset({"lat", "long"})
_MEASURE_MARKERS = list(MISSING_MARKERS)
_MEASURE_MARKERS_SIGNED = [m for m in MISSING_MARKERS if m != "-1"]
#: Thousands separators inside numbers ("1 630"): spaces, no-break spaces, mojibake Â.
_ID_JUNK = r"[\s\u00a0\u202f\u00c2]"


@dataclass
class FileReport:
    """What was read from one file."""

    path: str
    table: str
    year: int
    rows: int
    encoding: str
    separator: str
    repaired_mojibake: int
    blank_lines: int
    extra_columns: tuple[str, ...] = ()
    other_encoding_lines: int = 0


@dataclass
class LoadReport:
    """Counts of everything read, replaced or dropped (logged as step metadata)."""

    files: list[FileReport] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    #: table -> year -> rows kept
    rows_by_year: dict[str, dict[str, int]] = field(default_factory=dict)
    #: ``"<table>.<column>"`` -> values outside the codebook / unparseable, set to
    #: not recorded (-1, NaN or "").
    replaced: dict[str, int] = field(default_factory=dict)
    #: reason -> rows dropped.
    dropped: dict[str, int] = field(default_factory=dict)
    #: facts worth knowing that are not errors (accidents without a lieux row, ...).
    notes: dict[str, int] = field(default_factory=dict)
    #: ``"<table> <year>: <check>"`` -> rows failing a validity check (below the tolerance).
    validity: dict[str, int] = field(default_factory=dict)
    #: same keys -> ``"<file>:<line> <column>=<value>"`` of the first such row.
    validity_first: dict[str, str] = field(default_factory=dict)
    tolerance: float = DEFAULT_TOLERANCE
    validity_tolerance: float = DEFAULT_VALIDITY_TOLERANCE

    def _add(self, bucket: dict[str, int], key: str, n: int) -> None:
        if n:
            bucket[key] = bucket.get(key, 0) + int(n)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-able dict (for ZenML metadata)."""
        return asdict(self)

    def summary(self) -> str:
        """The short human report printed by ``run.py train`` / ``monitor`` (see docs/data.md)."""
        years = sorted({y for per in self.rows_by_year.values() for y in per})
        width = max((len(t) for t in self.rows_by_year), default=5) + 2
        lines = ["load report: rows per table and year"]
        lines.append(" " * (width + 2) + "".join(f"{y:>10}" for y in years) + f"{'total':>10}")
        for table, per in self.rows_by_year.items():
            lines.append(f"  {table:<{width}}" + "".join(f"{per.get(y, 0):>10,}" for y in years)
                         + f"{sum(per.values()):>10,}")
        encodings: dict[str, int] = {}
        separators: dict[str, int] = {}
        for f in self.files:
            encodings[f.encoding] = encodings.get(f.encoding, 0) + 1
            separators[repr(f.separator)] = separators.get(repr(f.separator), 0) + 1
        lines.append(f"  {len(self.files)} files; encodings: "
                     + ", ".join(f"{k} ({n})" for k, n in encodings.items())
                     + "; separators: " + ", ".join(f"{k} ({n})" for k, n in separators.items()))

        def bucket(title: str, items: dict[str, int], extra: str = "") -> None:
            total = sum(items.values())
            lines.append(f"  {title}: {total}{extra}" + ("" if items else ""))
            lines.extend(f"    {k}: {n}" for k, n in items.items())

        bucket("values replaced by not-recorded", self.replaced,
               f" (tolerance data.tolerance = {self.tolerance:.2%} per column)")
        bucket("rows/lines dropped", self.dropped)
        bucket("rows failing a validity check (kept, counted)", self.validity,
               f" (tolerance data.validity_tolerance = {self.validity_tolerance:.2%} per check)")
        bucket("noted", self.notes)
        return "\n".join(lines)


@dataclass
class BaacTables:
    """The four typed tables of the years asked (see docs/CONTRACTS.md for the types)."""

    caracteristiques: pd.DataFrame
    lieux: pd.DataFrame
    vehicules: pd.DataFrame
    usagers: pd.DataFrame
    report: LoadReport

    def table(self, name: str) -> pd.DataFrame:
        """A table by name."""
        if name not in TABLES:
            raise KeyError(name)
        return getattr(self, name)


# --------------------------------------------------------------------------- converters
#: Code points allowed inside an identifier besides digits: space, no-break spaces, the
#: "Â" of double-encoded no-break spaces, and the NUL padding of numpy's fixed-width text.
#: Longest text accepted as an identifier (18 digits with separators and padding).
_MAX_ID_CHARS = 40
_ID_SEPARATORS = np.array([0x20, 0xA0, 0x202F, 0xC2, 0x00], dtype=np.uint32)


def _parse_ids(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Digits of each text id as int64, and which ids are not numeric ("2.0E+11", "").

    Vectorised over code points (no per-value Python): thousands separators (spaces,
    no-break spaces, mojibake "Â") are dropped, any other character makes the id invalid.
    """
    text = values.astype(str)
    width = max(text.dtype.itemsize // 4, 1)
    cp = np.ascontiguousarray(text).view(np.uint32).reshape(len(text), width)
    is_digit = (cp >= 48) & (cp <= 57)
    ok_char = is_digit | np.isin(cp, _ID_SEPARATORS)
    n_digits = is_digit.sum(axis=1)
    bad = ~ok_char.all(axis=1) | (n_digits == 0) | (n_digits > 18)
    # power of ten of each digit = number of digits to its right
    right = np.cumsum(is_digit[:, ::-1], axis=1)[:, ::-1] - is_digit
    pow10 = np.power(np.int64(10), np.minimum(right, 18).astype(np.int64))
    digits = np.where(is_digit, cp.astype(np.int64) - 48, 0)
    out = np.where(bad, 0, (digits * pow10).sum(axis=1))
    return out.astype(np.int64), bad


class _Converter:
    """Column converters for one raw file; invalid values are tolerated up to a share.

    Each column is factorised first and converted on its distinct values only (a code
    column of 125,000 rows has a dozen), then expanded back with ``take``: this keeps
    a year's load well under a second per table without any per-row Python.
    """

    def __init__(self, raw: RawFile, tolerance: float, report: LoadReport) -> None:
        self.raw = raw
        self.tolerance = tolerance
        self.report = report
        self.n = len(raw.frame)

    def _line(self, mask: np.ndarray) -> int:
        return int(self.raw.frame.index[np.flatnonzero(mask)[0]])  # index = file line

    def _tolerate(self, col: Column, rows: np.ndarray, invalid_u: np.ndarray, what: str) -> None:
        """Count values invalid_u[rows]; refuse the file beyond the tolerance."""
        if not invalid_u.any():
            return
        mask = invalid_u[rows]
        n_bad = int(mask.sum())
        if n_bad > self.tolerance * self.n:
            values = self.raw.frame[col.name].to_numpy()
            bad_values = pd.unique(values[mask])[:5]
            shown = ", ".join(repr(v) for v in bad_values)
            expected = (
                "a time HH:MM" if col.kind == "hrmn"
                else f"codes {', '.join(map(str, col.codes))}" if col.codes
                else f"a number in {col.valid_range}" if col.valid_range
                else "a number"
            )
            raise DataError(
                f"{self.raw.path}: column {col.name!r}: {n_bad} of {self.n} values are {what} "
                f"(first at line {self._line(mask)}: {values[mask][0]!r}; values: {shown}); "
                f"expected {expected} or a not-recorded marker "
                f"(tolerance {self.tolerance:.2%})"
            )
        self.report._add(self.report.replaced, f"{self.raw.table}.{col.name}", n_bad)

    def code(self, col: Column, u: pd.Series, rows: np.ndarray) -> np.ndarray:
        s = u.str.strip()
        missing = s.isin(MISSING_MARKERS)
        num = pd.to_numeric(s.mask(missing), errors="coerce")
        if col.name == "an":
            num = num.where(~(num < 100), num + 2000)  # "19" in old copies
        ok_number = num.notna() & (num == np.floor(num))
        if col.codes:
            valid = ok_number & num.isin([c for c in col.codes if isinstance(c, int)])
        else:
            lo, hi = col.valid_range or (-np.inf, np.inf)
            valid = ok_number & num.between(lo, hi)
        invalid = (~valid & ~missing).to_numpy()
        self._tolerate(col, rows, invalid, "outside the codebook" if col.codes else "invalid")
        return num.where(valid, NOT_RECORDED).to_numpy().astype("int64")

    def letter(self, col: Column, u: pd.Series, rows: np.ndarray) -> np.ndarray:
        s = u.str.strip().str.upper()
        missing = s.isin(MISSING_MARKERS)
        valid = s.isin([str(c) for c in col.codes])
        self._tolerate(col, rows, (~valid & ~missing).to_numpy(), "outside the codebook")
        return s.where(valid, str(NOT_RECORDED)).to_numpy(dtype=object)

    def measure(self, col: Column, u: pd.Series, rows: np.ndarray) -> np.ndarray:
        s = u.str.strip()
        markers = _MEASURE_MARKERS_SIGNED if col.name in _SIGNED_MEASURES else _MEASURE_MARKERS
        missing = s.isin(markers)
        cleaned = s.str.replace(_ID_JUNK, "", regex=True).str.replace(",", ".", regex=False)
        num = pd.to_numeric(cleaned.mask(missing), errors="coerce").astype("float64")
        self._tolerate(col, rows, (num.isna() & ~missing).to_numpy(), "not numbers")
        if col.valid_range is not None:
            lo, hi = col.valid_range
            out = (num.notna() & ~num.between(lo, hi)).to_numpy()
            if out.any():  # implausible measures (vma 901...) are a fact of the data
                self.report._add(self.report.replaced, f"{self.raw.table}.{col.name}",
                                 int(out[rows].sum()))
                num = num.mask(out)
        return num.to_numpy()

    def ident(self, col: Column, u: pd.Series, rows: np.ndarray) -> np.ndarray:
        # An id is at most 18 digits plus separators: longer text is refused before the
        # fixed-width conversion in _parse_ids, whose memory grows with the longest value.
        too_long = (u.str.len() > _MAX_ID_CHARS).to_numpy()
        if too_long.any():
            mask = too_long[rows]
            value = self.raw.frame[col.name].to_numpy()[mask][0]
            raise DataError(
                f"{self.raw.path}: line {self._line(mask)}: column {col.name!r}: value "
                f"{value[:40]!r}... ({len(value):,} characters) is not a numeric identifier "
                f"(at most {_MAX_ID_CHARS} characters)"
            )
        values, bad_u = _parse_ids(u.to_numpy())
        if bad_u.any():
            mask = bad_u[rows]
            value = self.raw.frame[col.name].to_numpy()[mask][0]
            hint = (
                " (scientific notation: the file was re-saved by a spreadsheet and the "
                "identifiers are lost; use the published file)"
                if "E+" in value.upper() else ""
            )
            if value.strip().strip('"').strip().lower() in {col.name.lower(), *COLUMN_ALIASES}:
                hint = ": the header line appears again inside the file (two files concatenated?); remove it"

            raise DataError(
                f"{self.raw.path}: line {self._line(mask)}: column {col.name!r}: value "
                f"{value!r} is not a numeric identifier{hint}"
            )
        return values

    def text(self, col: Column, u: pd.Series, rows: np.ndarray) -> np.ndarray:
        s = u.str.strip()
        return s.mask(s.isin(MISSING_MARKERS), "").to_numpy(dtype=object)

    def hrmn(self, col: Column, u: pd.Series, rows: np.ndarray) -> np.ndarray:
        s = u.str.strip()
        parts = s.str.extract(r"^(\d{1,2}):?(\d{2})$")
        hh = pd.to_numeric(parts[0], errors="coerce")
        mm = pd.to_numeric(parts[1], errors="coerce")
        valid = hh.between(0, 23) & mm.between(0, 59)
        missing = s.isin(MISSING_MARKERS)
        self._tolerate(col, rows, (~valid & ~missing).to_numpy(), "not times HH:MM")
        out = parts[0].str.zfill(2) + ":" + parts[1]
        return out.where(valid, "").to_numpy(dtype=object)

    def convert(self) -> pd.DataFrame:
        out: dict[str, np.ndarray] = {}
        for name in self.raw.frame.columns:
            col = SCHEMA[self.raw.table][name]
            rows, uniques = pd.factorize(self.raw.frame[name], sort=False)
            u = pd.Series(uniques, dtype=object)
            kind = col.kind
            if kind in ("key", "id"):
                conv = self.ident
            elif kind in ("code", "int"):
                conv = self.code
            elif kind == "letter":
                conv = self.letter
            elif kind == "measure":
                conv = self.measure
            elif kind == "hrmn":
                conv = self.hrmn
            else:
                conv = self.text
            out[name] = conv(col, u, rows).take(rows) if len(u) else np.empty(0, dtype=object)
        frame = pd.DataFrame(out, index=self.raw.frame.index)  # index = line in the file
        for name in self.raw.frame.columns:  # empty files keep the contract's dtypes
            kind = SCHEMA[self.raw.table][name].kind
            if not len(frame) and kind in ("key", "id", "code", "int"):
                frame[name] = frame[name].astype("int64")
            elif not len(frame) and kind == "measure":
                frame[name] = frame[name].astype("float64")
        if self.raw.table == "usagers" and "id_usager" not in frame:
            # absent before 2021 and in some 2021 copies; -1 keeps the column int64 (CONTRACTS)
            frame.insert(1, "id_usager", np.full(len(frame), NOT_RECORDED, dtype="int64"))
            self.report._add(self.report.notes, "usagers rows without id_usager (set to -1)", len(frame))
        frame["year"] = np.int64(self.raw.year)
        return frame


# --------------------------------------------------------------------------- checks
def _plain(value: object) -> object:
    """numpy scalars as plain Python values, so messages show 12 rather than np.int64(12)."""
    return value.item() if isinstance(value, np.generic) else value


def _lines(frame: pd.DataFrame, mask: np.ndarray, limit: int = 5) -> str:
    """File line numbers of the masked rows (a per-file frame's index is its line number)."""
    return ", ".join(str(line) for line in frame.index[np.flatnonzero(mask)[:limit]])


def _check_unique(frame: pd.DataFrame, cols: list[str], path: str, skip: int | None = None) -> None:
    sub = frame[cols]
    if skip is not None:
        sub = sub[(sub != skip).all(axis=1)]
    dup = sub.duplicated(keep=False)
    if dup.any():
        first = sub[dup].iloc[0]
        value = ", ".join(f"{c}={_plain(first[c])!r}" for c in cols)
        mask = (frame[cols] == first.to_numpy()).all(axis=1).to_numpy()
        raise DataError(
            f"{path}: duplicated key ({', '.join(cols)}): {value} appears on lines "
            f"{_lines(frame, mask)} ({int(dup.sum())} rows share a key in this file)"
        )


def _orphans(child: pd.DataFrame, parent: pd.DataFrame, cols: list[str]) -> np.ndarray:
    if len(cols) == 1:
        return ~child[cols[0]].isin(parent[cols[0]]).to_numpy()
    keys = pd.MultiIndex.from_frame(parent[cols])
    return ~pd.MultiIndex.from_frame(child[cols]).isin(keys)


def _handle_orphans(
    frames: dict[str, pd.DataFrame], paths: dict[str, str], table: str, parent: str,
    cols: list[str], on_orphans: str, report: LoadReport,
) -> None:
    mask = _orphans(frames[table], frames[parent], cols)
    if not mask.any():
        return
    n = int(mask.sum())
    first = frames[table].loc[mask, cols].iloc[0]
    value = ", ".join(f"{c}={_plain(first[c])!r}" for c in cols)
    what = "vehicle" if parent == "vehicules" else "accident"
    article = "a" if what == "vehicle" else "an"
    if on_orphans == "error":
        raise DataError(
            f"{paths[table]}: line {_lines(frames[table], mask, 1)}: {table} row refers to "
            f"{article} {what} ({value}) that is not in {paths[parent]} ({n} such rows, lines "
            f"{_lines(frames[table], mask)})"
        )
    report._add(report.dropped, f"{table} rows whose {what} is missing from {parent}", n)
    frames[table] = frames[table][~mask]


def _check_year(
    frames: dict[str, pd.DataFrame], paths: dict[str, str], year: int, on_orphans: str,
    validity_tolerance: float, report: LoadReport,
) -> None:
    check_complete(frames, paths, year)
    _check_unique(frames["caracteristiques"], [KEY], paths["caracteristiques"])
    _check_unique(frames["vehicules"], [KEY, "id_vehicule"], paths["vehicules"])
    _check_unique(frames["usagers"], ["id_usager"], paths["usagers"], skip=NOT_RECORDED)
    for table in ("lieux", "vehicules", "usagers"):
        _handle_orphans(frames, paths, table, "caracteristiques", [KEY], on_orphans, report)
    _handle_orphans(frames, paths, "usagers", "vehicules", [KEY, "id_vehicule"], on_orphans, report)
    for finding in check_validity(frames, paths, year, validity_tolerance):
        report._add(report.validity, finding.key, finding.count)
        report.validity_first[finding.key] = (f"{finding.path}:{finding.line} "
                                              f"{finding.column}={finding.value!r}")
    users = frames["usagers"]
    if (users["id_usager"] == NOT_RECORDED).all():
        # No user key before 2021: identical rows are possible (2019: 101, 2020: 63 in the
        # real files) and are kept, as nothing says they are not two people.
        report._add(report.notes, "usagers rows identical to another row (kept)",
                    int(users.duplicated(keep="first").sum()))
    car = frames["caracteristiques"]
    report._add(report.notes, "caracteristiques rows whose an differs from the file's year",
                int((car["an"] != car["year"]).sum()))


# --------------------------------------------------------------------------- public API
def load_file(path: Path, table: str, year: int, tolerance: float = DEFAULT_TOLERANCE,
              report: LoadReport | None = None) -> pd.DataFrame:
    """One file as a typed frame (no cross-table checks), indexed by line number in the file."""
    report = report if report is not None else LoadReport()
    raw = read_raw(path, table, year)
    frame = _Converter(raw, tolerance, report).convert()
    report.files.append(FileReport(
        str(path), table, year, len(frame), raw.encoding, raw.separator,
        raw.repaired_mojibake, raw.blank_lines, raw.extra_columns, raw.other_encoding_lines,
    ))
    report._add(report.dropped, f"blank lines in {path.name}", raw.blank_lines)
    if raw.other_encoding_lines:
        report._add(report.notes, f"lines of {path.name} not valid UTF-8, decoded as CP1252 "
                    f"(first: line {raw.first_other_line})", raw.other_encoding_lines)
    if raw.extra_columns:
        report._add(report.notes, f"unknown columns ignored in {path.name}: "
                    f"{', '.join(raw.extra_columns)}", len(raw.extra_columns))
    return frame


def load_years(
    data_dir: Path,
    years: Sequence[int],
    tolerance: float = DEFAULT_TOLERANCE,
    on_orphans: Literal["error", "drop"] = "error",
    validity_tolerance: float = DEFAULT_VALIDITY_TOLERANCE,
) -> BaacTables:
    """The four typed tables of ``years`` read from ``data_dir``.

    ``tolerance``: share of a column's values that may be outside the codebook before the
    file is refused (the others become -1 and are counted in ``report.replaced``).
    ``validity_tolerance``: share of a table's rows of one year that may fail one
    cross-field check (accidents.data.validity) before the run stops; below it they are
    kept and counted in ``report.validity``. A year with an empty or truncated table is
    always refused (completeness gate).
    ``on_orphans``: a row whose accident (or a user whose vehicle) does not exist is an
    error by default; ``"drop"`` drops such rows and counts them in ``report.dropped``.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: data directory not found")
    if not years:
        raise DataError(f"{data_dir}: no year asked")
    if on_orphans not in ("error", "drop"):
        raise ValueError(f"on_orphans must be 'error' or 'drop', not {on_orphans!r}")
    report = LoadReport(tolerance=tolerance, validity_tolerance=validity_tolerance)
    per_table: dict[str, list[pd.DataFrame]] = {t: [] for t in TABLES}
    for year in sorted(set(int(y) for y in years)):
        paths = {t: find_table_file(data_dir, t, year) for t in TABLES}
        frames = {t: load_file(paths[t], t, year, tolerance, report) for t in TABLES}
        _check_year(frames, {t: str(p) for t, p in paths.items()}, year, on_orphans,
                    validity_tolerance, report)
        for t in TABLES:
            per_table[t].append(frames[t])
            report.rows_by_year.setdefault(t, {})[str(year)] = len(frames[t])
    tables: dict[str, pd.DataFrame] = {}
    for t in TABLES:
        frame = pd.concat(per_table[t], ignore_index=True)
        if t == "caracteristiques" and frame[KEY].duplicated().any():
            dup = frame.loc[frame[KEY].duplicated(), KEY].iloc[0]
            raise DataError(f"{data_dir}: accident {KEY}={dup} appears in two years' files")
        tables[t] = frame
        report.rows[t] = len(frame)
    return BaacTables(**tables, report=report)


__all__ = ["BaacTables", "FileReport", "LoadReport", "load_file", "load_years"]
