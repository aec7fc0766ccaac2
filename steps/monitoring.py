"""Monitoring steps: load the current batch, run the Evidently reports, decide, log.

Thin wrappers: the work is in ``accidents.monitoring.drift*``. The pipeline runs in the context
of the *production* model version (``pipelines/monitoring.py``), so its outputs (the HTML
reports, the figures, the decision) are attached to that version and
``get_step_context().model`` is the version being monitored.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import pandas as pd
from zenml import get_step_context, log_metadata, step
from zenml.types import HTMLString

from accidents.constants import META_MONITORING, META_THRESHOLD
from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.monitoring.decision import decide_retrain
from accidents.monitoring.drift import (
    PREDICTION,
    check_batch_columns,
    report_html,
    run_drift_report,
)
from accidents.monitoring.performance import (
    has_labels,
    performance,
    run_model_report,
    with_predictions,
)
from accidents.monitoring.settings import MonitoringSettings
from steps._common import json_safe

#: Output artifact names (attached to the production model version).
ARTIFACT_CURRENT = "monitoring_current_batch"
ARTIFACT_DRIFT_REPORT = "monitoring_drift_report"
ARTIFACT_PERFORMANCE_REPORT = "monitoring_performance_report"
ARTIFACT_SUMMARY = "monitoring_summary"


@step(enable_cache=False)
def load_current_batch(source: dict[str, Any]) -> Annotated[pd.DataFrame, ARTIFACT_CURRENT]:
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
                                source.get("target", "user"))
    elif kind == "prediction_log":
        frame = batch_from_prediction_log(Path(source["path"]))
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
    model = get_step_context().model
    value = model.run_metadata.get(META_THRESHOLD) if model is not None else None
    value = getattr(value, "value", value)
    return float(value) if value is not None else 0.5


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
    settings: dict[str, Any],
    source_label: str,
) -> tuple[
    Annotated[HTMLString, ARTIFACT_DRIFT_REPORT],
    Annotated[HTMLString, ARTIFACT_PERFORMANCE_REPORT],
    Annotated[dict, ARTIFACT_SUMMARY],
]:
    """Drift (+ prediction drift) and, with labels, performance beside the reference's.

    Reference = the production version's training features (input drift) and its test
    features (model output drift and performance: the same model scored on its own
    held-out set by the same code).
    """
    cfg = MonitoringSettings(**{**settings, "ignore_columns": tuple(settings.get("ignore_columns", ()))})
    started = time.perf_counter()
    threshold = _threshold()
    drift = run_drift_report(reference, current, cfg, source=source_label)
    drift_seconds = time.perf_counter() - started

    # the model's side: its output (and quality, with labels) vs its own held-out test set
    scored_test = with_predictions(model, test_features)
    # (a prediction log carries the probabilities the service returned: use those)
    scored_current = current if PREDICTION in current.columns else with_predictions(model, current)
    model_snapshot, drift.prediction_drift = run_model_report(scored_test, scored_current,
                                                              threshold, cfg)
    current_perf = reference_perf = None
    if has_labels(current):
        current_perf = performance(scored_current, threshold)
        reference_perf = performance(scored_test, threshold)
    decision = decide_retrain(
        n_current=len(current), drift_share=drift.drift_share,
        drifted_columns=drift.drifted_columns, n_monitored=drift.n_monitored, settings=cfg,
        current_performance=current_perf, reference_performance=reference_perf)
    summary = json_safe({
        **_version_label(),
        "source": source_label,
        "drift": drift.as_dict(),
        "performance": {"current": current_perf, "reference_test": reference_perf,
                        "threshold": threshold} if current_perf else None,
        "decision": decision.as_dict(),
        "settings": cfg.as_dict(),
        "seconds": {"drift_report": round(drift_seconds, 3),
                    "total": round(time.perf_counter() - started, 3)},
    })
    return (HTMLString(report_html(drift.snapshot)), HTMLString(report_html(model_snapshot)),
            summary)


@step(enable_cache=False)
def log_monitoring(summary: dict) -> Annotated[dict, "monitoring_decision"]:
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
