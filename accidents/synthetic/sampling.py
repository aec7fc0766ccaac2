"""Small vectorised sampling helpers for the synthetic generator (no per-row Python)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np


def normalised(shares: Mapping[int, float]) -> tuple[np.ndarray, np.ndarray]:
    """Codes and probabilities (summing to 1) of a ``{code: weight}`` table."""
    codes = np.array(list(shares.keys()))
    weights = np.array(list(shares.values()), dtype=float)
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"invalid share table {dict(shares)}")
    return codes, weights / weights.sum()


def draw(rng: np.random.Generator, shares: Mapping[int, float], n: int) -> np.ndarray:
    """``n`` codes drawn from one share table."""
    codes, p = normalised(shares)
    return codes[np.searchsorted(np.cumsum(p), rng.random(n), side="right").clip(0, len(p) - 1)]


def draw_by_group(
    rng: np.random.Generator,
    groups: np.ndarray,
    tables: Mapping[Hashable, Mapping[int, float]],
    default: int = -1,
) -> np.ndarray:
    """One code per row from the share table of the row's group.

    One uniform number is drawn per row whatever its group, so the rows of one group do
    not change when another group's table changes.
    """
    u = rng.random(len(groups))
    out = np.full(len(groups), default, dtype=np.int64)
    for group, shares in tables.items():
        mask = groups == group
        if not mask.any():
            continue
        codes, p = normalised(shares)
        idx = np.searchsorted(np.cumsum(p), u[mask], side="right").clip(0, len(p) - 1)
        out[mask] = codes[idx]
    return out


def set_missing(rng: np.random.Generator, values: np.ndarray, rate: float,
                marker: float = -1) -> np.ndarray:
    """Copy of ``values`` with a share ``rate`` of entries replaced by ``marker``."""
    out = values.copy()
    out[rng.random(len(values)) < rate] = marker
    return out


def within_group_rank(group_sizes: np.ndarray) -> np.ndarray:
    """0, 1, ... inside each consecutive group of the given sizes."""
    total = int(group_sizes.sum())
    starts = np.repeat(np.cumsum(group_sizes) - group_sizes, group_sizes)
    return np.arange(total) - starts


_PADDED = {width: np.array([f"{i:0{width}d}" for i in range(10**width)], dtype=object)
           for width in (2, 3)}


def padded(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded text of small non-negative integers (``7`` -> ``"07"``), by lookup."""
    return _PADDED[width][np.asarray(values, dtype=np.int64)]
