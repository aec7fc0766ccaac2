"""Pipeline ``monitoring``: production model vs a new batch -> Evidently reports -> retrain decision.

It runs in the context of the production version of the model
(``Model(name, version=ModelStages.PRODUCTION)``): the reference features, the model and
its test features are that version's own Model Control Plane artifacts, resolved when the
steps run (late materialisation), so nothing is recomputed or guessed; every output (the
HTML reports, the summary, the decision) is attached to that version.
"""

from __future__ import annotations

from typing import Any

from zenml import Model, get_pipeline_context, pipeline
from zenml.enums import ModelStages

from accidents.constants import (
    ARTIFACT_MODEL,
    ARTIFACT_TEST_FEATURES,
    ARTIFACT_TRAIN_FEATURES,
    MODEL_NAME,
)
from accidents.monitoring.settings import MonitoringSettings
from steps.monitoring import load_current_batch, log_monitoring, monitor_batch

PIPELINE_NAME = "monitoring"
#: Step names, for reading outputs back (ops.runner.output).
STEP_MONITOR = monitor_batch.name
STEP_LOG = log_monitoring.name


@pipeline(
    name=PIPELINE_NAME,
    enable_cache=False,
    model=Model(name=MODEL_NAME, version=ModelStages.PRODUCTION),
)
def monitoring_pipeline(source: dict[str, Any], settings: MonitoringSettings, source_label: str) -> None:
    """Load the batch, compare it with the production version's data, decide and log."""
    production = get_pipeline_context().model
    current = load_current_batch(source=source)
    _, _, summary = monitor_batch(
        reference=production.get_artifact(ARTIFACT_TRAIN_FEATURES),
        current=current,
        model=production.get_artifact(ARTIFACT_MODEL),
        test_features=production.get_artifact(ARTIFACT_TEST_FEATURES),
        settings=settings,
        source_label=source_label,
    )
    log_monitoring(summary=summary)
