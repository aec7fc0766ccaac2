"""Step ``promote_model``: stage the candidate by the rules of accidents.learning.promotion.

The flow itself (score production on the candidate's test split at production's own
threshold, decide, change stages, record) is ``ops.registry.promote``, shared with
``run.py promote``. Never cached: the answer depends on which version is in production
now, not only on the inputs.
"""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from zenml import get_step_context, log_metadata, step

from accidents.config import PromotionConfig
from accidents.constants import (
    ARTIFACT_PROMOTION_DECISION,
    META_DATA,
    META_FEATURES,
    META_METRICS,
    META_PROMOTION,
    META_THRESHOLD,
)
from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.learning.promotion import STAGE_NONE, STAGE_PRODUCTION, STAGE_STAGING
from ops import registry


@step(enable_cache=False)
def promote_model(test_features: pd.DataFrame, test_metrics: dict, validation_metrics: dict,
                  threshold: float, data_summary: dict, gates: dict[str, float],
                  promotion: PromotionConfig) -> Annotated[dict, ARTIFACT_PROMOTION_DECISION]:
    """Gates -> staging; beats production on the same test data by the margin -> production.

    Also writes the model version's key metadata (metrics, threshold, features, data), here
    because this step always runs: cached upstream steps do not re-log onto a new version.
    """
    context_model = get_step_context().model
    candidate = registry.named_version(context_model.version, context_model.name)
    registry.log_on_version(candidate, {
        META_METRICS: test_metrics, META_THRESHOLD: float(threshold),
        META_FEATURES: list(MODEL_INPUT_COLUMNS), META_DATA: data_summary,
        "validation_metrics": validation_metrics})
    result = registry.promote(candidate, gates, promotion, test_features=test_features,
                              candidate_metrics=test_metrics)
    log_metadata(metadata={META_PROMOTION: result})  # on the step too (run view)
    marker = {STAGE_PRODUCTION: "PROMOTED to production", STAGE_STAGING: "staged (not production)",
              STAGE_NONE: "NOT promoted"}[result["stage"]]
    archived = result.get("archived_version")
    print(f"promotion: model version {candidate.name} {marker}: {result['reason']}"
          + (f"; version {archived} archived" if archived else ""), flush=True)
    return result
