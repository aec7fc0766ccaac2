"""Unit tests of the training domain code: config, model, split, evaluation, promotion (no ZenML)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from accidents.config import load_config
from accidents.errors import ConfigError, DataError
from accidents.learning import evaluation as ev
from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.learning.model import (
    _colon_hours,
    _hour_of,
    build_model,
    fit_model,
    hours_of,
    parse_hour,
    predict_proba,
    weekday,
)
from accidents.learning.promotion import (
    STAGE_NONE,
    STAGE_PRODUCTION,
    STAGE_STAGING,
    check_gates,
    decide,
)
from accidents.learning.split import grouped_stratified_split, split_assignment, temporal_split
from tests.training_frames import fabricated_users


@pytest.fixture(scope="module")
def users() -> pd.DataFrame:
    return fabricated_users(1500, seed=1)


# ------------------------------------------------------------------ config


def test_profiles_load_and_extend() -> None:
    local, rf, mlflow = load_config("local"), load_config("rf"), load_config("mlflow")
    assert local.model.kind == "xgboost" and rf.model.kind == "random_forest"
    assert "learning_rate" not in rf.model.params  # params replaced, not merged, by extends
    assert rf.data == local.data and rf.gates == local.gates
    assert mlflow.stack.kind == "mlflow" and mlflow.model == local.model
    assert load_config("minio").stack.kind == "minio"


def test_env_interpolation_types_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCIDENTS_N_ACCIDENTS", "321")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert load_config("local").data.n_accidents == 321
    assert load_config("mlflow").stack.mlflow_tracking_uri == "sqlite:///outputs/mlflow/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    assert load_config("mlflow").stack.mlflow_tracking_uri == "http://127.0.0.1:5999"


def test_unset_variable_without_default_is_named(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("NOPE_VAR", raising=False)
    path = tmp_path / "p.yaml"
    path.write_text("data:\n  dir: ${NOPE_VAR}\n")
    with pytest.raises(ConfigError, match="NOPE_VAR"):
        load_config(path)


@pytest.mark.parametrize(("text", "message"), [
    ("modle:\n  kind: xgboost\n", "unknown key 'modle'"),
    ("model:\n  knd: xgboost\n", "unknown key 'model.knd'"),
    ("model:\n  kind: lightgbm\n", "model.kind must be one of"),
    ("data:\n  years: [2022, twenty]\n", r"data.years\[1\] must be an integer"),
    ("split:\n  train: 0.7\n", "must be 1"),
    ("gates:\n  auc: 0.7\n", "gates.auc must be one of"),
    ("split:\n  method: temporal\ndata:\n  years: [2023]\n", "at least two data.years"),
])
def test_bad_profile_names_the_key(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert "bad.yaml" in str(info.value)


def test_unknown_profile_lists_available() -> None:
    with pytest.raises(ConfigError, match="unknown profile 'nope'.*local"):
        load_config("nope")


def test_overrides_are_validated() -> None:
    assert load_config("local", {"model.kind": "random_forest"}).model.kind == "random_forest"
    assert load_config("local", {"data": {"n_accidents": 99}}).data.years == load_config("local").data.years
    with pytest.raises(ConfigError, match="unknown key 'data.n_acc'"):
        load_config("local", {"data.n_acc": 5})


# ------------------------------------------------------------------ model


def test_derived_fields() -> None:
    hours = parse_hour(pd.Series(["08:15", "23:59", "1730", "5", "", "25:00", None]))
    assert hours.tolist()[:4] == [8.0, 23.0, 17.0, 0.0] and hours.iloc[4:].isna().all()
    days = weekday(pd.Series([2023, 2023, 2023]), pd.Series([1, 2, -1]), pd.Series([2, 30, 1]))
    assert days.iloc[0] == 0.0 and days.iloc[1:].isna().all()  # 2 Jan 2023 was a Monday


def test_vectorised_hours_equal_the_per_value_reading() -> None:
    """hours_of takes a numpy path for "H:MM"/"HH:MM" texts: same hours as _hour_of, on every
    such text (hours 0-99, minutes 00-99), and every other shape left to _hour_of."""
    colon = [f"{h}:{m:02d}" for h in range(10) for m in range(100)]
    colon += [f"{h:02d}:{m:02d}" for h in range(100) for m in range(100)]
    assert _colon_hours(colon) is not None  # the fast path is really taken
    assert np.array_equal(hours_of(np.array(colon, dtype=object)),
                          np.array([_hour_of(v) for v in colon]), equal_nan=True)
    odd = ["8:30\x00", "08:30 ", " 8:30", "830", "8:3", "123:45", "12:345", "1:234", "\u0663:30", "8.30"]
    for value in [*odd, None, np.nan]:
        mixed = np.array(["08:15", value], dtype=object)
        assert _colon_hours(mixed) is None, value
        assert np.array_equal(hours_of(mixed), [8.0, _hour_of(value)], equal_nan=True), value


def test_model_learns_planted_signal_and_serves_raw_strings(users: pd.DataFrame) -> None:
    labels = grouped_stratified_split(users, seed=3)
    train, test = users[labels == "train"], users[labels == "test"]
    for kind in ("xgboost", "random_forest"):
        model = fit_model(build_model(kind, {"n_estimators": 60}), train, train["severe"])
        auc = roc_auc_score(test["severe"], predict_proba(model, test))
        shuffled = fit_model(build_model(kind, {"n_estimators": 60}), train,
                             train["severe"].sample(frac=1, random_state=0).to_numpy())
        auc_shuffled = roc_auc_score(test["severe"], predict_proba(shuffled, test))
        assert auc > 0.62 and auc > auc_shuffled + 0.1, (kind, auc, auc_shuffled)
        # The service passes JSON values: strings for codes must give the same probabilities.
        as_text = test[list(MODEL_INPUT_COLUMNS)].head(20).astype(str).replace("nan", "")
        np.testing.assert_allclose(predict_proba(model, as_text), predict_proba(model, test.head(20)), rtol=1e-6)


def test_model_input_errors() -> None:
    with pytest.raises(ConfigError, match="model.kind"):
        build_model("svm", {})
    with pytest.raises(ConfigError, match="model.params"):
        build_model("random_forest", {"n_trees": 3})
    model = build_model("random_forest", {"n_estimators": 5})
    frame = fabricated_users(100)
    with pytest.raises(DataError, match="single class"):
        fit_model(model, frame, np.zeros(len(frame)))
    fit_model(model, frame, frame["severe"])
    with pytest.raises(DataError, match=r"missing column\(s\) \['catv'\]"):
        predict_proba(model, frame.drop(columns="catv"))
    with pytest.raises(DataError, match=r"missing column\(s\) \['hrmn'\]"):
        model.predict_proba(frame[list(MODEL_INPUT_COLUMNS)].drop(columns="hrmn"))


# ------------------------------------------------------------------ split


def test_random_split_grouped_stratified_deterministic(users: pd.DataFrame) -> None:
    labels = grouped_stratified_split(users, seed=7)
    assert (labels == grouped_stratified_split(users, seed=7)).all()
    assert not (labels == grouped_stratified_split(users, seed=8)).all()
    assert users.groupby(labels.values)["Num_Acc"].apply(set).pipe(
        lambda s: not (s["train"] & s["test"]) and not (s["train"] & s["validation"]) and not (s["validation"] & s["test"]))
    shares = labels.value_counts(normalize=True)
    assert abs(shares["train"] - 0.6) < 0.02 and abs(shares["test"] - 0.2) < 0.02
    severe = users.groupby(labels.values)["severe"].mean()
    assert severe.max() - severe.min() < 0.03, severe


def test_temporal_split_tests_on_newest_year(users: pd.DataFrame) -> None:
    labels = temporal_split(users)
    assert (labels[users["year"] == 2023] == "test").all()
    older = labels[users["year"] == 2022]
    assert set(older) == {"train", "validation"} and abs((older == "validation").mean() - 0.25) < 0.03
    with pytest.raises(DataError, match="at least two years"):
        temporal_split(users[users["year"] == 2023])


def test_split_assignment_is_a_table(users: pd.DataFrame) -> None:
    table = split_assignment(users)
    assert list(table.columns) == ["Num_Acc", "year", "id_vehicule", "num_veh", "split"]
    assert len(table) == len(users)


# ------------------------------------------------------------------ evaluation


def test_threshold_maximises_validation_f1_and_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    p = np.clip(0.3 * y + rng.random(2000) * 0.7, 0, 1)
    t = ev.choose_threshold(y, p)
    best = max(f1_score(y, p >= c) for c in np.unique(p)[::20])
    assert f1_score(y, p >= t) >= best - 1e-9
    m = ev.compute_metrics(y, p, t)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert m["f1_severe"] == pytest.approx(f1_score(y, p >= t))
    assert m["brier"] == pytest.approx(np.mean((p - y) ** 2))
    with pytest.raises(DataError, match="0/1"):
        ev.compute_metrics([0, 2], [0.1, 0.2], 0.5)


def test_plots_are_png_and_table_has_values() -> None:
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 2, 300), rng.random(300)
    for fig in (ev.roc_pr_figure(y, p), ev.confusion_figure(y, p, 0.5), ev.calibration_figure(y, p),
                ev.importance_figure(pd.Series([0.5, 0.2], index=["a", "b"]))):
        assert ev.figure_png(fig)[:8] == b"\x89PNG\r\n\x1a\n"
    table = ev.metrics_table({"test": ev.compute_metrics(y, p, 0.5)})
    assert "roc_auc" in table and f"{roc_auc_score(y, p):.4f}" in table


# ------------------------------------------------------------------ promotion


def test_gates() -> None:
    assert check_gates({"roc_auc": 0.8, "brier": 0.1}, {"roc_auc": 0.7, "brier": 0.2}) == []
    assert check_gates({"roc_auc": 0.6, "brier": 0.3}, {"roc_auc": 0.7, "brier": 0.2}) == [
        "roc_auc 0.6000 < 0.7000", "brier 0.3000 > 0.2000"]


def test_decisions() -> None:
    good, gates = {"roc_auc": 0.80, "pr_auc": 0.5}, {"roc_auc": 0.7}
    assert decide({"roc_auc": 0.6}, gates).stage == STAGE_NONE
    assert decide({"roc_auc": 0.6}, gates, good, "1").reason.startswith("fails quality gate")
    assert decide(good, gates).stage == STAGE_PRODUCTION
    worse = decide({"roc_auc": 0.78, "pr_auc": 0.5}, gates, good, "3", margin=0.0)
    assert worse.stage == STAGE_STAGING and "does not beat production version 3" in worse.reason
    equal = decide(good, gates, good, "3", margin=0.0)
    assert equal.stage == STAGE_STAGING  # a tie never replaces production
    small = decide({"roc_auc": 0.805, "pr_auc": 0.5}, gates, good, "3", margin=0.01)
    assert small.stage == STAGE_STAGING and "0.0100" in small.reason
    better = decide({"roc_auc": 0.85, "pr_auc": 0.5}, gates, good, "3", margin=0.01)
    assert better.stage == STAGE_PRODUCTION and better.production_score == 0.80
    guarded = decide({"roc_auc": 0.85, "pr_auc": 0.4}, gates, good, "3", margin=0.01,
                     guard_metrics=["pr_auc"], guard_tolerance=0.02)
    assert guarded.stage == STAGE_STAGING and "guard metric" in guarded.reason
