"""Monitoring settings as the domain code uses them, built from the profile's ``monitoring``.

Why a separate object from ``accidents.config.MonitoringConfig``: the report and decision
code are unit-tested without a profile, and the resolution rules (one ``stattest`` for all
columns, or one per column type; ``auto`` = Evidently's own choice) live in one place.

Why distance tests by default. Evidently picks a test by sample size (<= 1000 reference
rows: chi-square / KS p-values; above: Jensen-Shannon / Wasserstein distances). With
BAAC-sized batches (100k+ road users a year) a p-value test flags nearly every column,
because any tiny, harmless change is "significant" at that size; with a few hundred rows
the p-value tests and the distances disagree. So we use the *distance* tests at every
size: Jensen-Shannon distance for categorical BAAC codes, normed Wasserstein distance for
numeric columns, both with Evidently's threshold 0.1: the verdict then means "the
distribution moved by a given amount", whatever the batch size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from accidents.errors import ConfigError

#: Drift tests accepted by name (Evidently 0.7 stattest registry names) + "auto".
KNOWN_METHODS: frozenset[str] = frozenset({
    "auto", "jensenshannon", "wasserstein", "psi", "kl_div", "hellinger", "tvd", "ks",
    "chisquare", "z", "anderson", "cramer_von_mises", "energy_distance", "mannw",
    "ed", "es", "t_test", "empirical_mmd", "fisher_exact", "g_test",
})


@dataclass(frozen=True)
class MonitoringSettings:
    """Everything the drift report and the retrain decision need (defaults = the profile's)."""

    cat_method: str = "jensenshannon"
    num_method: str = "wasserstein"
    cat_threshold: float | None = 0.1
    num_threshold: float | None = 0.1
    #: Evidently's own "dataset drift" line in the report (share of drifted columns).
    dataset_drift_share: float = 0.5
    #: Retrain when at least this share of the monitored features drift. 0.05 of the 38
    #: monitored inputs = 2 columns: a strong change in a few inputs is enough, one noisy
    #: column is not.
    retrain_drift_share: float = 0.05
    #: Retrain when ``metric`` on a labelled batch is this much worse than on the
    #: production version's own test set, even without input drift.
    retrain_metric_drop: float = 0.03
    metric: str = "roc_auc"
    #: Below this many current rows no retrain is decided: distances on a few hundred rows
    #: are mostly sampling noise (they are still computed and reported).
    min_rows: int = 500
    #: Inputs left out of the drift share: ``an`` (the year) *is* the period, so it always
    #: "drifts" between periods and says nothing about the world changing.
    ignore_columns: tuple[str, ...] = ("an",)
    #: Reference and current are each sampled down to this many rows (seeded) before the
    #: report, to bound its time on big years; 0 = no sampling.
    max_rows: int = 200_000
    seed: int = 0
    report_dir: str = "outputs/monitoring"
    simulate_period: str = "year"

    def __post_init__(self) -> None:
        for name in ("cat_method", "num_method"):
            value = getattr(self, name)
            if value not in KNOWN_METHODS:
                raise ConfigError(f"monitoring: {name} {value!r} is not an Evidently drift test; "
                                  f"expected one of {', '.join(sorted(KNOWN_METHODS))}")

    @classmethod
    def from_config(cls, monitoring: Any) -> MonitoringSettings:
        """From ``Config.monitoring`` (``accidents.config.MonitoringConfig``)."""
        one = (monitoring.stattest or "").strip()
        threshold = monitoring.stattest_threshold
        return cls(
            cat_method=one or monitoring.cat_stattest or "auto",
            num_method=one or monitoring.num_stattest or "auto",
            cat_threshold=threshold if threshold is not None else _default_threshold(
                one or monitoring.cat_stattest),
            num_threshold=threshold if threshold is not None else _default_threshold(
                one or monitoring.num_stattest),
            dataset_drift_share=monitoring.dataset_drift_share,
            retrain_drift_share=monitoring.drift_share_threshold,
            retrain_metric_drop=monitoring.performance_drop_threshold,
            metric=monitoring.metric,
            min_rows=monitoring.min_rows,
            ignore_columns=tuple(monitoring.ignore_columns),
            max_rows=monitoring.max_rows,
            seed=monitoring.seed,
            report_dir=monitoring.report_dir,
            simulate_period=monitoring.simulate_period,
        )

    def method_for(self, kind: str) -> str | None:
        """Evidently method name for a column kind ("cat"/"num"); None = Evidently's choice."""
        method = self.cat_method if kind == "cat" else self.num_method
        return None if method == "auto" else method

    def threshold_for(self, kind: str) -> float | None:
        return self.cat_threshold if kind == "cat" else self.num_threshold

    def as_dict(self) -> dict[str, Any]:
        """Plain values, for metadata and logs."""
        out = asdict(self)
        out["ignore_columns"] = list(self.ignore_columns)
        return out


def _default_threshold(method: str) -> float | None:
    """0.1 for the two distances we default to (Evidently's value); else the test's own."""
    return 0.1 if method in ("jensenshannon", "wasserstein") else None
