"""Strong, targeted distribution shifts of named model-input columns (for drift tests).

``shift={column: strength}`` replaces, in a share ``strength`` (0 < strength <= 1) of
the rows, the column's value by a draw from a *shift target* distribution far from the
normal one (e.g. birth years of 70-95-year-olds, night hours, uniform over the codes).
The shift is applied after everything else is drawn, with a random stream of its own
(seeded by seed, year and column name), so every other column keeps exactly the values
it has without the shift. Consequence (by design): ``grav`` is not redrawn, so a shifted
column's link with severity is diluted; that is the covariate-shift case monitoring tests
need.

Columns that other model inputs are derived from cannot move alone: ``catv`` feeds the
aggregate ``other_vehicle_class`` and ``catu`` feeds ``n_pedestrians``. They are allowed,
listed in ``SHIFT_DEPENDENTS``; ``INDEPENDENT_SHIFT_COLUMNS`` lists the columns whose
shift moves nothing else. ``an`` (the file year), ``hrmn``'s derived hour aside, and the
aggregates themselves (counts of rows) cannot be shifted.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import numpy as np

from accidents.data.schema import allowed_codes
from accidents.learning.features import (
    ACCIDENT_INPUTS,
    AGGREGATE_INPUTS,
    MODEL_INPUT_COLUMNS,
    ROAD_INPUTS,
    USER_INPUTS,
    VEHICLE_INPUTS,
)
from accidents.synthetic.sampling import padded
from accidents.synthetic.tables import YearTables

#: Model inputs whose shift changes another model input too (derived from it).
SHIFT_DEPENDENTS: dict[str, tuple[str, ...]] = {
    "catv": ("other_vehicle_class",),
    "catu": ("n_pedestrians",),
}
_NOT_SHIFTABLE = frozenset({"an", *AGGREGATE_INPUTS})
#: Every model input that ``shift`` accepts.
SHIFTABLE_COLUMNS: tuple[str, ...] = tuple(c for c in MODEL_INPUT_COLUMNS if c not in _NOT_SHIFTABLE)
#: Shiftable columns whose shift leaves every other model input's values unchanged.
INDEPENDENT_SHIFT_COLUMNS: tuple[str, ...] = tuple(
    c for c in SHIFTABLE_COLUMNS if c not in SHIFT_DEPENDENTS)

_TABLE_OF: dict[str, str] = {
    **dict.fromkeys(ACCIDENT_INPUTS, "caracteristiques"), **dict.fromkeys(ROAD_INPUTS, "lieux"),
    **dict.fromkeys(VEHICLE_INPUTS, "vehicules"), **dict.fromkeys(USER_INPUTS, "usagers"),
}


def validate_shift(shift: Mapping[str, float] | None) -> dict[str, float]:
    """Checked copy of ``shift``; ValueError naming the bad column or strength."""
    checked: dict[str, float] = {}
    for column, strength in (shift or {}).items():
        if column not in SHIFTABLE_COLUMNS:
            raise ValueError(
                f"shift: column {column!r} cannot be shifted; expected one of "
                f"{', '.join(SHIFTABLE_COLUMNS)}")
        value = float(strength)
        if not 0.0 < value <= 1.0:
            raise ValueError(
                f"shift: strength {strength!r} for column {column!r} must be in (0, 1] "
                "(the share of rows moved to the shift target)")
        checked[column] = value
    return checked


def _target(column: str, rng: np.random.Generator, n: int, year: int,
            current: np.ndarray) -> np.ndarray:
    """Values drawn from the column's shift target distribution."""
    if column == "an_nais":
        return (year - rng.integers(70, 96, n)).astype(float)  # elderly users
    if column == "hrmn":
        return padded(rng.integers(0, 5, n), 2) + ":" + padded(5 * rng.integers(0, 12, n), 2)
    if column == "jour":
        return rng.integers(1, 8, n)  # first week of the month (valid in every month)
    if column == "mois":
        return rng.choice(np.array([7, 8]), n)  # summer; both months have 31 days
    if column == "vma":
        return rng.choice(np.array([110.0, 130.0]), n)
    if column == "nbv":
        return rng.choice(np.array([5.0, 6.0, 8.0]), n)
    if column == "sexe":
        return np.full(n, 2)
    if column == "agg":
        return np.full(n, 1)
    if column == "actp":
        return rng.choice(np.array(["3", "5", "A"], dtype=object), n)
    codes = np.array([c for c in allowed_codes(column) if c != -1 and c != "-1"])
    drawn = codes[rng.integers(0, len(codes), n)]
    return drawn.astype(current.dtype) if current.dtype != object else drawn


def apply_shift(tables: YearTables, shift: Mapping[str, float], seed: int) -> None:
    """Shift the named columns of one year's tables in place (see module docstring)."""
    for column, strength in validate_shift(shift).items():
        frame = getattr(tables, _TABLE_OF[column])
        rng = np.random.default_rng([seed, tables.year, 7919, zlib.crc32(column.encode())])
        current = frame[column].to_numpy()
        n = len(current)
        moved = rng.random(n) < strength
        values = _target(column, rng, n, tables.year, current)
        new = current.copy()
        new[moved] = values[moved]
        frame[column] = new
