"""Checks across fields (a real date, born before the accident, pedestrians counted), written once.

Each rule's ``broken`` uses only operators and ``days_in_month``, so the same rule runs on
one row's scalars (row model) and on whole numpy columns (columnar model).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Days per month (index 1..12); February gets one more in leap years.
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def days_in_month(an: Any, mois: Any) -> Any:
    """Days in month ``mois`` of year ``an``; works on ints and on numpy arrays alike."""
    leap = (an % 4 == 0) & ((an % 100 != 0) | (an % 400 == 0))
    return _MONTH_DAYS[mois] + ((mois == 2) & leap)


def plain_number(value: Any) -> Any:
    """2030.0 -> 2030 for messages (the columnar path holds measures as floats)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class CrossRule:
    """A check across fields, written once for both input paths.

    ``broken`` uses only operators and ``days_in_month``, so it takes a row's scalars
    (``an_nais`` None given as NaN) or whole numpy columns and returns a bool or a mask.
    ``message`` explains one offending row (after the field name).
    """

    field: str
    broken: Callable[[Mapping[str, Any]], Any]
    message: Callable[[Mapping[str, Any]], str]


CROSS_RULES: tuple[CrossRule, ...] = (
    CrossRule("jour", lambda v: v["jour"] > days_in_month(v["an"], v["mois"]),
              lambda v: f"{v['an']}-{v['mois']:02d}-{v['jour']:02d} is not a date"),
    CrossRule("an_nais", lambda v: v["an_nais"] > v["an"],
              lambda v: f"born in {plain_number(v['an_nais'])}, after the accident year {v['an']}"),
    CrossRule("n_pedestrians", lambda v: v["n_pedestrians"] > v["n_users"],
              lambda v: f"{v['n_pedestrians']} pedestrians but only {v['n_users']} road users involved"),
    CrossRule("n_pedestrians", lambda v: (v["catu"] == 3) & (v["n_pedestrians"] < 1),
              lambda v: "the person is a pedestrian (catu 3), so at least 1 pedestrian is involved"),
)
CROSS_FIELDS = ("an", "mois", "jour", "an_nais", "n_pedestrians", "n_users", "catu")
