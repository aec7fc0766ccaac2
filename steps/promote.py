"""Step ``promote_model``: stage the candidate by the rules of accidents.learning.promotion.

The production version is scored *here*, on the candidate's own test split and at the
production version's own threshold, so both models are compared on the same rows. Never
cached: the answer depends on which version is in production now, not only on the inputs.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from zenml import get_step_context, log_metadata, step
from zenml.client import Client
from zenml.enums import ModelStages

from accidents.constants import (
    ARTIFACT_MODEL,
    META_DATA,
    META_FEATURES,
    META_METRICS,
    META_PROMOTION,
    META_THRESHOLD,
    MODEL_NAME,
)
from accidents.learning import evaluation as ev
from accidents.learning.features import MODEL_INPUT_COLUMNS, TARGET
from accidents.learning.model import predict_proba
from accidents.learning.promotion import (
    STAGE_NONE,
    STAGE_PRODUCTION,
    STAGE_STAGING,
    Decision,
    decide,
)
from steps._common import json_safe


def current_production(model_name: str = MODEL_NAME) -> Any | None:
    """The production ModelVersionResponse, or None when no version is in production."""
    try:
        return Client().get_model_version(model_name, ModelStages.PRODUCTION)
    except KeyError:
        return None


def score_version_on(version: Any, test_features: pd.DataFrame) -> dict[str, float]:
    """Metrics of a stored model version on ``test_features`` at that version's own threshold."""
    model = version.get_artifact(ARTIFACT_MODEL).load()
    threshold = float(version.run_metadata.get(META_THRESHOLD, 0.5))
    proba = predict_proba(model, test_features)
    return ev.compute_metrics(test_features[TARGET], proba, threshold)


def apply_decision(decision: Decision, candidate: Any) -> str | None:
    """Set the candidate's stage; returns the version that was archived by it, if any."""
    if decision.stage == STAGE_NONE:
        return None
    target = ModelStages.PRODUCTION if decision.stage == STAGE_PRODUCTION else ModelStages.STAGING
    previous = None
    try:
        previous = Client().get_model_version(candidate.model.name, target)
    except KeyError:
        previous = None
    candidate.set_stage(target, force=True)  # force: the former holder becomes archived
    return previous.name if previous is not None and previous.id != candidate.id else None


@step(enable_cache=False)
def promote_model(test_features: pd.DataFrame, test_metrics: dict, validation_metrics: dict,
                  threshold: float, data_summary: dict, gates: dict[str, float],
                  promotion: dict[str, Any]) -> Annotated[dict, "promotion_decision"]:
    """Gates -> staging; beats production on the same test data by the margin -> production.

    Also writes the model version's key metadata (metrics, threshold, features, data), here
    because this step always runs: cached upstream steps do not re-log onto a new version.
    """
    context_model = get_step_context().model
    candidate = Client().get_model_version(context_model.name, context_model.version)
    log_metadata(metadata={META_METRICS: test_metrics, META_THRESHOLD: float(threshold),
                           META_FEATURES: list(MODEL_INPUT_COLUMNS), META_DATA: data_summary,
                           "validation_metrics": validation_metrics}, infer_model=True)
    production = current_production(candidate.model.name)
    production_metrics = None
    note = ""
    if production is not None and production.id == candidate.id:
        production = None
    if production is not None:
        same_model = (production.get_artifact(ARTIFACT_MODEL).id == candidate.get_artifact(ARTIFACT_MODEL).id)
        if same_model:
            decision = Decision(STAGE_NONE, f"same model artifact as production version {production.name} "
                                "(unchanged, cached re-run): nothing to promote",
                                compared_with=production.name, metric=promotion.get("metric", "roc_auc"))
            return _finish(decision, candidate, None, None)
        try:
            production_metrics = score_version_on(production, test_features)
        except Exception as exc:  # noqa: BLE001 - an unreadable production model must not promote blindly
            production_metrics = {}
            note = f" (production version {production.name} could not be scored: {exc})"
    decision = decide(
        test_metrics, gates, production_metrics, production.name if production is not None else None,
        metric=promotion.get("metric", "roc_auc"), margin=float(promotion.get("margin", 0.0)),
        guard_metrics=promotion.get("guard_metrics", ()),
        guard_tolerance=float(promotion.get("guard_tolerance", 0.0)),
    )
    if note:
        decision = Decision(**{**decision.__dict__, "reason": decision.reason + note})
    return _finish(decision, candidate, production_metrics, production)


def _finish(decision: Decision, candidate: Any, production_metrics: dict | None, production: Any) -> dict:
    archived = apply_decision(decision, candidate)
    result = {**decision.as_metadata(), "candidate_version": candidate.name, "archived_version": archived,
              "production_metrics_same_test": production_metrics}
    result = json_safe({k: v for k, v in result.items() if v is not None})
    log_metadata(metadata={META_PROMOTION: result}, infer_model=True)
    log_metadata(metadata={META_PROMOTION: result})
    marker = {STAGE_PRODUCTION: "PROMOTED to production", STAGE_STAGING: "staged (not production)",
              STAGE_NONE: "NOT promoted"}[decision.stage]
    print(f"promotion: model version {candidate.name} {marker}: {decision.reason}"
          + (f"; version {archived} archived" if archived else ""), flush=True)
    return result
