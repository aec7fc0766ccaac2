"""Data drift between what the production model was trained on and a new batch (Evidently 0.7).

The reference is the production model version's training features, the current batch is
new data of another period (or the service's prediction log); both hold the raw
``MODEL_INPUT_COLUMNS``. This module checks the batch's columns, types each column for
Evidently (BAAC codes are categorical even though they are integers; ages, speed limits,
counts and the hour are numeric), runs one Evidently report (DataDriftPreset +
DataSummaryPreset) and reads the per-column verdicts and the drifted share back from the
snapshot. The model's output and quality are compared in accidents/monitoring/performance.py,
against the production version's *test* set (its training rows would make the model look
better and its outputs more extreme than on any new data).

No ZenML here: steps/monitoring.py wraps it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from accidents.data import schema
from accidents.errors import ConfigError, DataError
from accidents.learning.features import AGGREGATE_INPUTS, ID_COLUMNS, MODEL_INPUT_COLUMNS, TARGET
from accidents.monitoring.settings import MonitoringSettings

#: Column holding the model's probability (from the prediction log, or computed).
PREDICTION = "prediction"
#: Columns a batch may carry beside the model inputs without being an error.
ALLOWED_EXTRA_COLUMNS: frozenset[str] = frozenset(
    set(ID_COLUMNS) | {"grav", TARGET, PREDICTION, "probability", "model_version", "ts",
                       "request_id", "severe_predicted"}
)
#: Aggregates compared as categories: a code (``other_vehicle_class``) and the small
#: counts of vehicles / users / pedestrians. Why the counts: they take a handful of values
#: and are shared by every user of an accident, so a normed Wasserstein distance (divided
#: by a std of about 1) swings with a few large accidents; comparing their frequency
#: tables (Jensen-Shannon, as Evidently does for numeric columns with few values) does not.
_CATEGORICAL_AGGREGATES = frozenset({"other_vehicle_class", "n_vehicles", "n_users", "n_pedestrians"})
#: A column is compared only when each side has at least this many recorded values. Why:
#: Evidently refuses an empty column (a batch of 9 served rows with no ``nbv`` crashed the
#: whole run), and a "distribution" of fewer values is not one; such a column is skipped
#: and named in the summary instead. Categorical codes count "not recorded" (-1) as a
#: value, so only numeric columns (ages, speed limit, lanes, hour, ...) can be skipped.
MIN_DRIFT_VALUES = 5


def column_kind(name: str) -> str:
    """"cat" or "num": how Evidently should treat a model-input column, and why.

    BAAC codes (lum, catv, secu1, ...) are labels: their integer order means nothing, so
    they are categorical; so are the accident-level counts (see above). Measures and
    calendar numbers (an_nais, vma, nbv, jour, mois, an) are quantities. ``hrmn`` becomes
    the hour (numeric).
    """
    if name in AGGREGATE_INPUTS:
        return "cat" if name in _CATEGORICAL_AGGREGATES else "num"
    try:
        kind = schema.column(name).kind
    except KeyError:
        return "num"
    return "cat" if kind in ("code", "letter", "text") else "num"


def check_batch_columns(frame: pd.DataFrame, expected: Sequence[str], source: str) -> None:
    """Raise DataError naming missing and unexpected columns of a batch.

    Why strict: a column the model needs but the batch lacks cannot be monitored (nor
    predicted), and an unknown column usually means a wrong file or a renamed field; both
    must be fixed at the source, not silently ignored.
    """
    present = list(frame.columns)
    missing = [c for c in expected if c not in present]
    extra = [c for c in present if c not in expected and c not in ALLOWED_EXTRA_COLUMNS]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected column(s) {', '.join(extra)}")
        raise DataError(
            f"{source}: {'; '.join(parts)}. A monitoring batch must have exactly the model "
            f"input columns ({len(expected)}: {', '.join(expected)}), optionally with "
            f"{', '.join(sorted(ALLOWED_EXTRA_COLUMNS))}"
        )
    if frame.empty:
        raise DataError(f"{source}: the batch has no rows")


def hour_of(hrmn: pd.Series) -> pd.Series:
    """Hour of day (float, NaN when unreadable): the model's own parser, so the monitored
    hour is exactly the feature the model sees."""
    from accidents.learning.model import parse_hour

    return parse_hour(hrmn)


def age_of(frame: pd.DataFrame) -> pd.Series:
    """Age at the accident (``an - an_nais``, NaN outside 0-110), as the model derives it."""
    year = pd.to_numeric(frame["an"], errors="coerce")
    age = year - pd.to_numeric(frame["an_nais"], errors="coerce")
    return age.where((age >= 0) & (age <= 110)).astype("float64")


def prepare_for_drift(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The monitored columns, typed for Evidently; each keeps its BAAC name.

    Two raw fields are monitored as what the model makes of them: ``hrmn`` as the hour,
    ``an_nais`` as the age at the accident (``an - an_nais``). Why the age: the birth
    year of the same population moves by one every year, so it would "drift" between any
    two years; the age is what the model uses (and a population that gets older does drift).
    """
    out = pd.DataFrame(index=frame.index)
    for name in columns:
        values = frame[name]
        if name == "hrmn":
            out[name] = hour_of(values)
        elif name == "an_nais" and "an" in frame.columns:
            out[name] = age_of(frame)
        elif column_kind(name) == "cat":
            out[name] = code_labels(values)
        else:
            out[name] = pd.to_numeric(values, errors="coerce").astype("float64")
    return out.reset_index(drop=True)


def code_labels(values: pd.Series) -> pd.Series:
    """BAAC codes as int64 categories (missing -> -1, "not recorded"), declared categorical.

    Integer codes read as floats (7.0 from JSON or after a NaN) become 7, the same category
    as in the reference. Why integers and not label text: Evidently's per-column statistics
    are several times slower on text columns (100k rows: ~60 s instead of ~12 s). A column
    with letter codes (none among the model inputs today) is kept as text.
    """
    numeric = pd.to_numeric(values, errors="coerce")
    known = values.notna() & (values.astype("string").str.strip() != "")
    if (numeric.isna() & known).any():
        return values.astype("string").str.strip().fillna("-1").astype(object)
    if not (numeric.dropna() == np.floor(numeric.dropna())).all():
        raise DataError(f"column {values.name!r}: codes must be integers, found "
                        f"{numeric[numeric != np.floor(numeric)].dropna().unique()[:5].tolist()}")
    return numeric.fillna(-1).astype("int64")


def sample_rows(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """At most ``max_rows`` rows (seeded), so report time stays bounded on big years."""
    if max_rows and len(frame) > max_rows:
        return frame.sample(n=max_rows, random_state=seed).reset_index(drop=True)
    return frame


@dataclass
class ColumnDrift:
    """Evidently's verdict for one column."""

    column: str
    kind: str
    method: str
    threshold: float
    score: float
    drifted: bool

    def as_dict(self) -> dict[str, Any]:
        return {"column": self.column, "kind": self.kind, "method": self.method,
                "threshold": self.threshold, "score": round(float(self.score), 6),
                "drifted": self.drifted}


@dataclass
class DriftResult:
    """What the drift report found, plus the snapshot for the HTML."""

    columns: list[ColumnDrift]
    drift_share: float
    n_reference: int
    n_current: int
    ignored_columns: list[str]
    prediction_drift: ColumnDrift | None = None
    #: Columns not compared because a side has too few recorded values: {column: why}.
    skipped_columns: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    snapshot: Any = None  # evidently Snapshot (not serialised)

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    @property
    def n_monitored(self) -> int:
        return len(self.columns)

    def table(self) -> pd.DataFrame:
        """One row per monitored column, most drifted first."""
        frame = pd.DataFrame([c.as_dict() for c in self.columns])
        return frame.sort_values(["drifted", "score"], ascending=False).reset_index(drop=True)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able figures (metadata, CLI output)."""
        return {
            "drift_share": round(self.drift_share, 6),
            "n_drifted": len(self.drifted_columns),
            "n_monitored": self.n_monitored,
            "drifted_columns": self.drifted_columns,
            "ignored_columns": self.ignored_columns,
            "skipped_columns": self.skipped_columns,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "scores": {c.column: round(float(c.score), 6) for c in self.columns},
            "methods": sorted({f"{c.kind}:{c.method}" for c in self.columns}),
            "prediction_drift": self.prediction_drift.as_dict() if self.prediction_drift else None,
            "summary": self.summary,
        }


def monitored_columns(features: Iterable[str], settings: MonitoringSettings) -> list[str]:
    """Model inputs whose drift counts (all but the period columns the config ignores)."""
    return [c for c in features if c not in settings.ignore_columns]


def run_drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    settings: MonitoringSettings,
    features: Sequence[str] = MODEL_INPUT_COLUMNS,
    source: str = "current batch",
) -> DriftResult:
    """Evidently data drift + data summary of ``current`` against ``reference``.

    Both frames must hold ``features`` (checked, naming what is missing or extra).
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset, DataSummaryPreset

    check_batch_columns(reference, features, "reference (production training features)")
    check_batch_columns(current, features, source)
    unknown = [c for c in settings.ignore_columns if c not in features]
    if unknown:
        raise ConfigError(f"monitoring.ignore_columns names {', '.join(unknown)}, which "
                          f"{'is' if len(unknown) == 1 else 'are'} not model input column(s)")
    columns = monitored_columns(features, settings)
    if not columns:
        raise DataError("no column left to monitor: monitoring.ignore_columns lists every feature")
    ref = sample_rows(prepare_for_drift(reference, columns), settings.max_rows, settings.seed)
    cur = sample_rows(prepare_for_drift(current, columns), settings.max_rows, settings.seed)
    skipped = too_few_values(ref, cur, columns)
    columns = [c for c in columns if c not in skipped]
    if not columns:
        raise DataError(f"{source}: no column has {MIN_DRIFT_VALUES} recorded values on both sides "
                        f"({len(current)} current rows): nothing to compare")

    cat = [c for c in columns if column_kind(c) == "cat"]
    num = [c for c in columns if column_kind(c) == "num"]
    definition = DataDefinition(
        categorical_columns=cat,
        numerical_columns=num,
    )
    metrics: list[Any] = [
        DataDriftPreset(
            columns=columns,
            drift_share=settings.dataset_drift_share,
            cat_method=settings.method_for("cat"),
            num_method=settings.method_for("num"),
            cat_threshold=settings.threshold_for("cat"),
            num_threshold=settings.threshold_for("num"),
        ),
        DataSummaryPreset(columns=columns),
    ]
    report = Report(metrics, include_tests=True)
    snapshot = report.run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(ref, data_definition=definition),
    )
    result = extract_drift(snapshot.dict(), columns)
    return DriftResult(
        columns=result.columns,
        drift_share=result.drift_share,
        n_reference=len(ref),
        n_current=len(cur),
        ignored_columns=[c for c in features if c not in columns and c not in skipped],
        summary=summarise(ref, cur, columns),
        snapshot=snapshot,
        skipped_columns=skipped,
    )


def too_few_values(reference: pd.DataFrame, current: pd.DataFrame,
                   columns: Sequence[str]) -> dict[str, str]:
    """``{column: why}`` for columns with fewer than MIN_DRIFT_VALUES recorded values on a side."""
    skipped: dict[str, str] = {}
    for name in columns:
        counts = {side: int(frame[name].notna().sum()) for side, frame in
                  (("current batch", current), ("reference", reference))}
        short = [f"{n} recorded value{'s' if n != 1 else ''} in the {side}"
                 for side, n in counts.items() if n < MIN_DRIFT_VALUES]
        if short:
            skipped[name] = f"{' and '.join(short)} (a drift test needs {MIN_DRIFT_VALUES})"
    return skipped


def extract_drift(snapshot_dict: dict[str, Any], columns: Sequence[str]) -> DriftResult:
    """Per-column drift verdicts and the drifted share from ``Snapshot.dict()``.

    The score, method and threshold come from each ``ValueDrift`` metric; the verdict
    from its test (FAIL = drifted), i.e. Evidently's own decision, so p-value tests
    (drift when below) and distances (drift when above) are both read right.
    """
    scores: dict[str, tuple[float, str, float]] = {}
    for metric in snapshot_dict.get("metrics", []):
        config = metric.get("config", {})
        if config.get("type") == "evidently:metric_v2:ValueDrift":
            scores[config["column"]] = (
                float(metric["value"]), str(config.get("method")), float(config.get("threshold")),
            )
    verdicts: dict[str, bool] = {}
    for test in snapshot_dict.get("tests", []):
        params = test.get("metric_config", {}).get("params", {})
        if params.get("type") == "evidently:metric_v2:ValueDrift":
            verdicts[params["column"]] = test.get("status") == "FAIL"
    missing = [c for c in columns if c not in scores or c not in verdicts]
    if missing:
        raise RuntimeError(f"Evidently snapshot has no drift result for column(s) {missing}")
    drift = [
        ColumnDrift(column=c, kind="num" if c == PREDICTION else column_kind(c),
                    method=scores[c][1], threshold=scores[c][2], score=scores[c][0],
                    drifted=verdicts[c])
        for c in columns
    ]
    share = sum(d.drifted for d in drift) / len(drift)
    return DriftResult(columns=drift, drift_share=share, n_reference=0, n_current=0,
                       ignored_columns=[])


def summarise(reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[str]) -> dict[str, Any]:
    """A few data-summary figures per side (rows, missing share) for metadata."""
    def side(frame: pd.DataFrame) -> dict[str, Any]:
        values = frame[list(columns)]
        missing = values.isna() | values.isin(["-1"])
        return {"rows": int(len(frame)),
                "missing_share": round(float(np.asarray(missing).mean()), 6)}
    return {"reference": side(reference), "current": side(current)}


def report_html(snapshot: Any) -> str:
    """The standalone Evidently HTML (opens offline in a browser and in the dashboard)."""
    return str(snapshot.get_html_str(as_iframe=False))
