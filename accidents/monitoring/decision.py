"""The retrain decision and its reason, from the monitoring figures and the config policy.

Kept apart from the report code so the policy reads in one screen and is unit-tested on
plain numbers. Rules, in order:

1. too few current rows (< ``min_rows``): no retrain -- distances on a handful of rows
   are sampling noise, and retraining on them would chase it;
2. the share of drifted monitored features >= ``retrain_drift_share``: retrain;
3. labels known and the configured metric (ROC AUC by default) on the batch at least
   ``retrain_metric_drop`` worse than on the reference (the production version's own
   test set, scored by the same code): retrain, even without input drift;
4. otherwise no retrain.

The reason always states the figures and the thresholds they were compared with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from accidents.learning.evaluation import METRIC_DIRECTIONS
from accidents.monitoring.settings import MonitoringSettings


@dataclass(frozen=True)
class RetrainDecision:
    """Whether to retrain, why, and which rule fired."""

    retrain: bool
    reason: str
    rule: str  # "too_few_rows" | "feature_drift" | "performance_drop" | "stable"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide_retrain(
    *,
    n_current: int,
    drift_share: float,
    drifted_columns: Sequence[str],
    n_monitored: int,
    settings: MonitoringSettings,
    current_performance: Mapping[str, Any] | None = None,
    reference_performance: Mapping[str, Any] | None = None,
) -> RetrainDecision:
    """Apply the policy above to one monitoring run's figures."""
    drifted = list(drifted_columns)
    drift_text = (
        f"{len(drifted)} of {n_monitored} monitored features drifted "
        f"(share {drift_share:.3f}; retrain threshold {settings.retrain_drift_share:.3f})"
        + (f": {', '.join(drifted)}" if drifted else "")
    )
    if n_current < settings.min_rows:
        return RetrainDecision(
            False,
            f"no retrain: only {n_current} current rows (< monitoring.min_rows = "
            f"{settings.min_rows}), too few for reliable drift figures; {drift_text}",
            "too_few_rows",
        )
    metric = settings.metric
    now = _value(current_performance, metric)
    ref = _value(reference_performance, metric)
    perf_text = "no labels in the batch: performance not checked"
    drop = None
    if now is not None and ref is not None:
        drop = (ref - now) * METRIC_DIRECTIONS.get(metric, 1)  # > 0 = worse now
        perf_text = (f"{metric} {now:.4f} on the batch vs {ref:.4f} on the production "
                     f"version's test set (worse by {drop:+.4f}; retrain threshold "
                     f"{settings.retrain_metric_drop:.4f})")
    if drift_share >= settings.retrain_drift_share and drifted:
        return RetrainDecision(True, f"retrain: {drift_text}; {perf_text}", "feature_drift")
    if drop is not None and drop >= settings.retrain_metric_drop:
        return RetrainDecision(True, f"retrain: {perf_text}; {drift_text}", "performance_drop")
    return RetrainDecision(False, f"no retrain: {drift_text}; {perf_text}", "stable")


def _value(performance: Mapping[str, Any] | None, metric: str) -> float | None:
    value = (performance or {}).get(metric)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)
