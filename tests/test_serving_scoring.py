"""The lean scoring path equals the saved Pipeline's ``predict_proba`` (|Δ| <= 1e-6).

Checked for both model kinds on every frame the tests have: the fabricated training frame,
the synthetic BAAC user table and the real BAAC samples (skipped with the reason when the
shared data is absent), both on raw columns and through the service's columnar validation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from accidents.data.loader import BaacTables
from accidents.learning.features import MODEL_INPUT_COLUMNS, build_user_table
from accidents.learning.model import build_model, fit_model
from accidents.serving.schema import RoadUserColumns, frame_to_columns
from accidents.serving.scoring import THREADS_ENV, WIDE_ROWS, Scorer, scorer_threads
from tests.training_frames import fabricated_users

TOLERANCE = 1e-6
SMALL = {"xgboost": {"n_estimators": 60, "max_depth": 5}, "random_forest": {"n_estimators": 40}}


@pytest.fixture(scope="module", params=["xgboost", "random_forest"])
def trained(request: pytest.FixtureRequest) -> tuple[str, object]:
    users = fabricated_users(n_accidents=500, seed=4)
    return request.param, fit_model(build_model(request.param, SMALL[request.param]), users, users["severe"])


def _columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {name: frame[name].to_numpy() for name in MODEL_INPUT_COLUMNS}


def _assert_equal(model: object, frame: pd.DataFrame) -> Scorer:
    scorer = Scorer(model)
    expected = model.predict_proba(frame[list(MODEL_INPUT_COLUMNS)])[:, 1]
    got = scorer.proba(_columns(frame))
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) <= TOLERANCE
    return scorer


def test_fast_path_is_the_classifiers_own_and_equal_on_the_training_frame(trained: tuple[str, object]) -> None:
    kind, model = trained
    scorer = _assert_equal(model, fabricated_users(n_accidents=300, seed=9))
    assert scorer.kind == kind  # not the pipeline fallback


def test_fast_path_equals_pipeline_on_the_synthetic_user_table(trained: tuple[str, object],
                                                               synthetic_user_table: pd.DataFrame) -> None:
    _assert_equal(trained[1], synthetic_user_table)


@pytest.mark.real_data
def test_fast_path_equals_pipeline_on_the_real_samples(trained: tuple[str, object],
                                                       all_sample_tables: BaacTables) -> None:
    users, _ = build_user_table(all_sample_tables)
    assert len(users) > 100
    _assert_equal(trained[1], users)


def test_fast_path_through_columnar_validation(trained: tuple[str, object],
                                              synthetic_user_table: pd.DataFrame) -> None:
    """What the service does: JSON lists -> validated arrays -> scorer, against the pipeline."""
    frame = synthetic_user_table.head(500)
    batch = RoadUserColumns.model_validate(frame_to_columns(frame))
    expected = trained[1].predict_proba(frame[list(MODEL_INPUT_COLUMNS)])[:, 1]
    assert np.max(np.abs(Scorer(trained[1]).proba(batch.arrays()) - expected)) <= TOLERANCE


@pytest.mark.parametrize("rows", [1, WIDE_ROWS - 1, WIDE_ROWS, 3 * WIDE_ROWS])
def test_small_calls_and_large_multithreaded_calls_agree(trained: tuple[str, object],
                                                         synthetic_user_table: pd.DataFrame, rows: int) -> None:
    """One XGBoost thread below WIDE_ROWS rows, ``scorer_threads()`` from there: same answers."""
    assert len(synthetic_user_table) >= rows
    _assert_equal(trained[1], synthetic_user_table.head(rows))


def test_scorer_threads_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert scorer_threads() == 2
    monkeypatch.setenv(THREADS_ENV, "4")
    assert scorer_threads() == 4
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(THREADS_ENV, bad)
        with pytest.raises(ValueError, match=rf"\$ACCIDENTS_SCORER_THREADS must be .*{bad}"):
            scorer_threads()


def test_unknown_classifier_falls_back_to_the_pipeline() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    from accidents.learning.model import BaacFeatureDeriver

    users = fabricated_users(n_accidents=200, seed=1)
    model = Pipeline([("derive", BaacFeatureDeriver()),
                      ("classifier", HistGradientBoostingClassifier(max_iter=20))])
    model.fit(users[list(MODEL_INPUT_COLUMNS)], users["severe"])
    scorer = _assert_equal(model, users)
    assert scorer.kind == "pipeline"
