"""Continuous-training simulation: the per-period record, its table and its plot.

The loop itself (monitor -> retrain -> promote, with ZenML) is in cli/monitor_simulate.py;
this module only turns its records into what a person reads: a fixed-width table and a
PNG with the drift share and the serving model's quality per period, annotated with the
model version that served each period and where retraining happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from accidents.figures import figure_png, plt


@dataclass
class PeriodRecord:
    """What happened in one period of the simulation."""

    period: str
    serving_version: str  # "" for the first period (it trains the first model)
    rows: int | None  # current rows monitored (None for the first period)
    drift_share: float | None  # None for the first period (nothing to compare with yet)
    drifted_columns: list[str] = field(default_factory=list)
    roc_auc: float | None = None  # serving model on this period's labelled data
    reference_roc_auc: float | None = None  # same model on its own test set
    retrain: bool = False
    reason: str = ""
    new_version: str | None = None  # version trained after this period, if any
    promoted: bool = False  # the new version replaced production
    promotion_reason: str = ""
    monitoring_run: str = ""  # the monitoring pipeline run of this period
    drift_report: str = ""  # its HTML report files
    performance_report: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def records_table(records: Sequence[PeriodRecord]) -> pd.DataFrame:
    """One row per period, in order."""
    rows = []
    for r in records:
        rows.append({
            "period": r.period, "served_by": r.serving_version or "(training)", "rows": r.rows,
            "drift_share": None if r.drift_share is None else round(r.drift_share, 4),
            "n_drifted": len(r.drifted_columns),
            "drifted": ", ".join(r.drifted_columns[:6]) + (" ..." if len(r.drifted_columns) > 6 else ""),
            "roc_auc": None if r.roc_auc is None else round(r.roc_auc, 4),
            "ref_roc_auc": None if r.reference_roc_auc is None else round(r.reference_roc_auc, 4),
            "retrain": r.retrain, "new_version": r.new_version or "",
            "promoted": r.promoted,
        })
    table = pd.DataFrame(rows)
    if not table.empty:
        table["rows"] = table["rows"].astype("Int64")  # None (first period) without turning floats
    return table


def format_table(table: pd.DataFrame) -> str:
    """The table as fixed-width text for the terminal."""
    shown = table.astype(object).where(table.notna(), "-")
    return shown.to_string(index=False)


def plot_png(records: Sequence[PeriodRecord], title: str = "Continuous training",
             retrain_share: float | None = None) -> bytes:
    """PNG: drift share bars and ROC AUC line per period, serving version under each bar."""
    periods = [r.period for r in records]
    x = list(range(len(records)))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(records) + 2), 4.4))
    colours = ["#cc3311" if r.retrain and r.serving_version else "#4477aa" for r in records]
    shares = [r.drift_share or 0.0 for r in records]
    ax.bar(x, shares, color=colours, alpha=0.8, label="drift share (red: retrain decided)")
    if retrain_share is not None:
        ax.axhline(retrain_share, ls=":", c="#cc3311", lw=1, label=f"retrain threshold {retrain_share:g}")
    ax.set_ylabel("share of drifted features")
    ax.set_ylim(0, max(0.2, max(shares, default=0) * 1.25))
    ax.set_xticks(x, [f"{r.period}\n" + (f"served by v{r.serving_version}" if r.serving_version
                                           else "first training") for r in records])
    auc_ax = ax.twinx()
    auc = [r.roc_auc for r in records]
    auc_ax.plot([i for i, v in zip(x, auc, strict=True) if v is not None],
                [v for v in auc if v is not None], marker="o", color="#228833", label="ROC AUC")
    ref = [r.reference_roc_auc for r in records]
    auc_ax.plot([i for i, v in zip(x, ref, strict=True) if v is not None],
                [v for v in ref if v is not None], ls="--", marker=".", color="#999933",
                label="ROC AUC on own test set")
    auc_ax.set_ylabel("ROC AUC of the serving model")
    known = [v for v in auc + ref if v is not None]
    if known:
        auc_ax.set_ylim(max(0.0, min(known) - 0.05), min(1.0, max(known) + 0.05))
    for i, r in enumerate(records):
        if r.retrain:
            verb = "train" if not r.serving_version else "retrain"
            text = f"{verb} -> v{r.new_version}" + (" (production)" if r.promoted else " (not promoted)")
            ax.annotate(text, (i, shares[i]), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=8)
    handles = ax.get_legend_handles_labels()
    more = auc_ax.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel("period" if periods else "")
    fig.tight_layout()
    return figure_png(fig)
