"""Step ``train_model``: fit the configured classifier inside the raw-input Pipeline."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from sklearn.pipeline import Pipeline
from zenml import ArtifactConfig, log_metadata, step
from zenml.enums import ArtifactType

from accidents.config import ModelConfig
from accidents.constants import ARTIFACT_MODEL
from accidents.learning.features import TARGET
from accidents.learning.model import build_model, fit_model
from steps._common import active_mlflow, class_balance, json_safe, timed


@step
def train_model(train_features: pd.DataFrame, model: ModelConfig) -> Annotated[
    Pipeline, ArtifactConfig(name=ARTIFACT_MODEL, artifact_type=ArtifactType.MODEL)
]:
    """Build and fit; on a stack with the MLflow tracker the parameters go to the MLflow run."""
    cfg = model
    meta: dict[str, Any] = {}
    with timed(meta):
        pipeline = build_model(cfg.kind, cfg.params)
        fit_model(pipeline, train_features, train_features[TARGET], cfg.class_weight)
    params = {k: v for k, v in pipeline.named_steps["classifier"].get_params().items()
              if isinstance(v, (int, float, str, bool)) or v is None}
    log_metadata(metadata={"training": json_safe({
        "kind": cfg.kind, "class_weight": cfg.class_weight, "params": params,
        "class_balance": class_balance(train_features[TARGET]), **meta})})
    mlflow = active_mlflow()
    if mlflow is not None:
        mlflow.log_params({"model_kind": cfg.kind, "class_weight": cfg.class_weight,
                           "train_rows": len(train_features),
                           **{f"clf_{k}": v for k, v in params.items()}})
    return pipeline
