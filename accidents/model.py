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

from accidents.errors import ConfigError, DataError
from accidents.features import MODEL_INPUT_COLUMNS

#: Raw fields replaced by derived ones (``an`` would let the model learn the year, which
#: says nothing about one accident and breaks on a newer year; ``jour`` only feeds weekday).
DROPPED_RAW = ("hrmn", "an", "jour", "an_nais")
DERIVED = ("hour", "weekday", "age")

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


def parse_hour(hrmn: pd.Series) -> pd.Series:
    """Hour 0-23 from BAAC ``hrmn`` ("HH:MM" since 2019, "HHMM"/"HMM" before); NaN if unparsable."""
    text = hrmn.astype("string").str.strip()
    with_colon = text.str.extract(r"^(\d{1,2}):\d{2}$")[0]
    digits = text.where(with_colon.isna()).str.extract(r"^(\d{1,4})$")[0]
    from_digits = pd.to_numeric(digits, errors="coerce") // 100
    hour = pd.to_numeric(with_colon, errors="coerce").fillna(from_digits)
    return hour.where((hour >= 0) & (hour <= 23)).astype("float64")


def weekday(an: pd.Series, mois: pd.Series, jour: pd.Series) -> pd.Series:
    """Day of week (0 = Monday); NaN when the date is missing or impossible."""
    year = pd.to_numeric(an, errors="coerce")
    year = year.where(year >= 100, year + 2000)  # pre-2019 files write "19" for 2019
    parts = pd.DataFrame({
        "year": year,
        "month": pd.to_numeric(mois, errors="coerce"),
        "day": pd.to_numeric(jour, errors="coerce"),
    })
    dates = pd.to_datetime(parts, errors="coerce")
    return dates.dt.weekday.astype("float64")


class BaacFeatureDeriver(BaseEstimator, TransformerMixin):
    """Raw BAAC fields -> numeric model features (hour, weekday, age + the codes as numbers).

    Stateless on purpose: what it does to a row does not depend on the training data, so a
    single prediction in the service gives exactly what the same row gave in training.
    """

    def __init__(self, input_columns: Sequence[str] = MODEL_INPUT_COLUMNS) -> None:
        self.input_columns = input_columns

    def fit(self, X: pd.DataFrame, y: Any = None) -> BaacFeatureDeriver:
        self._check_columns(X)
        self.feature_names_out_ = np.array(self._output_columns(), dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        self._check_columns(X)
        out = pd.DataFrame(index=X.index)
        out["hour"] = parse_hour(X["hrmn"])
        out["weekday"] = weekday(X["an"], X["mois"], X["jour"])
        year = pd.to_numeric(X["an"], errors="coerce")
        birth = pd.to_numeric(X["an_nais"], errors="coerce")
        age = year - birth
        out["age"] = age.where((age >= 0) & (age <= 110)).astype("float64")
        for column in self._kept_raw():
            out[column] = pd.to_numeric(X[column], errors="coerce").astype("float64")
        return out[self._output_columns()]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(self._output_columns(), dtype=object)

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
    if kind not in DEFAULT_PARAMS:
        raise ConfigError(f"model.kind must be one of {', '.join(DEFAULT_PARAMS)}, got {kind!r}")
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
