"""The service's lean scoring path: validated numpy columns -> P(severe), no DataFrame.

Why: per request, the saved ``Pipeline`` builds a DataFrame, runs sklearn's input checks,
builds another DataFrame in the deriver and converts it again for the classifier; for one
row that costs ~6 ms where the trees take well under one. ``Scorer`` is built from the
saved pipeline at load time (the pipeline stays the one saved artifact) and reuses its
parts: ``learning.model.derive_matrix`` (the one definition of the derived features)
straight on the validated columns, then the fitted classifier's own trees:

- XGBoost: ``Booster.inplace_predict`` on the float matrix (what ``XGBClassifier`` calls
  after its conversions): one thread for small calls (single rows, coalesced requests),
  ``$ACCIDENTS_SCORER_THREADS`` (2) from ``WIDE_ROWS`` rows on. Why: at 2 concurrent
  1,000-row requests on 2 cores, the cores were ~1.65 busy (each worker also parses,
  validates and answers); two threads fill the gaps: 158-180k -> 184-209k rows/s in three
  paired runs (docs/serving.md, "Where the time goes");
- RandomForest: each fitted tree's ``predict_proba`` summed in the forest's order, as
  ``RandomForestClassifier.predict_proba`` does after its input checks;
- anything else: the pipeline itself on a DataFrame (correct, not lean).

tests/test_serving_scoring.py proves |fast - pipeline| <= 1e-6 on test frames and on the
real BAAC samples, for both model kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from accidents.learning.model import derive_matrix, hours_of
from accidents.serving.env_settings import whole_number_setting
from accidents.serving.fields import FIELD_SPECS

#: ``derive_matrix``'s numeric sources, read from the validated columns.
_SOURCES = ("an", "mois", "jour", "an_nais")
#: Rows from which an XGBoost call uses ``scorer_threads()`` threads (below: one).
WIDE_ROWS = 256
THREADS_ENV = "ACCIDENTS_SCORER_THREADS"


def scorer_threads() -> int:
    """XGBoost threads for a large call: ``$ACCIDENTS_SCORER_THREADS``, else 2."""
    return whole_number_setting(THREADS_ENV, 2, 1, "threads")


class Scorer:
    """P(severe) for validated model-input columns, with the saved pipeline's fitted parts."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        steps = getattr(pipeline, "named_steps", {})
        derive, classifier = steps.get("derive"), steps.get("classifier")
        self.kind = "pipeline"
        self.booster: Any = None
        self.wide_booster: Any = None
        self.trees: list[Any] = []
        if derive is None or classifier is None:
            return
        self.kept = derive.kept_raw()
        self.feature_names = [str(n) for n in derive.get_feature_names_out()]
        name = type(classifier).__name__
        if name == "XGBClassifier":
            self.kind = "xgboost"
            # Two handles on the same trees: one thread for small calls (a thread hand-over
            # costs more than a few rows), more for large ones (set_param per call would not
            # be safe with the event loop and the batch thread scoring at once).
            self.booster = classifier.get_booster().copy()
            self.booster.set_param({"nthread": 1})
            self.wide_booster = classifier.get_booster().copy()
            self.wide_booster.set_param({"nthread": scorer_threads()})
            self.iteration_range = tuple(classifier._get_iteration_range(None))
            self.missing = classifier.missing
        elif name == "RandomForestClassifier":
            self.kind = "random_forest"
            self.trees = list(classifier.estimators_)
            self.positive = list(classifier.classes_).index(1)

    def features(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """The classifier's input matrix (``DERIVED`` + kept raw fields) from validated columns."""
        sources = {name: np.asarray(columns[name], dtype=np.float64) for name in _SOURCES}
        kept = [columns[name] for name in self.kept]  # cast to float as derive_matrix copies them
        return derive_matrix(hours_of(columns["hrmn"]), sources, kept)

    def proba(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """P(severe) per row of the validated ``columns`` (one numpy array per model input)."""
        if self.kind == "xgboost":
            x = self.features(columns)
            booster = self.wide_booster if len(x) >= WIDE_ROWS else self.booster
            return booster.inplace_predict(x, iteration_range=self.iteration_range,
                                           missing=self.missing, validate_features=False)
        if self.kind == "random_forest":
            x = np.ascontiguousarray(self.features(columns), dtype=np.float32)  # the trees' dtype
            total = np.zeros((len(x), 2), dtype=np.float64)
            for tree in self.trees:
                total += tree.predict_proba(x, check_input=False)
            return total[:, self.positive] / len(self.trees)
        return self.pipeline.predict_proba(columns_frame(columns))[:, 1]


def columns_frame(columns: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Validated columns as the pipeline's input frame (the fallback and the log's slow encoder)."""
    return pd.DataFrame({name: columns[name] for name in FIELD_SPECS}, copy=False)
