"""Step ``ingest_data``: make the BAAC files exist (accidents/data/source.py) and load them."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from accidents.config import DataConfig
from accidents.data.schema import TABLES
from accidents.data.source import ResolvedData, is_synthetic, materialise
from steps._common import json_safe, timed


@step
def ingest_data(data: DataConfig, resolved: ResolvedData, fingerprint: str) -> tuple[
    Annotated[pd.DataFrame, "caracteristiques"],
    Annotated[pd.DataFrame, "lieux"],
    Annotated[pd.DataFrame, "vehicules"],
    Annotated[pd.DataFrame, "usagers"],
    Annotated[dict, "load_report"],
]:
    """Load the four BAAC tables of the run's resolved source (``fingerprint`` keys the cache)."""
    from accidents.data.loader import load_years

    meta: dict[str, Any] = {}
    with timed(meta, "seconds"):
        source, folder = materialise(data, resolved)
        tables = load_years(folder, data.years, tolerance=data.tolerance,
                            validity_tolerance=data.validity_tolerance)
    report = tables.report.to_dict()
    synthetic = is_synthetic(data, source, folder)
    meta.update({
        "source": source, "synthetic": synthetic, "folder": str(folder),
        "years": list(data.years), "fingerprint": fingerprint,
        "rows": {t: int(len(getattr(tables, t))) for t in TABLES},
        "dropped": report.get("dropped", {}), "replaced_values": sum(report.get("replaced", {}).values()),
    })
    log_metadata(metadata={"ingest": json_safe(meta)})
    # The load report artifact; its copy on the model version is logged by the promote step
    # (inside data_summary, see steps/features.py), which is never cached.
    report = {**report, "source": source, "synthetic": synthetic, "folder": str(folder),
              "summary": tables.report.summary()}
    return (tables.caracteristiques, tables.lieux, tables.vehicules, tables.usagers, json_safe(report))
