"""Step ``evaluate_model``: threshold on validation, metrics on test, plots for the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from PIL import Image
from sklearn.pipeline import Pipeline
from zenml import ArtifactConfig, log_metadata, step
from zenml.enums import ArtifactType
from zenml.types import HTMLString

import accidents
from accidents.constants import ARTIFACT_EVALUATION_REPORT, ARTIFACT_METRICS
from accidents.figures import png_image
from accidents.learning import evaluation as ev
from accidents.learning.features import TARGET
from accidents.learning.model import feature_importances, model_kind, predict_proba
from steps._common import active_mlflow, json_safe, timed


@step
def evaluate_model(model: Pipeline, validation_features: pd.DataFrame, test_features: pd.DataFrame) -> tuple[
    Annotated[float, "threshold"],
    Annotated[dict, ArtifactConfig(name=ARTIFACT_METRICS, artifact_type=ArtifactType.DATA_ANALYSIS)],
    Annotated[dict, "validation_metrics"],
    Annotated[HTMLString, ARTIFACT_EVALUATION_REPORT],
    Annotated[Image.Image, "roc_pr_curves"],
    Annotated[Image.Image, "confusion_matrix"],
    Annotated[Image.Image, "feature_importance"],
    Annotated[Image.Image, "calibration"],
]:
    """Choose the threshold on validation only, then measure test at that threshold."""
    meta: dict[str, Any] = {}
    with timed(meta):
        p_val = predict_proba(model, validation_features)
        threshold = ev.choose_threshold(validation_features[TARGET], p_val)
        val_metrics = ev.compute_metrics(validation_features[TARGET], p_val, threshold)
        y_test = test_features[TARGET].to_numpy()
        p_test = predict_proba(model, test_features)
        test_metrics = ev.compute_metrics(y_test, p_test, threshold)
        importances = feature_importances(model)
        figures = {
            "roc_pr_curves": ev.roc_pr_figure(y_test, p_test, f"{model_kind(model)} on test"),
            "confusion_matrix": ev.confusion_figure(y_test, p_test, threshold),
            "feature_importance": ev.importance_figure(importances),
            "calibration": ev.calibration_figure(y_test, p_test),
        }
        mlflow = active_mlflow()
        if mlflow is not None:
            for name, fig in figures.items():
                mlflow.log_figure(fig, f"plots/{name}.png")
        pngs = {name: ev.figure_png(fig) for name, fig in figures.items()}
    table = ev.metrics_table({"validation": val_metrics, "test": test_metrics})
    report = ev.html_report(f"Evaluation: {model_kind(model)} (threshold {threshold:.3f}, chosen on validation)",
                            {"metrics": table,
                             "feature importance (top 15)": importances.head(15).round(4).to_string()},
                            pngs)
    safe_test = json_safe(test_metrics)
    log_metadata(metadata={"evaluation": json_safe({"test": test_metrics, "validation": val_metrics, **meta})})
    if mlflow is not None:
        mlflow.log_metrics({f"test_{k}": float(v) for k, v in test_metrics.items() if v == v})
        mlflow.log_metrics({f"validation_{k}": float(v) for k, v in val_metrics.items() if v == v})
        mlflow.log_param("threshold", round(threshold, 6))
        import mlflow.sklearn

        # cloudpickle: MLflow 3's default (skops) refuses our transformer and XGBoost types;
        # the accidents package goes with the model so it loads without this repository.
        mlflow.sklearn.log_model(model, name="model", serialization_format="cloudpickle",
                                 code_paths=[str(Path(accidents.__file__).parent)],
                                 pip_requirements=["scikit-learn", "xgboost", "pandas", "numpy"])
        run = mlflow.active_run()
        log_metadata(metadata={"mlflow": {"run_id": run.info.run_id, "experiment_id": run.info.experiment_id,
                                          "tracking_uri": mlflow.get_tracking_uri()}}, infer_model=True)
    return (float(threshold), safe_test, json_safe(val_metrics), HTMLString(report),
            *(png_image(pngs[name], "RGB") for name in ("roc_pr_curves", "confusion_matrix", "feature_importance",
                                              "calibration")))
