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

from accidents.config import DataConfig
from accidents.data.loader import LoadReport, load_years
from accidents.data.source import ResolvedData, materialise


def load_configured(cfg: DataConfig, folder: Path, years: list[int] | None = None) -> LoadReport:
    """The load report of ``years`` (default ``cfg.years``) in ``folder`` with the profile's
    tolerances; DataError if the data is refused."""
    tables = load_years(folder, years or cfg.years, tolerance=cfg.tolerance,
                        validity_tolerance=cfg.validity_tolerance)
    report = tables.report
    del tables
    gc.collect()  # the pipeline loads the same tables again in this process
    return report


def preflight(cfg: DataConfig, resolved: ResolvedData | None = None) -> tuple[str, Path, LoadReport]:
    """(source, folder, load report): materialise the data (download / synthetic) and load it once.

    ``resolved``: the run's data source as the command decided it (None: decide here).
    """
    source, folder = materialise(cfg, resolved)
    return source, folder, load_configured(cfg, folder)
