"""Names shared by training, deployment, serving and monitoring (one place each)."""

from __future__ import annotations

#: The one ZenML Model (Model Control Plane) this project trains and promotes.
MODEL_NAME = "road_accident_severity"
MODEL_LICENSE = "Licence Ouverte 2.0 (data: ONISR BAAC); code: MIT"
MODEL_DESCRIPTION = (
    "Probability that a road user involved in a French injury road accident is killed or "
    "hospitalised (BAAC grav in {2, 3}), from the situation coded as in the BAAC files."
)
MODEL_TAGS = ("baac", "road-safety", "tabular", "classification")

#: Artifact names attached to each model version.
ARTIFACT_MODEL = "severity_model"  # the sklearn Pipeline (raw BAAC inputs -> probability)
ARTIFACT_TRAIN_FEATURES = "train_features"  # model-input frame the model was trained on (+ target)
ARTIFACT_TEST_FEATURES = "test_features"
ARTIFACT_SPLIT = "split_assignment"
ARTIFACT_METRICS = "test_metrics"

#: Output artifacts of the monitoring pipeline (attached to the production model version).
ARTIFACT_MONITORING_CURRENT = "monitoring_current_batch"
ARTIFACT_MONITORING_DRIFT_REPORT = "monitoring_drift_report"
ARTIFACT_MONITORING_PERFORMANCE_REPORT = "monitoring_performance_report"
ARTIFACT_MONITORING_SUMMARY = "monitoring_summary"
ARTIFACT_MONITORING_DECISION = "monitoring_decision"
#: Output artifacts read back by the commands (training report, deployment result).
ARTIFACT_EVALUATION_REPORT = "evaluation_report"
ARTIFACT_PROMOTION_DECISION = "promotion_decision"
ARTIFACT_BENTO_EXPORT = "bento_export"

#: Metadata keys logged on the model version.
META_THRESHOLD = "threshold"
META_METRICS = "metrics"
META_FEATURES = "feature_columns"
META_DATA = "data_summary"
META_PROMOTION = "promotion"
META_MONITORING = "monitoring"

#: Model-version stages (as ZenML spells them); ``none`` = not staged.
STAGE_PRODUCTION = "production"
STAGE_STAGING = "staging"
STAGE_ARCHIVED = "archived"
STAGE_NONE = "none"
#: Stages a user may move a version to (``run.py promote --stage``).
MANUAL_STAGES = (STAGE_PRODUCTION, STAGE_STAGING, STAGE_ARCHIVED)

#: BentoML model-store name of the exported production model.
BENTO_MODEL_NAME = "road_accident_severity"
BENTO_SERVICE_NAME = "road_accident_severity"
#: The clone's own BentoML store, ``<clone>/bentoml-home`` (run.py sets $BENTOML_HOME to it
#: unless it is set), so clones on one machine never share or overwrite Bentos.
BENTOML_HOME_DIR = "bentoml-home"
