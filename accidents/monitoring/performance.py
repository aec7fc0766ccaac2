"""Model quality on a labelled batch, beside the reference quality (Evidently + our metrics).

Reference performance = the production model on the production version's own *test*
features (not its training features, on which a tree ensemble looks far better than it
is), scored here by the same code as the new batch, at the version's threshold; so the
two columns of figures are comparable. The Evidently classification report shows the
same comparison with its curves and confusion matrices, plus the drift of the model's
output (its probabilities), which needs no labels and so also works on the prediction log.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from accidents.learning.evaluation import compute_metrics
from accidents.learning.features import TARGET
from accidents.monitoring.drift import PREDICTION, ColumnDrift, extract_drift
from accidents.monitoring.settings import MonitoringSettings


def with_predictions(model: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus the model's P(severe) in the ``prediction`` column."""
    from accidents.learning.model import predict_proba

    out = frame.copy()
    out[PREDICTION] = np.asarray(predict_proba(model, frame), dtype="float64")
    return out


def has_labels(frame: pd.DataFrame) -> bool:
    """True when the batch carries the 0/1 target (BAAC files do; the prediction log does not)."""
    return TARGET in frame.columns and frame[TARGET].notna().all() and len(frame) > 0


def performance(frame: pd.DataFrame, threshold: float) -> dict[str, float]:
    """Headline metrics of the ``prediction`` column against ``severe`` (JSON-safe floats)."""
    metrics = compute_metrics(frame[TARGET].to_numpy(), frame[PREDICTION].to_numpy(), threshold)
    return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in metrics.items()}


def run_model_report(reference: pd.DataFrame, current: pd.DataFrame, threshold: float,
                     settings: MonitoringSettings) -> tuple[Any, ColumnDrift]:
    """Evidently report on the model itself: drift of its output, and quality with labels.

    ``reference`` = the production version's test set scored by the model; ``current`` =
    the batch scored (or the probabilities the service logged). The classification part is
    added only when both sides have labels of both classes (ROC AUC needs them).
    """
    from evidently import BinaryClassification, DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import ClassificationPreset

    labelled = all(has_labels(f) and f[TARGET].nunique() == 2 for f in (reference, current))
    columns = [PREDICTION] + ([TARGET] if labelled else [])
    definition = DataDefinition(
        numerical_columns=[PREDICTION],
        classification=[BinaryClassification(target=TARGET, prediction_probas=PREDICTION,
                                             pos_label=1)] if labelled else None,
    )
    metrics: list[Any] = [ValueDrift(column=PREDICTION, method=settings.method_for("num"),
                                     threshold=settings.threshold_for("num"))]
    if labelled:
        metrics.append(ClassificationPreset(probas_threshold=float(threshold)))
    snapshot = Report(metrics, include_tests=True).run(
        Dataset.from_pandas(current[columns].reset_index(drop=True), data_definition=definition),
        Dataset.from_pandas(reference[columns].reset_index(drop=True), data_definition=definition),
    )
    return snapshot, extract_drift(snapshot.dict(), [PREDICTION]).columns[0]
