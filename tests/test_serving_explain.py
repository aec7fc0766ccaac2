"""Explanations add up: base + per-field contributions = the model's margin (XGBoost, TreeSHAP)
or probability (RandomForest, decision paths), within 1e-4, on synthetic and real rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from accidents.data.loader import BaacTables
from accidents.learning.features import MODEL_INPUT_COLUMNS, build_user_table
from accidents.learning.model import build_model, fit_model
from accidents.serving.explain import Explainer, field_labels
from accidents.serving.scoring import Scorer
from tests.training_frames import fabricated_users

SMALL = {"xgboost": {"n_estimators": 60, "max_depth": 5}, "random_forest": {"n_estimators": 30}}


@pytest.fixture(scope="module", params=["xgboost", "random_forest"])
def explainer(request: pytest.FixtureRequest) -> Explainer:
    users = fabricated_users(n_accidents=500, seed=4)
    return Explainer(Scorer(fit_model(build_model(request.param, SMALL[request.param]), users, users["severe"])))


def _columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {name: frame[name].to_numpy() for name in MODEL_INPUT_COLUMNS}


def _target(explainer: Explainer, columns: dict[str, np.ndarray]) -> np.ndarray:
    scorer = explainer.scorer
    if scorer.kind == "xgboost":  # the booster's own margin, not one rebuilt from the probability
        return scorer.booster.inplace_predict(scorer.features(columns), predict_type="margin",
                                              iteration_range=scorer.iteration_range, validate_features=False)
    return scorer.proba(columns)


def _assert_sums(explainer: Explainer, frame: pd.DataFrame) -> None:
    columns = _columns(frame)
    base, contrib = explainer.contributions(columns)
    assert contrib.shape == (len(frame), len(MODEL_INPUT_COLUMNS))
    assert np.max(np.abs(base + contrib.sum(axis=1) - _target(explainer, columns))) <= 1e-4
    # the answer's top + rest keep the same sum
    answers = explainer.explain({k: v[:50] for k, v in columns.items()})
    for ans, b, c in zip(answers, base[:50], contrib[:50], strict=True):
        shown = sum(item["contribution"] for item in ans["top"])
        assert abs(ans["base"] + shown + ans["rest"] - (b + c.sum())) <= 1e-9


def test_contributions_sum_to_the_margin(explainer: Explainer, synthetic_user_table: pd.DataFrame) -> None:
    assert explainer.units == ("log-odds" if explainer.scorer.kind == "xgboost" else "probability")
    _assert_sums(explainer, synthetic_user_table)


@pytest.mark.real_data
def test_contributions_sum_to_the_margin_on_real_samples(explainer: Explainer,
                                                         all_sample_tables: BaacTables) -> None:
    _assert_sums(explainer, build_user_table(all_sample_tables)[0])


def test_derived_features_are_reported_under_the_raw_field_typed(explainer: Explainer) -> None:
    """hour -> hrmn, weekday -> jour, age -> an_nais; ``an`` feeds only derived features: never named."""
    users = fabricated_users(n_accidents=300, seed=2)
    _, contrib = explainer.contributions(_columns(users))
    used = dict(zip(MODEL_INPUT_COLUMNS, np.abs(contrib).max(axis=0), strict=True))
    assert used["an"] == 0.0
    assert used["hrmn"] > 0 and used["an_nais"] > 0 and used["jour"] > 0
    labels = field_labels()
    assert labels["an_nais"].endswith("(as age)") and labels["hrmn"].endswith("(hour of day)")
    assert labels["jour"].endswith("(day of week)")


def test_unknown_classifier_has_no_explanation() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    from accidents.learning.model import BaacFeatureDeriver

    users = fabricated_users(n_accidents=100, seed=1)
    model = Pipeline([("derive", BaacFeatureDeriver()), ("classifier", HistGradientBoostingClassifier(max_iter=5))])
    model.fit(users[list(MODEL_INPUT_COLUMNS)], users["severe"])
    assert Explainer(Scorer(model)).explain(_columns(users.head(3))) is None
