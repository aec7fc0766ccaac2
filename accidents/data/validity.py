"""Checks across fields and tables of one year, counted per table and year, with a tolerance.

Why: a file can be perfectly well-formed and still describe impossible things (30 February,
a driver born after the accident, a crash in the Atlantic, a vehicle nobody was in). A few
such rows exist in real data and are counted; many mean a damaged or mis-joined file, and
the run stops with the count and the first offending line before any model sees them.

Also the completeness gate: every configured year needs all four tables with data, and no
table may be far smaller than the others imply (a truncated download).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from accidents.data.schema import KEY, NOT_RECORDED
from accidents.errors import DataError

#: Default share of a table's rows (per year) that may fail one validity check before the
#: run stops. Overridden by the profile's ``data.validity_tolerance``.
DEFAULT_VALIDITY_TOLERANCE = 0.01

#: A table with fewer rows than this share of what the other tables imply is truncated.
COMPLETENESS_SHARE = 0.9

#: Latitude/longitude boxes of France and its overseas territories (WGS84, generous by a
#: few tenths of a degree). The BAAC files include overseas accidents (see BAAC-FACTS.md).
TERRITORIES: dict[str, tuple[float, float, float, float]] = {
    # name: (lat_min, lat_max, long_min, long_max)
    "metropolitan France and Corsica": (41.0, 51.6, -5.8, 10.0),
    "Guadeloupe, Martinique, Saint-Martin, Saint-Barthélemy": (14.0, 18.5, -63.5, -60.5),
    "French Guiana": (1.8, 6.2, -55.0, -51.0),
    "Réunion": (-21.6, -20.7, 54.9, 56.0),
    "Mayotte": (-13.2, -12.4, 44.8, 45.5),
    "Saint-Pierre-et-Miquelon": (46.6, 47.3, -56.7, -55.9),
    "New Caledonia": (-23.0, -19.0, 163.0, 169.0),
    "French Polynesia": (-28.5, -7.0, -155.0, -134.0),
    "Wallis and Futuna": (-14.6, -13.0, -178.5, -175.8),
}


@dataclass(frozen=True)
class Finding:
    """One check's result for one table and year: how many rows, and the first one."""

    check: str
    table: str
    year: int
    count: int
    rows: int
    path: str
    line: int
    column: str
    value: object

    @property
    def key(self) -> str:
        return f"{self.table} {self.year}: {self.check}"


def _first(frame: pd.DataFrame, mask: np.ndarray, column: str) -> tuple[int, object]:
    i = int(np.flatnonzero(mask)[0])
    value = frame[column].iloc[i]
    return int(frame.index[i]), value.item() if isinstance(value, np.generic) else value


def _outside_france(lat: pd.Series, lon: pd.Series) -> np.ndarray:
    known = (lat.notna() & lon.notna()).to_numpy()
    inside = np.zeros(len(lat), dtype=bool)
    la, lo = lat.to_numpy(), lon.to_numpy()
    for lat_min, lat_max, lon_min, lon_max in TERRITORIES.values():
        inside |= (la >= lat_min) & (la <= lat_max) & (lo >= lon_min) & (lo <= lon_max)
    return known & ~inside


def _impossible_dates(car: pd.DataFrame) -> np.ndarray:
    parts = car[["an", "mois", "jour"]]
    known = (parts != NOT_RECORDED).all(axis=1).to_numpy()
    dates = pd.to_datetime(pd.DataFrame({"year": parts["an"].where(known, 2000),
                                         "month": parts["mois"].where(known, 1),
                                         "day": parts["jour"].where(known, 1)}), errors="coerce")
    return known & dates.isna().to_numpy()


def _pairs(frame: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(frame[[KEY, "id_vehicule"]])


#: Checks whose failures are also a fact of the real files, with the share always allowed.
#: Vehicles without a road user: parked, unoccupied vehicles that were hit are recorded
#: without users (real samples: 3 of 175 vehicles in 2019, 1 of 98 in 2024).
MIN_TOLERANCE: dict[str, float] = {"vehicle with no road user": 0.05}


#: (check, table, column shown, function(frames, year) -> mask over the table's rows)
CHECKS: tuple[tuple[str, str, str, Callable[[dict[str, pd.DataFrame], int], np.ndarray]], ...] = (
    ("impossible date (day does not exist in that month)", "caracteristiques", "jour",
     lambda f, y: _impossible_dates(f["caracteristiques"])),
    ("coordinates outside France and its overseas territories", "caracteristiques", "lat",
     lambda f, y: _outside_france(f["caracteristiques"]["lat"], f["caracteristiques"]["long"])),
    ("birth year after the accident's year", "usagers", "an_nais",
     lambda f, y: (f["usagers"]["an_nais"] > y).to_numpy()),
    *((f"{KEY} whose year prefix is not the file's year", table, KEY,
       (lambda t: lambda f, y: (f[t][KEY] // 10**8 != y).to_numpy())(table))
      for table in ("caracteristiques", "lieux", "vehicules", "usagers")),
    ("accident with no vehicle", "caracteristiques", KEY,
     lambda f, y: ~f["caracteristiques"][KEY].isin(f["vehicules"][KEY]).to_numpy()),
    ("accident with no road user", "caracteristiques", KEY,
     lambda f, y: ~f["caracteristiques"][KEY].isin(f["usagers"][KEY]).to_numpy()),
    ("accident with no lieux row", "caracteristiques", KEY,
     lambda f, y: ~f["caracteristiques"][KEY].isin(f["lieux"][KEY]).to_numpy()),
    # after the accident-level checks: an accident without users also has vehicles without users
    ("vehicle with no road user", "vehicules", "id_vehicule",
     lambda f, y: ~_pairs(f["vehicules"]).isin(_pairs(f["usagers"]))),
)


def check_validity(frames: dict[str, pd.DataFrame], paths: dict[str, str], year: int,
                   tolerance: float) -> list[Finding]:
    """Every check on one year's typed frames; DataError for the first above ``tolerance``."""
    findings: list[Finding] = []
    for check, table, column, fn in CHECKS:
        frame = frames[table]
        if not len(frame):
            continue
        mask = np.asarray(fn(frames, year), dtype=bool)
        count = int(mask.sum())
        if not count:
            continue
        line, value = _first(frame, mask, column)
        finding = Finding(check, table, year, count, len(frame), paths[table], line, column, value)
        allowed = max(tolerance, MIN_TOLERANCE.get(check, 0.0))
        if count > allowed * len(frame):
            raise DataError(
                f"{finding.path}: line {line}, column {column!r}: value {value!r}: {check}: "
                f"{count} of {len(frame)} {table} rows of {year} ({count / len(frame):.2%}), above "
                f"the tolerance data.validity_tolerance = {allowed:.2%}"
            )
        findings.append(finding)
    return findings


def check_complete(frames: dict[str, pd.DataFrame], paths: dict[str, str], year: int) -> None:
    """Refuse a year with an empty table or a table far smaller than the others imply."""
    for table, frame in frames.items():
        if not len(frame):
            raise DataError(
                f"{paths[table]}: line 2, column {KEY!r}: no value: the {table} table of {year} has "
                f"a header but no data row (empty or truncated file); every configured year needs "
                f"all four tables"
            )
    n_acc = len(frames["caracteristiques"])
    implied = {
        "caracteristiques": (frames["lieux"][KEY].nunique(), "lieux", "accidents in lieux"),
        "lieux": (n_acc, "caracteristiques", "one lieux row per accident at least"),
        "vehicules": (n_acc, "caracteristiques", "one vehicle per accident at least"),
        "usagers": (len(frames["vehicules"]), "vehicules", "one road user per vehicle at least"),
    }
    for table, (minimum, other, why) in implied.items():
        n = len(frames[table])
        if n < COMPLETENESS_SHARE * minimum:
            last = frames[table].iloc[-1]
            raise DataError(
                f"{paths[table]}: line {int(frames[table].index[-1])}, column {KEY!r}: value "
                f"{int(last[KEY])} (last row): the {table} table of {year} has {n} rows but "
                f"{paths[other]} implies at least {minimum} ({why}); the file looks truncated"
            )
