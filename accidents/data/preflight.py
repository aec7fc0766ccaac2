"""Load and check the configured data once, in the command, before any pipeline starts.

Why: a pipeline run creates a model version as soon as it starts (ZenML Model Control
Plane), so data refused inside the ingest step would still leave a version behind, and a
failed step's error reaches the user through ZenML's logs. Loading here first means a
damaged file is one ``error:`` line in a few seconds, no ZenML run, no model version; and
the load report is printed before training, so nothing is replaced or dropped unseen.
The ingest step loads again inside the pipeline (same code, same tolerances): that second
load is what the model version records; this one is the gate.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pandas as pd

from accidents.config import DataConfig
from accidents.data.loader import LoadReport, load_years
from accidents.data.schema import GRAV, KEY, NOT_RECORDED
from accidents.data.source import ResolvedData, materialise
from accidents.errors import DataError
from accidents.learning.features import SEVERE_GRAV

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



def load_configured(cfg: DataConfig, folder: Path, years: list[int] | None = None,
                    training: bool = False) -> LoadReport:
    """The load report of ``years`` (default ``cfg.years``) in ``folder`` with the profile's
    tolerances; DataError if the data is refused. ``training``: also the training checks
    (``check_tables``: every year present, enough labelled users of both outcomes)."""
    years = list(years or cfg.years)
    tables = load_years(folder, years, tolerance=cfg.tolerance,
                        validity_tolerance=cfg.validity_tolerance)
    if training:
        check_tables(tables.caracteristiques, tables.lieux, tables.vehicules, tables.usagers, years)
    report = tables.report
    del tables
    gc.collect()  # the pipeline loads the same tables again in this process
    return report


def preflight(cfg: DataConfig, resolved: ResolvedData | None = None) -> tuple[str, Path, LoadReport]:
    """(source, folder, load report): materialise the data (download / synthetic) and load it once.

    ``resolved``: the run's data source as the command decided it (None: decide here).
    """
    source, folder = materialise(cfg, resolved)
    return source, folder, load_configured(cfg, folder, training=True)
