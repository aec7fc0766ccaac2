"""The promotion decision, as a pure function (no ZenML): testable alone, reused by the
``promote`` step and by ``run.py promote``.

Rules (and why):
- a candidate that fails an absolute gate is not promoted at all (a model that is worse
  than "useful" must never serve, even when nothing else is in production);
- a passing candidate becomes ``staging``; it becomes ``production`` only if there is no
  production version yet, or if it beats production *on the same test data* (the caller
  scores both on the candidate's test split) by ``margin`` on the promotion metric and is
  not worse than ``guard_tolerance`` on each guard metric. Comparing figures measured on
  different test sets would promote a model for having had an easier test set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from accidents.constants import (  # noqa: F401 - re-exported: the stages belong to the rules
    MANUAL_STAGES,
    STAGE_ARCHIVED,
    STAGE_NONE,
    STAGE_PRODUCTION,
    STAGE_STAGING,
)
from accidents.learning.evaluation import METRIC_DIRECTIONS


@dataclass(frozen=True)
class Decision:
    """What happens to the candidate, and why (logged as metadata, printed)."""

    stage: str
    reason: str
    failed_gates: list[str] = field(default_factory=list)
    compared_with: str | None = None  # production version number/name, if any
    candidate_score: float | None = None
    production_score: float | None = None
    metric: str = "roc_auc"

    @property
    def promoted_to_production(self) -> bool:
        return self.stage == STAGE_PRODUCTION

    def as_metadata(self) -> dict[str, object]:
        """JSON-safe dict (NaN/None dropped) for ZenML metadata."""
        return {k: v for k, v in asdict(self).items()
                if v is not None and not (isinstance(v, float) and math.isnan(v))}


def check_gates(metrics: Mapping[str, float], gates: Mapping[str, float]) -> list[str]:
    """Human-readable failures, e.g. ``roc_auc 0.612 < 0.700`` (empty list = all pass)."""
    failures = []
    for name, bound in gates.items():
        value = metrics.get(name, float("nan"))
        lower_is_better = METRIC_DIRECTIONS.get(name, 1) < 0
        if value is None or math.isnan(value):
            failures.append(f"{name} not measured (gate {bound:g})")
        elif lower_is_better and value > bound:
            failures.append(f"{name} {value:.4f} > {bound:.4f}")
        elif not lower_is_better and value < bound:
            failures.append(f"{name} {value:.4f} < {bound:.4f}")
    return failures


def _gain(name: str, candidate: float, production: float) -> float:
    """Improvement of candidate over production, positive = better, in metric units."""
    return (candidate - production) * METRIC_DIRECTIONS.get(name, 1)


def decide(
    candidate: Mapping[str, float],
    gates: Mapping[str, float],
    production: Mapping[str, float] | None = None,
    production_version: str | None = None,
    metric: str = "roc_auc",
    margin: float = 0.0,
    guard_metrics: Sequence[str] = (),
    guard_tolerance: float = 0.0,
) -> Decision:
    """Decide the candidate's stage from its metrics and production's, both on the same test data."""
    failures = check_gates(candidate, gates)
    cand_score = candidate.get(metric)
    if failures:
        return Decision(STAGE_NONE, "fails quality gate(s): " + "; ".join(failures),
                        failed_gates=failures, compared_with=production_version,
                        candidate_score=cand_score, metric=metric)
    if production is None:
        return Decision(STAGE_PRODUCTION, "passes all gates and there is no production version yet",
                        candidate_score=cand_score, metric=metric)
    prod_score = production.get(metric, float("nan"))
    common = dict(compared_with=production_version, candidate_score=cand_score,
                  production_score=prod_score, metric=metric)
    if cand_score is None or prod_score is None or math.isnan(cand_score) or math.isnan(prod_score):
        return Decision(STAGE_STAGING, f"{metric} could not be measured for both models on the same "
                        "test data; kept in staging", **common)
    gain = _gain(metric, cand_score, prod_score)
    if gain < margin or gain <= 0:
        return Decision(
            STAGE_STAGING,
            f"passes gates but does not beat production version {production_version} on the same "
            f"test data: {metric} {cand_score:.4f} vs {prod_score:.4f} (gain {gain:+.4f}, "
            f"required >= {margin:.4f} and > 0)", **common)
    regressions = []
    for name in guard_metrics:
        c, p = candidate.get(name, float("nan")), production.get(name, float("nan"))
        if not (math.isnan(c) or math.isnan(p)) and _gain(name, c, p) < -guard_tolerance:
            regressions.append(f"{name} {c:.4f} vs {p:.4f}")
    if regressions:
        return Decision(STAGE_STAGING, f"beats production version {production_version} on {metric} "
                        f"({cand_score:.4f} vs {prod_score:.4f}) but is worse on guard metric(s): "
                        + "; ".join(regressions) + f" (tolerance {guard_tolerance:g})", **common)
    return Decision(STAGE_PRODUCTION, f"beats production version {production_version} on the same test "
                    f"data: {metric} {cand_score:.4f} vs {prod_score:.4f} (gain {gain:+.4f} >= margin "
                    f"{margin:.4f})", **common)
