"""Metrics, the decision threshold, and the evaluation plots (matplotlib -> PNG).

Why the threshold is a separate, validation-only choice: severe users are a minority, so
0.5 on balanced-weight probabilities is arbitrary; the threshold that maximises severe-class
F1 on *validation* is stored with the model version and only *applied* to test, so the test
figures are an honest estimate of what the served model does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

from accidents.errors import DataError
from accidents.figures import (
    figure_png,  # noqa: F401 - re-exported (evaluation plots' PNGs)
    plt,
)

#: +1: higher is better; -1: lower is better. Every metric a gate may name.
METRIC_DIRECTIONS: dict[str, int] = {
    "roc_auc": 1, "pr_auc": 1, "f1_severe": 1, "f1_macro": 1, "f1_weighted": 1,
    "precision": 1, "recall": 1, "balanced_accuracy": 1, "accuracy": 1, "brier": -1,
}
#: Order of the printed metrics table.
TABLE_METRICS = ("roc_auc", "pr_auc", "f1_severe", "f1_macro", "precision", "recall",
                 "balanced_accuracy", "brier")


def choose_threshold(y_true: Sequence[int] | np.ndarray, proba: Sequence[float] | np.ndarray) -> float:
    """Threshold maximising severe-class F1 (use on validation data only)."""
    y = _as_labels(y_true)
    p = np.asarray(proba, dtype=float)
    precision, recall, thresholds = precision_recall_curve(y, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    # precision/recall have one more entry than thresholds (the end point at recall 0).
    best = int(np.nanargmax(f1[:-1])) if len(thresholds) else 0
    return float(thresholds[best]) if len(thresholds) else 0.5


def compute_metrics(y_true: Sequence[int] | np.ndarray, proba: Sequence[float] | np.ndarray,
                    threshold: float) -> dict[str, float]:
    """All headline metrics for one data set at one threshold (plain floats, JSON-safe)."""
    y = _as_labels(y_true)
    p = np.asarray(proba, dtype=float)
    pred = (p >= threshold).astype(int)
    both = len(np.unique(y)) == 2
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "f1_severe": float(f1_score(y, pred, pos_label=1, zero_division=0)),
        "f1_macro": float(f1_score(y, pred, average="macro", zero_division=0)),
        "f1_weighted": float(f1_score(y, pred, average="weighted", zero_division=0)),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
        "accuracy": float(accuracy_score(y, pred)),
        "brier": float(brier_score_loss(y, p)),
        "threshold": float(threshold),
        "n": int(len(y)),
        "severe_share": float(y.mean()) if len(y) else float("nan"),
    }


def metrics_table(rows: Mapping[str, Mapping[str, float]], metrics: Sequence[str] = TABLE_METRICS) -> str:
    """Compact fixed-width table: one row per label (e.g. split or model), one column per metric."""
    label_width = max([len("set")] + [len(k) for k in rows])
    head = "set".ljust(label_width) + "".join(f"{m:>19}" if len(m) > 9 else f"{m:>10}" for m in metrics)
    lines = [head, "-" * len(head)]
    for label, values in rows.items():
        cells = []
        for m in metrics:
            width = 19 if len(m) > 9 else 10
            value = values.get(m, float("nan"))
            cells.append(f"{value:>{width}.4f}" if isinstance(value, (int, float)) and not math.isnan(value)
                         else f"{'-':>{width}}")
        lines.append(label.ljust(label_width) + "".join(cells))
    return "\n".join(lines)


# --------------------------------------------------------------------------- plots


def roc_pr_figure(y_true: np.ndarray, proba: np.ndarray, title: str = "") -> Figure:
    """ROC and precision-recall curves side by side."""
    y = _as_labels(y_true)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    fpr, tpr, _ = roc_curve(y, proba)
    ax1.plot(fpr, tpr, label=f"AUC = {roc_auc_score(y, proba):.3f}")
    ax1.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    ax1.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax1.legend(loc="lower right")
    precision, recall, _ = precision_recall_curve(y, proba)
    ax2.plot(recall, precision, label=f"AP = {average_precision_score(y, proba):.3f}")
    ax2.axhline(y.mean(), ls="--", c="grey", lw=0.8, label=f"base rate {y.mean():.3f}")
    ax2.set(xlabel="recall (severe)", ylabel="precision (severe)", title="Precision-recall")
    ax2.legend(loc="upper right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_figure(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> Figure:
    """Confusion matrix (counts and row shares) at the chosen threshold."""
    y = _as_labels(y_true)
    cm = confusion_matrix(y, (np.asarray(proba) >= threshold).astype(int), labels=[0, 1])
    shares = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(2):
        for j in range(2):
            ax.text(j, i, f"{cm[i, j]}\n({shares[i, j]:.0%})", ha="center", va="center",
                    color="white" if shares[i, j] > 0.5 else "black")
    ax.set_xticks([0, 1], ["not severe", "severe"])
    ax.set_yticks([0, 1], ["not severe", "severe"])
    ax.set(xlabel="predicted", ylabel="actual", title=f"Confusion matrix (threshold {threshold:.3f})")
    fig.tight_layout()
    return fig


def importance_figure(importances: pd.Series, top: int = 20) -> Figure:
    """Horizontal bar chart of the largest feature importances."""
    data = importances.sort_values(ascending=True).tail(top)
    fig, ax = plt.subplots(figsize=(6, 0.28 * len(data) + 1.2))
    ax.barh(data.index.astype(str), data.values, color="#4477aa")
    ax.set(xlabel="importance", title="Feature importance (classifier's own measure)")
    fig.tight_layout()
    return fig


def calibration_figure(y_true: np.ndarray, proba: np.ndarray, bins: int = 10) -> Figure:
    """Reliability curve: observed severe share against mean predicted probability."""
    y = _as_labels(y_true)
    observed, predicted = calibration_curve(y, proba, n_bins=bins, strategy="quantile")
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    ax.plot(predicted, observed, marker="o")
    ax.set(xlabel="mean predicted probability", ylabel="observed severe share",
           title=f"Calibration (Brier {brier_score_loss(y, proba):.3f})")
    fig.tight_layout()
    return fig


def html_report(title: str, tables: Mapping[str, str], images: Mapping[str, bytes]) -> str:
    """A self-contained HTML page (tables as <pre>, PNGs inlined) for the ZenML dashboard."""
    import base64
    import html

    parts = [f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>",
             "<body style='font-family:sans-serif'>", f"<h2>{html.escape(title)}</h2>"]
    for name, text in tables.items():
        parts.append(f"<h3>{html.escape(name)}</h3><pre>{html.escape(text)}</pre>")
    for name, png in images.items():
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"<h3>{html.escape(name)}</h3><img alt='{html.escape(name)}' "
                     f"src='data:image/png;base64,{data}'/>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _as_labels(y_true: Sequence[int] | np.ndarray | pd.Series) -> np.ndarray:
    y = np.asarray(y_true)
    if y.size and not np.isin(y, (0, 1)).all():
        raise DataError(f"target must be 0/1, found values {sorted(set(np.unique(y).tolist()) - {0, 1})[:5]}")
    return y.astype(int)
