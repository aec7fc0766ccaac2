"""The service's lean scoring path: validated numpy columns -> P(severe), no DataFrame.

Why: per request, the saved ``Pipeline`` builds a DataFrame, runs sklearn's input checks,
builds another DataFrame in the deriver and converts it again for the classifier; for one
row that costs ~6 ms where the trees take well under one. ``Scorer`` is built from the
saved pipeline at load time (the pipeline stays the one saved artifact) and reuses its
parts: ``learning.model.derive_matrix`` (the one definition of the derived features)
straight on the validated columns, then the fitted classifier's own trees:

- XGBoost: ``Booster.inplace_predict`` on the float matrix (what ``XGBClassifier`` calls
  after its conversions), one thread;
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
from accidents.serving.fields import FIELD_SPECS

#: ``derive_matrix``'s numeric sources, read from the validated columns.
_SOURCES = ("an", "mois", "jour", "an_nais")


class Scorer:
    """P(severe) for validated model-input columns, with the saved pipeline's fitted parts."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        steps = getattr(pipeline, "named_steps", {})
        derive, classifier = steps.get("derive"), steps.get("classifier")
        self.kind = "pipeline"
        self.booster: Any = None
        self.trees: list[Any] = []
        if derive is None or classifier is None:
            return
        self.kept = derive.kept_raw()
        self.feature_names = [str(n) for n in derive.get_feature_names_out()]
        name = type(classifier).__name__
        if name == "XGBClassifier":
            self.kind = "xgboost"
            self.booster = classifier.get_booster()
            # One thread per call: two workers on two cores; extra threads only contend.
            self.booster.set_param({"nthread": 1})
            self.iteration_range = tuple(classifier._get_iteration_range(None))
            self.missing = classifier.missing
        elif name == "RandomForestClassifier":
            self.kind = "random_forest"
            self.trees = list(classifier.estimators_)
            self.positive = list(classifier.classes_).index(1)

    def features(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """The classifier's input matrix (``DERIVED`` + kept raw fields) from validated columns."""
        sources = {name: np.asarray(columns[name], dtype=np.float64) for name in _SOURCES}
        kept = [np.asarray(columns[name], dtype=np.float64) for name in self.kept]
        return derive_matrix(hours_of(columns["hrmn"]), sources, kept)

    def proba(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """P(severe) per row of the validated ``columns`` (one numpy array per model input)."""
        if self.kind == "xgboost":
            return self.booster.inplace_predict(self.features(columns), iteration_range=self.iteration_range,
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
