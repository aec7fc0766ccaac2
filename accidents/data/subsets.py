"""Subsets of a BAAC year written back as BAAC files: some months only, or months from two copies.

Why files and not frames: ``run.py simulate`` by month trains on "the data so far" and
monitors one month, and both must go through the same loader as everything else; a
month-filtered year written in the official format (``;``, quoted, UTF-8, canonical
column names) is read by that loader like any published year. Reading uses
``csv_formats.read_raw``, so any published variant of the source files is accepted.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from accidents.data.csv_formats import find_table_file, read_raw
from accidents.data.schema import TABLES
from accidents.errors import DataError

#: The accident key shared by the four tables (canonical name after read_raw).
KEY = "Num_Acc"


def table_path(folder: Path, table: str, year: int) -> Path:
    """Where ``write_table`` puts ``table`` of ``year`` (the official file name)."""
    return Path(folder) / f"{table}-{year}.csv"


def is_written(folder: Path, year: int) -> bool:
    """Whether a subset of ``year`` was already written to ``folder`` (last table written last)."""
    return table_path(folder, TABLES[-1], year).is_file()


def read_table(folder: Path, table: str, year: int) -> pd.DataFrame:
    """``table`` of ``year`` in ``folder`` as raw strings under canonical column names."""
    return read_raw(find_table_file(Path(folder), table, year), table, year).frame


def write_baac_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write one BAAC table file in the official format: ``;``, every value quoted, UTF-8, LF."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, sep=";", index=False, quoting=csv.QUOTE_ALL, encoding="utf-8",
                 lineterminator="\n")
    return path


def write_table(frame: pd.DataFrame, folder: Path, table: str, year: int) -> Path:
    """Write ``table`` of ``year`` into ``folder`` under its official file name."""
    return write_baac_csv(frame, table_path(folder, table, year))


def _months(frame: pd.DataFrame, where: Path) -> pd.Series:
    try:
        return frame["mois"].str.strip().astype(int)
    except (KeyError, ValueError) as exc:
        raise DataError(f"{where}: caracteristiques: column mois is missing or not a month number "
                        f"({exc})") from None


def accidents_in_months(folder: Path, year: int, months: Iterable[int]) -> set[str]:
    """The accident keys of ``year`` in ``folder`` whose month is in ``months``."""
    car = read_table(folder, "caracteristiques", year)
    return set(car.loc[_months(car, folder).isin(set(months)), KEY])


def filter_months(source: Path, year: int, months: Iterable[int], target: Path) -> Path:
    """Write ``year``'s four tables of ``source`` into ``target`` keeping only ``months``.

    Skipped when ``target`` already holds the year (callers name ``target`` after what it
    holds, so an existing folder is the same content).
    """
    if is_written(target, year):
        return target
    keep = accidents_in_months(source, year, months)
    for table in TABLES:
        frame = read_table(source, table, year)
        write_table(frame[frame[KEY].isin(keep)], target, table, year)
    return target


def merge_months(base: Path, other: Path, year: int, months: Iterable[int], target: Path) -> Path:
    """Accidents of ``months`` from ``other``, all the other months from ``base`` (same year)."""
    if is_written(target, year):
        return target
    months = set(months)
    every = set(range(1, 13))
    from_base = accidents_in_months(base, year, every - months)
    from_other = accidents_in_months(other, year, months)
    if from_base & from_other:
        raise DataError(f"{base} and {other}: accident ids of {year} collide; cannot merge months")
    for table in TABLES:
        a, b = read_table(base, table, year), read_table(other, table, year)
        merged = pd.concat([a[a[KEY].isin(from_base)], b[b[KEY].isin(from_other)]], ignore_index=True)
        write_table(merged, target, table, year)
    return target
