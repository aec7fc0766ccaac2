"""One monitoring pass over a batch: input drift, the model's output drift and quality, decision.

Why one function: the monitoring step and the monitoring benchmark must measure the same
thing; composing drift, performance and the retrain decision by hand in both let them
drift apart. Reference = the production version's training features (input drift) and its
test features scored by the model (output drift and performance at the version's threshold).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from accidents.monitoring.decision import RetrainDecision, decide_retrain
from accidents.monitoring.drift import PREDICTION, DriftResult, report_html, run_drift_report
from accidents.monitoring.performance import (
    has_labels,
    performance,
    run_model_report,
    with_predictions,
)
from accidents.monitoring.settings import MonitoringSettings


@dataclass
class BatchMonitoring:
    """Figures, decision and Evidently snapshots of one monitoring pass."""

    drift: DriftResult
    model_snapshot: Any
    threshold: float
    current_performance: dict[str, Any] | None
    reference_performance: dict[str, Any] | None
    decision: RetrainDecision
    seconds: dict[str, float]

    def summary(self, source: str, settings: MonitoringSettings) -> dict[str, Any]:
        """JSON-able figures (the step's ``monitoring_summary`` artifact, without version labels)."""
        return {
            "source": source,
            "drift": self.drift.as_dict(),
            "performance": {"current": self.current_performance,
                            "reference_test": self.reference_performance,
                            "threshold": self.threshold} if self.current_performance else None,
            "decision": self.decision.as_dict(),
            "settings": settings.as_dict(),
            "seconds": self.seconds,
        }

    def drift_html(self) -> str:
        return report_html(self.drift.snapshot)

    def model_html(self) -> str:
        return report_html(self.model_snapshot)


def monitor_batch(reference: pd.DataFrame, current: pd.DataFrame, model: Any,
                  test_features: pd.DataFrame, threshold: float, settings: MonitoringSettings,
                  source: str = "current batch") -> BatchMonitoring:
    """Drift (+ prediction drift) and, with labels, performance beside the reference's; decision.

    A batch that already carries the service's probabilities (the prediction log) is not
    re-scored: those are what the model answered.
    """
    started = time.perf_counter()
    drift = run_drift_report(reference, current, settings, source=source)
    drift_seconds = time.perf_counter() - started
    scored_test = with_predictions(model, test_features)
    scored_current = current if PREDICTION in current.columns else with_predictions(model, current)
    model_started = time.perf_counter()
    model_snapshot, drift.prediction_drift = run_model_report(scored_test, scored_current,
                                                              threshold, settings)
    model_seconds = time.perf_counter() - model_started
    current_perf = reference_perf = None
    if has_labels(current):
        current_perf = performance(scored_current, threshold)
        reference_perf = performance(scored_test, threshold)
    decision = decide_retrain(
        n_current=len(current), drift_share=drift.drift_share,
        drifted_columns=drift.drifted_columns, n_monitored=drift.n_monitored, settings=settings,
        current_performance=current_perf, reference_performance=reference_perf)
    return BatchMonitoring(
        drift=drift, model_snapshot=model_snapshot, threshold=float(threshold),
        current_performance=current_perf, reference_performance=reference_perf, decision=decision,
        seconds={"drift_report": round(drift_seconds, 3), "model_report": round(model_seconds, 3),
                 "total": round(time.perf_counter() - started, 3)})
