"""Step ``validate_data``: refuse tables a model should not be trained on, before any feature work.

The loader already checks formats and codes per file; this step checks the *run*: every
requested year is there, keys are unique, enough labelled users of both outcomes exist.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from accidents.data.schema import GRAV, KEY, NOT_RECORDED
from accidents.errors import DataError
from accidents.learning.features import SEVERE_GRAV
from steps._common import json_safe, timed

#: Below this many labelled users per class a split/evaluation is meaningless.
MIN_USERS_PER_CLASS = 20
#: grav codes that say how the user was hurt (everything but "not recorded").
KNOWN_GRAV = tuple(code for code in GRAV if code != NOT_RECORDED)


def check_tables(caracteristiques: pd.DataFrame, lieux: pd.DataFrame, vehicules: pd.DataFrame,
                 usagers: pd.DataFrame, years: list[int]) -> dict[str, Any]:
    """The checks, as a plain function (DataError naming table/column/value on failure)."""
    for name, frame in (("caracteristiques", caracteristiques), ("lieux", lieux),
                        ("vehicules", vehicules), ("usagers", usagers)):
        if frame.empty:
            raise DataError(f"table {name} is empty for years {years}")
        if KEY not in frame.columns:
            raise DataError(f"table {name} has no {KEY} column")
    found = sorted(int(y) for y in caracteristiques["year"].unique())
    missing = sorted(set(years) - set(found))
    if missing:
        raise DataError(f"caracteristiques has no accident for year(s) {missing} (found {found})")
    duplicated = int(caracteristiques[KEY].duplicated().sum())
    if duplicated:
        raise DataError(f"caracteristiques: {duplicated} duplicated {KEY} value(s), e.g. "
                        f"{caracteristiques.loc[caracteristiques[KEY].duplicated(), KEY].iloc[0]}")
    grav = usagers["grav"]
    known = grav[grav.isin(KNOWN_GRAV)]
    severe = int(known.isin(SEVERE_GRAV).sum())
    not_severe = int(len(known) - severe)
    if min(severe, not_severe) < MIN_USERS_PER_CLASS:
        raise DataError(f"usagers.grav: only {severe} severe and {not_severe} non-severe users with known "
                        f"grav; need at least {MIN_USERS_PER_CLASS} of each")
    return {
        "years": found,
        "accidents": int(len(caracteristiques)),
        "users": int(len(usagers)),
        "users_unknown_grav": int(len(grav) - len(known)),
        "grav_counts": {str(k): int(v) for k, v in known.value_counts().sort_index().items()},
        "severe_share": round(severe / max(len(known), 1), 4),
    }


@step
def validate_data(caracteristiques: pd.DataFrame, lieux: pd.DataFrame, vehicules: pd.DataFrame,
                  usagers: pd.DataFrame, years: list[int]) -> Annotated[dict, "validation_report"]:
    """Run the checks and log the class balance of ``grav``."""
    meta: dict[str, Any] = {}
    with timed(meta):
        report = check_tables(caracteristiques, lieux, vehicules, usagers, years)
    log_metadata(metadata={"validation": json_safe({**report, **meta})})
    return json_safe(report)
