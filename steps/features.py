"""Step ``build_features``: one row per road user (or per accident) with the model inputs and target."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from steps._common import class_balance, json_safe, timed


@step
def build_features(caracteristiques: pd.DataFrame, lieux: pd.DataFrame, vehicules: pd.DataFrame,
                   usagers: pd.DataFrame, load_report: dict, target: str = "user"
                   ) -> tuple[Annotated[pd.DataFrame, "feature_table"], Annotated[dict, "data_summary"]]:
    """Join the four tables into the feature table (``target``: user or accident level)."""
    from accidents.data.loader import BaacTables, LoadReport
    from accidents.learning.features import accident_level_table, build_user_table

    meta: dict[str, Any] = {}
    with timed(meta):
        tables = BaacTables(caracteristiques=caracteristiques, lieux=lieux, vehicules=vehicules,
                            usagers=usagers, report=LoadReport())
        table, feature_report = build_user_table(tables)
        users = len(table)
        if target == "accident":
            table = accident_level_table(table)
    report = asdict(feature_report) if is_dataclass(feature_report) else dict(getattr(feature_report, "__dict__", {}))
    summary = {
        "target": target, "rows": int(len(table)), "users": int(users),
        "accidents": int(table["Num_Acc"].nunique()),
        "years": sorted(int(y) for y in table["year"].unique()),
        "class_balance": class_balance(table["severe"]),
        "source": load_report.get("source"), "synthetic": bool(load_report.get("synthetic")),
        **meta,
    }
    log_metadata(metadata={"features": json_safe({**summary, "report": report})})
    # what the loader read, replaced, dropped and counted: kept on the model version (docs/data.md)
    summary["load_report"] = load_report
    # The model-version copy (constants.META_DATA) is logged by the promote step, which
    # is never cached, so a cached re-run's version carries it too.
    return table.reset_index(drop=True), json_safe(summary)
