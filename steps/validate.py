"""Step ``validate_data``: refuse tables a model should not be trained on, before any feature work.

The loader already checks formats and codes per file; this step checks the *run*: every
requested year is there, keys are unique, enough labelled users of both outcomes exist.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

# The checks live with the command's data gate, which runs them before any pipeline starts
# (a refusal there creates no model version); this step repeats them inside the pipeline.
from accidents.data.preflight import check_tables
from steps._common import json_safe, timed


@step
def validate_data(caracteristiques: pd.DataFrame, lieux: pd.DataFrame, vehicules: pd.DataFrame,
                  usagers: pd.DataFrame, years: list[int]) -> Annotated[dict, "validation_report"]:
    """Run the checks and log the class balance of ``grav``."""
    meta: dict[str, Any] = {}
    with timed(meta):
        report = check_tables(caracteristiques, lieux, vehicules, usagers, years)
    log_metadata(metadata={"validation": json_safe({**report, **meta})})
    return json_safe(report)
