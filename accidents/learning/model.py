"""The served model: one scikit-learn ``Pipeline`` from raw BAAC-coded fields to P(severe).

Why a single object: training and serving call the same ``predict_proba`` on the same raw
columns (``MODEL_INPUT_COLUMNS``), so the service holds no hand-written feature code and
there is no training/serving skew. The first step, ``BaacFeatureDeriver``, turns the raw
fields into model features (hour from ``hrmn``, weekday from the date, age from
``an_nais``), coerces everything to numbers and keeps "not recorded" as -1 / NaN, which
both tree learners handle natively.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.class_weight import compute_sample_weight

from accidents.config import MODEL_KINDS
from accidents.errors import ConfigError, DataError
from accidents.learning.features import MODEL_INPUT_COLUMNS

#: Raw fields replaced by derived ones (``an`` would let the model learn the year, which
#: says nothing about one accident and breaks on a newer year; ``jour`` only feeds weekday).
DROPPED_RAW = ("hrmn", "an", "jour", "an_nais")
DERIVED = ("hour", "weekday", "age")
#: The raw field a user typed that each derived feature stands for (explanations report a
#: derived feature's contribution under it): the hour comes from ``hrmn``; the weekday
#: from the date, reported under the day ``jour`` (year and month only place it in the
#: calendar); the age from ``an_nais`` (with the accident year).
DERIVED_FROM: dict[str, str] = {"hour": "hrmn", "weekday": "jour", "age": "an_nais"}

DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "xgboost": {
        "n_estimators": 300,
        "max_depth": 6,
        "learning_rate": 0.08,
        "subsample": 0.9,
        "colsample_bytree": 0.8,
        "min_child_weight": 2.0,
        "tree_method": "hist",
        "n_jobs": 2,
        "random_state": 0,
    },
    "random_forest": {
        "n_estimators": 200,
        "max_depth": None,
        "min_samples_leaf": 5,
        "max_features": "sqrt",
        "n_jobs": 2,
        "random_state": 0,
    },
}
# One list of model kinds (accidents.config.MODEL_KINDS validates profiles): every kind has
# its defaults here, and nothing here is a kind the profile cannot name.
if set(DEFAULT_PARAMS) != set(MODEL_KINDS):  # a programming error, caught by any import
    raise ImportError(f"model kinds {sorted(DEFAULT_PARAMS)} != accidents.config.MODEL_KINDS {MODEL_KINDS}")


def _as_float(values: pd.Series) -> np.ndarray:
    """Column -> float64 array; text that is not a number becomes NaN (never raises)."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _hour_of(text: object) -> float:
    """Hour of one BAAC ``hrmn``: "HH:MM"/"H:MM" (2019+) or "HHMM"/"HMM" digits (before)."""
    if not isinstance(text, str):
        if text is None or (isinstance(text, float) and np.isnan(text)):
            return np.nan
        text = str(text)
    text = text.strip()
    hours, colon, minutes = text.partition(":")
    if colon:
        if not (1 <= len(hours) <= 2 and len(minutes) == 2 and hours.isdigit() and minutes.isdigit()):
            return np.nan
        hour = int(hours)
    elif 1 <= len(text) <= 4 and text.isdigit():
        hour = int(text) // 100
    else:
        return np.nan
    return float(hour) if 0 <= hour <= 23 else np.nan


def _hours(hrmn: pd.Series) -> np.ndarray:
    return hours_of(hrmn.to_numpy(dtype=object))


def _weekdays(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Day of week (0 = Monday) by calendar arithmetic; NaN for a missing or impossible date.

    Plain numpy instead of ``pd.to_datetime``: this runs on every served request, where a
    fixed cost of milliseconds per call would dominate.
    """
    year = np.where(year < 100, year + 2000, year)  # pre-2019 files write "19" for 2019
    ok = (np.isfinite(year) & np.isfinite(month) & np.isfinite(day)
          & (year >= 1900) & (year <= 2200) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31))
    y = np.where(ok, year, 1970).astype(np.int64)
    m = np.where(ok, month, 1).astype(np.int64)
    d = np.where(ok, day, 1).astype(np.int64)
    month_start = (y - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (m - 1)
    dates = month_start.astype("datetime64[D]") + (d - 1)
    ok &= dates.astype("datetime64[M]") == month_start  # day 31 of a 30-day month, 29 Feb...
    days = dates.astype(np.int64)
    return np.where(ok, (days + 3) % 7, np.nan)  # 1970-01-01 was a Thursday (3)


def parse_hour(hrmn: pd.Series) -> pd.Series:
    """Hour 0-23 from BAAC ``hrmn`` ("HH:MM" since 2019, "HHMM"/"HMM" before); NaN if unparsable."""
    return pd.Series(_hours(hrmn), index=hrmn.index, dtype="float64")


def weekday(an: pd.Series, mois: pd.Series, jour: pd.Series) -> pd.Series:
    """Day of week (0 = Monday); NaN when the date is missing or impossible."""
    return pd.Series(_weekdays(_as_float(an), _as_float(mois), _as_float(jour)), index=an.index,
                     dtype="float64")


#: The numeric raw fields the derived features are computed from.
_NUMERIC_SOURCES = ("an", "mois", "jour", "an_nais")


#: Code points of "0" and ":" in a fixed-width unicode array.
_ZERO, _COLON = ord("0"), ord(":")


def _colon_hours(values: Any) -> np.ndarray | None:
    """``_hour_of`` of every value, vectorised, if all are "H:MM"/"HH:MM" texts of ASCII
    digits (what the service validates, and the 2019+ files write); else None.

    Why: ``_hour_of`` per value costs ~0.28 ms per 1,000 rows on every served batch, this
    ~0.03 ms. Anything else (digits without a colon, spaces, None, NaN, other digits) is
    left to ``_hour_of``: this only takes the shapes whose hour it computes the same way.
    """
    try:
        joined = "".join(values)  # every value a str (else TypeError)
    except TypeError:
        return None
    if "\x00" in joined:  # numpy drops trailing NULs, _hour_of keeps them
        return None
    text = np.array(values, dtype="U6")  # 6 wide: a 6th character means "too long"
    if text.ndim != 1:
        return None
    chars = text.view(np.uint32).reshape(len(text), 6).astype(np.int64) - _ZERO
    digit = (chars >= 0) & (chars <= 9)
    short = (chars[:, 1] == _COLON - _ZERO) & digit[:, 0] & digit[:, 2] & digit[:, 3] & (chars[:, 4] == -_ZERO)
    long = (chars[:, 2] == _COLON - _ZERO) & digit[:, 0] & digit[:, 1] & digit[:, 3] & digit[:, 4] \
        & (chars[:, 5] == -_ZERO)
    if not (short | long).all():
        return None
    hour = np.where(short, chars[:, 0], chars[:, 0] * 10 + chars[:, 1])
    return np.where(hour <= 23, hour, np.nan).astype(np.float64)


def hours_of(values: Any) -> np.ndarray:
    """Hour of each ``hrmn`` text in a sequence or object array (NaN when unparsable)."""
    hours = _colon_hours(values)
    if hours is not None:
        return hours
    return np.fromiter(map(_hour_of, values), dtype=np.float64, count=len(values))


def derive_matrix(hours: np.ndarray, sources: Mapping[str, np.ndarray],
                  kept: Sequence[np.ndarray]) -> np.ndarray:
    """The model's feature matrix: ``DERIVED`` (hour, weekday, age) then the kept raw columns.

    The single definition of the derived features: the pipeline's transformer calls it on
    a DataFrame's columns and the service's lean scorer on validated numpy columns, so
    both give the classifier the same numbers. ``sources`` holds float arrays of
    ``an``, ``mois``, ``jour`` and ``an_nais``.
    """
    out = np.empty((len(hours), len(DERIVED) + len(kept)), dtype=np.float64)
    year = sources["an"]
    out[:, 0] = hours
    out[:, 1] = _weekdays(year, sources["mois"], sources["jour"])
    age = year - sources["an_nais"]
    out[:, 2] = np.where((age >= 0) & (age <= 110), age, np.nan)
    for offset, values in enumerate(kept, start=len(DERIVED)):
        out[:, offset] = values
    return out


class BaacFeatureDeriver(BaseEstimator, TransformerMixin):
    """Raw BAAC fields -> numeric model features (hour, weekday, age + the codes as numbers).

    Stateless on purpose: what it does to a row does not depend on the training data, so a
    single prediction in the service gives exactly what the same row gave in training. Built
    column by column into one float array: the service calls it per request batch.
    """

    def __init__(self, input_columns: Sequence[str] = MODEL_INPUT_COLUMNS) -> None:
        self.input_columns = input_columns

    def fit(self, X: pd.DataFrame, y: Any = None) -> BaacFeatureDeriver:
        self._check_columns(X)
        self.feature_names_out_ = np.array(self._output_columns(), dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        self._check_columns(X)
        out = derive_matrix(_hours(X["hrmn"]), {c: _as_float(X[c]) for c in _NUMERIC_SOURCES},
                            [_as_float(X[c]) for c in self._kept_raw()])
        return pd.DataFrame(out, columns=self._output_columns(), index=X.index)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(self._output_columns(), dtype=object)

    def kept_raw(self) -> list[str]:
        """The raw inputs passed on as they are (after ``DERIVED``), in output order."""
        return self._kept_raw()

    def _kept_raw(self) -> list[str]:
        return [c for c in self.input_columns if c not in DROPPED_RAW]

    def _output_columns(self) -> list[str]:
        return list(DERIVED) + self._kept_raw()

    def _check_columns(self, X: Any) -> None:
        if not isinstance(X, pd.DataFrame):
            raise DataError(f"the model takes a pandas DataFrame with columns {list(self.input_columns)}, "
                            f"got {type(X).__name__}")
        missing = [c for c in self.input_columns if c not in X.columns]
        if missing:
            raise DataError(f"model input is missing column(s) {missing}")


def build_model(kind: str, params: Mapping[str, Any] | None = None) -> Pipeline:
    """An unfitted ``Pipeline(derive -> classifier)``; ``params`` override DEFAULT_PARAMS."""
    if kind not in MODEL_KINDS:
        raise ConfigError(f"model.kind must be one of {', '.join(MODEL_KINDS)}, got {kind!r}")
    merged = {**DEFAULT_PARAMS[kind], **dict(params or {})}
    try:
        if kind == "xgboost":
            from xgboost import XGBClassifier

            classifier: Any = XGBClassifier(objective="binary:logistic", eval_metric="logloss", **merged)
        else:
            classifier = RandomForestClassifier(**merged)
    except TypeError as exc:
        raise ConfigError(f"model.params: {exc}") from exc
    # Unknown keyword names only surface at fit time for XGBoost; check them now.
    valid = set(classifier.get_params())
    unknown = sorted(set(merged) - valid)
    if unknown and kind == "random_forest":
        raise ConfigError(f"model.params: unknown RandomForest parameter(s) {unknown}")
    return Pipeline([("derive", BaacFeatureDeriver()), ("classifier", classifier)])


def fit_model(model: Pipeline, X: pd.DataFrame, y: pd.Series | np.ndarray,
              class_weight: str = "balanced") -> Pipeline:
    """Fit with explicit class weights (``balanced``: each class weighs the same in total).

    Weights go in as ``sample_weight`` so both learners treat imbalance the same way.
    """
    y_arr = np.asarray(y).astype(int)
    if len(np.unique(y_arr)) < 2:
        raise DataError(f"training data has a single class ({np.unique(y_arr).tolist()}); "
                        "need severe and non-severe users")
    fit_params: dict[str, Any] = {}
    if class_weight == "balanced":
        fit_params["classifier__sample_weight"] = compute_sample_weight("balanced", y_arr)
    model.fit(model_inputs(X), y_arr, **fit_params)
    return model


def model_inputs(X: pd.DataFrame) -> pd.DataFrame:
    """``X`` restricted to MODEL_INPUT_COLUMNS in order; DataError naming missing columns."""
    missing = [c for c in MODEL_INPUT_COLUMNS if c not in X.columns]
    if missing:
        raise DataError(f"model input is missing column(s) {missing}")
    return X[list(MODEL_INPUT_COLUMNS)]


def predict_proba(model: Pipeline, X: pd.DataFrame) -> np.ndarray:
    """P(severe) for each row of ``X`` (only MODEL_INPUT_COLUMNS are read)."""
    return model.predict_proba(model_inputs(X))[:, 1]


def feature_importances(model: Pipeline) -> pd.Series:
    """Importance per derived feature, largest first (the classifier's own measure)."""
    names = model.named_steps["derive"].get_feature_names_out()
    values = model.named_steps["classifier"].feature_importances_
    return pd.Series(values, index=names, dtype="float64").sort_values(ascending=False)


def model_kind(model: Pipeline) -> str:
    """``xgboost`` or ``random_forest`` (for reports)."""
    return "random_forest" if isinstance(model.named_steps["classifier"], RandomForestClassifier) else "xgboost"
