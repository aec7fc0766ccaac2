"""Monitoring steps: load the current batch, run the Evidently reports, decide, log.

Thin wrappers: the work is in ``accidents.monitoring.drift*``. The pipeline runs in the context
of the *production* model version (``pipelines/monitoring.py``), so its outputs (the HTML
reports, the figures, the decision) are attached to that version and
``get_step_context().model`` is the version being monitored.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from zenml import get_step_context, log_metadata, step
from zenml.types import HTMLString

from accidents.constants import (
    ARTIFACT_MONITORING_CURRENT,
    ARTIFACT_MONITORING_DECISION,
    ARTIFACT_MONITORING_DRIFT_REPORT,
    ARTIFACT_MONITORING_PERFORMANCE_REPORT,
    ARTIFACT_MONITORING_SUMMARY,
    META_MONITORING,
)
from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.monitoring.batch import monitor_batch as run_batch
from accidents.monitoring.drift import check_batch_columns
from accidents.monitoring.performance import has_labels
from accidents.monitoring.settings import MonitoringSettings
from ops import registry
from steps._common import json_safe


@step(enable_cache=False)
def load_current_batch(source: dict[str, Any]) -> Annotated[pd.DataFrame, ARTIFACT_MONITORING_CURRENT]:
    """The batch to monitor, read by the same code as training (or the service's log reader).

    ``source``: ``{"kind": "baac", "dir", "years", "months", "target"}``,
    ``{"kind": "prediction_log", "path"}`` or ``{"kind": "file", "path"}``.
    """
    from pathlib import Path

    from accidents.errors import DataError
    from accidents.monitoring.sources import (
        batch_from_baac,
        batch_from_file,
        batch_from_prediction_log,
    )

    kind = source.get("kind")
    if kind == "baac":
        frame = batch_from_baac(Path(source["dir"]), source["years"], source.get("months"),
                                source.get("target", "user"),
                                **{k: source[k] for k in ("tolerance", "validity_tolerance") if k in source})
    elif kind == "prediction_log":
        from accidents.monitoring.served import parse_time

        frame = batch_from_prediction_log(Path(source["path"]), parse_time(source.get("since")),
                                          parse_time(source.get("until")))
    elif kind == "file":
        frame = batch_from_file(Path(source["path"]))
    else:
        raise DataError(f"unknown monitoring source kind {kind!r} (baac, prediction_log, file)")
    # a batch the model cannot read is rejected here, before anything is compared
    check_batch_columns(frame, MODEL_INPUT_COLUMNS, source.get("path") or source.get("dir", "batch"))
    log_metadata(metadata={"current_batch": json_safe({
        **{k: v for k, v in source.items() if k != "kind"}, "kind": kind, "rows": len(frame),
        "labelled": has_labels(frame)})})
    return frame.reset_index(drop=True)


def _threshold() -> float:
    """The production version's decision threshold (chosen on validation at training)."""
    return registry.threshold(get_step_context().model)


def _version_label() -> dict[str, Any]:
    model = get_step_context().model
    if model is None:
        return {}
    return {"model_name": model.name, "model_version": str(model.version),
            "model_version_number": getattr(model, "number", None)}


@step(enable_cache=False)
def monitor_batch(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    model: Any,
    test_features: pd.DataFrame,
    settings: MonitoringSettings,
    source_label: str,
) -> tuple[
    Annotated[HTMLString, ARTIFACT_MONITORING_DRIFT_REPORT],
    Annotated[HTMLString, ARTIFACT_MONITORING_PERFORMANCE_REPORT],
    Annotated[dict, ARTIFACT_MONITORING_SUMMARY],
]:
    """Drift (+ prediction drift) and, with labels, performance beside the reference's.

    Reference = the production version's training features (input drift) and its test
    features (model output drift and performance: the same model scored on its own
    held-out set by the same code).
    """
    result = run_batch(reference, current, model, test_features, _threshold(), settings,
                       source=source_label)
    summary = json_safe({**_version_label(), **result.summary(source_label, settings)})
    return HTMLString(result.drift_html()), HTMLString(result.model_html()), summary


@step(enable_cache=False)
def log_monitoring(summary: dict) -> Annotated[dict, ARTIFACT_MONITORING_DECISION]:
    """Log the figures on the production model version (META_MONITORING) and return the decision."""
    drift = summary["drift"]
    figures = {
        "source": summary["source"],
        "drift_share": drift["drift_share"],
        "n_drifted": drift["n_drifted"],
        "n_monitored": drift["n_monitored"],
        "drifted_columns": drift["drifted_columns"],
        "prediction_drift": drift.get("prediction_drift"),
        "rows_current": drift["n_current"],
        "rows_reference": drift["n_reference"],
        "performance": summary.get("performance"),
        "retrain": summary["decision"]["retrain"],
        "reason": summary["decision"]["reason"],
        "run": get_step_context().pipeline_run.name,
    }
    log_metadata(metadata={META_MONITORING: json_safe(figures)}, infer_model=True)
    log_metadata(metadata={"decision": json_safe(summary["decision"])})
    return json_safe({**summary["decision"], "drift_share": drift["drift_share"],
                      "drifted_columns": drift["drifted_columns"]})
