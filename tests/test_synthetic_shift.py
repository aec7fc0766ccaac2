"""``shift`` moves exactly the named model inputs (monitoring tests rely on it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from accidents.data.loader import load_years
from accidents.learning.features import MODEL_INPUT_COLUMNS, build_user_table
from accidents.synthetic import (
    INDEPENDENT_SHIFT_COLUMNS,
    SHIFT_DEPENDENTS,
    SHIFTABLE_COLUMNS,
    generate_year,
    write_synthetic,
)
from accidents.synthetic.tables import YearTables

YEAR = 2023
N = 1500


def _tvd(a: pd.Series, b: pd.Series) -> float:
    """Total variation distance between two empirical distributions (NaN as a value)."""
    pa = a.astype(str).value_counts(normalize=True)
    pb = b.astype(str).value_counts(normalize=True)
    return float(pa.subtract(pb, fill_value=0).abs().sum() / 2)


@pytest.fixture(scope="module")
def base_tables() -> YearTables:
    return generate_year(YEAR, N, seed=4)


def _public(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[[c for c in frame.columns if not c.startswith("_")]]


@pytest.mark.parametrize("column", SHIFTABLE_COLUMNS)
def test_shift_moves_the_named_column_and_nothing_else(base_tables: YearTables, column: str) -> None:
    shifted = generate_year(YEAR, N, seed=4, shift={column: 1.0})
    for table in ("caracteristiques", "lieux", "vehicules", "usagers"):
        before, after = _public(getattr(base_tables, table)), _public(getattr(shifted, table))
        assert list(before.columns) == list(after.columns)
        for name in before.columns:
            if name == column:
                assert _tvd(before[name], after[name]) >= 0.25, (table, name)
            else:
                pd.testing.assert_series_equal(before[name], after[name], obj=f"{table}.{name}")


def test_shift_through_files_and_features(tmp_path: Path) -> None:
    """In the feature table: the named inputs (and their declared dependents) move, every
    other model input keeps exactly its values."""
    named = {"vma": 0.8, "an_nais": 0.6, "catv": 1.0}
    write_synthetic(tmp_path / "base", [YEAR], N, seed=8)
    write_synthetic(tmp_path / "shift", [YEAR], N, seed=8, shift=named)
    base, _ = build_user_table(load_years(tmp_path / "base", [YEAR]))
    moved, _ = build_user_table(load_years(tmp_path / "shift", [YEAR]))
    assert len(base) == len(moved)
    expected = set(named) | {d for c in named for d in SHIFT_DEPENDENTS.get(c, ())}
    changed = {c for c in MODEL_INPUT_COLUMNS if not base[c].equals(moved[c])}
    assert changed == expected
    for column in named:
        assert _tvd(base[column], moved[column]) >= 0.25, column
    assert base.severe.equals(moved.severe)  # the outcome is not redrawn


def test_strength_is_the_share_of_rows_moved(base_tables: YearTables) -> None:
    half = generate_year(YEAR, N, seed=4, shift={"vma": 0.5})
    before = base_tables.lieux.vma.to_numpy()
    after = half.lieux.vma.to_numpy()
    moved_to_target = np.isin(after, (110.0, 130.0)) & ~np.isin(before, (110.0, 130.0))
    assert 0.35 <= moved_to_target.mean() <= 0.55


def test_declared_column_lists_are_consistent() -> None:
    assert set(INDEPENDENT_SHIFT_COLUMNS) | set(SHIFT_DEPENDENTS) == set(SHIFTABLE_COLUMNS)
    assert set(SHIFTABLE_COLUMNS) <= set(MODEL_INPUT_COLUMNS)
    assert "an" not in SHIFTABLE_COLUMNS and "n_users" not in SHIFTABLE_COLUMNS


@pytest.mark.parametrize(("shift", "message"), [
    ({"grav": 0.5}, "column 'grav' cannot be shifted"),
    ({"n_users": 0.5}, "column 'n_users' cannot be shifted"),
    ({"vma": 0.0}, "strength 0.0 for column 'vma'"),
    ({"vma": 1.5}, "strength 1.5 for column 'vma'"),
])
def test_bad_shift_is_refused_with_a_clear_message(tmp_path: Path, shift: dict[str, float],
                                                  message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_synthetic(tmp_path, [YEAR], 10, shift=shift)
