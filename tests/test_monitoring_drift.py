"""Unit tests of the drift report, column checks and the retrain decision (no ZenML)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from accidents.errors import DataError
from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.monitoring.decision import decide_retrain
from accidents.monitoring.drift import (
    PREDICTION,
    check_batch_columns,
    code_labels,
    column_kind,
    extract_drift,
    hour_of,
    report_html,
    run_drift_report,
)
from accidents.monitoring.performance import run_model_report
from accidents.monitoring.settings import MonitoringSettings
from tests.fixtures.monitoring import fabricated_batch

SHIFTED = ("catv", "vma", "secu1")


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return fabricated_batch(3000, seed=1)


@pytest.fixture(scope="module")
def stable_result(reference: pd.DataFrame):
    return run_drift_report(reference, fabricated_batch(3000, seed=2), MonitoringSettings())


@pytest.fixture(scope="module")
def shifted_result(reference: pd.DataFrame):
    current = fabricated_batch(3000, seed=3, shift={c: 0.6 for c in SHIFTED})
    return run_drift_report(reference, current, MonitoringSettings())


def test_column_kinds_follow_the_codebook() -> None:
    assert column_kind("catv") == "cat"
    assert column_kind("lum") == "cat"
    assert column_kind("other_vehicle_class") == "cat"
    assert column_kind("vma") == "num"
    assert column_kind("an_nais") == "num"
    assert column_kind("n_users") == "cat"  # small counts: frequency tables (see module)
    assert column_kind("nbv") == "num"
    assert column_kind("hrmn") == "num"


def test_codes_read_as_floats_get_the_reference_label() -> None:
    labels = code_labels(pd.Series([7.0, -1.0, None, 33]))
    assert labels.tolist() == [7, -1, -1, 33] and labels.dtype == "int64"
    assert code_labels(pd.Series(["A", "B", None])).tolist() == ["A", "B", "-1"]


def test_hour_of_reads_baac_times() -> None:
    hours = hour_of(pd.Series(["08:30", "23:59", "0745", "", "99:00"]))
    assert hours.iloc[:3].tolist() == [8.0, 23.0, 7.0]
    assert hours.iloc[3:].isna().all()


def test_same_distribution_has_no_drift(stable_result) -> None:
    assert stable_result.drifted_columns == []
    assert stable_result.drift_share == 0.0
    assert "an" in stable_result.ignored_columns
    assert stable_result.n_monitored == len(MODEL_INPUT_COLUMNS) - 1


def test_shift_is_found_on_exactly_the_shifted_columns(shifted_result) -> None:
    assert sorted(shifted_result.drifted_columns) == sorted(SHIFTED)
    table = shifted_result.table()
    assert set(table.loc[table["drifted"], "column"]) == set(SHIFTED)
    methods = dict(zip(table["column"], table["method"], strict=True))
    assert methods["catv"] == "jensenshannon" and methods["vma"] == "wasserstein"
    assert shifted_result.drift_share == pytest.approx(3 / (len(MODEL_INPUT_COLUMNS) - 1))


def test_report_html_is_a_full_evidently_report(shifted_result) -> None:
    html = report_html(shifted_result.snapshot)
    assert "<!doctype html>" in html[:200].lower() and html.rstrip().endswith("</html>")
    assert "window.drawDashboard" in html  # Evidently's renderer is embedded: opens offline
    n = shifted_result.n_monitored
    # Evidently's own drift table states the same count as we extracted
    assert f"Drift is detected for {round(3 / n * 100, 3)}% of columns (3 out of {n})" in html
    for column in SHIFTED:
        assert f'"{column}"' in html
    assert "Reference Distribution" in html and "Current Distribution" in html


def test_extract_reads_verdicts_from_tests_not_scores() -> None:
    """A p-value test drifts when its score is *below* the threshold: the verdict must come
    from Evidently's test status, not from comparing the score ourselves."""
    snapshot = {
        "metrics": [{"config": {"type": "evidently:metric_v2:ValueDrift", "column": "a",
                                "method": "ks", "threshold": 0.05}, "value": 0.001},
                    {"config": {"type": "evidently:metric_v2:ValueDrift", "column": "b",
                                "method": "ks", "threshold": 0.05}, "value": 0.9}],
        "tests": [{"metric_config": {"params": {"type": "evidently:metric_v2:ValueDrift", "column": "a"}},
                   "status": "FAIL"},
                  {"metric_config": {"params": {"type": "evidently:metric_v2:ValueDrift", "column": "b"}},
                   "status": "SUCCESS"}],
    }
    result = extract_drift(snapshot, ["a", "b"])
    assert result.drifted_columns == ["a"]
    assert result.drift_share == 0.5


def test_model_report_compares_outputs_and_quality(reference: pd.DataFrame) -> None:
    """Output drift needs no labels; quality is added when both sides are labelled."""
    rng = np.random.default_rng(0)
    test = reference.assign(**{PREDICTION: np.clip(0.3 * reference["severe"] + 0.5 * rng.random(len(reference)), 0, 1)})
    same = fabricated_batch(3000, seed=5)
    same[PREDICTION] = np.clip(0.3 * same["severe"] + 0.5 * rng.random(len(same)), 0, 1)
    snapshot, drift = run_model_report(test, same, 0.4, MonitoringSettings())
    assert not drift.drifted and drift.method == "wasserstein"
    html = report_html(snapshot)
    assert "RocAuc metric (current)" in html
    shifted = same.drop(columns=["severe"]).assign(**{PREDICTION: same[PREDICTION] * 0.3 + 0.6})
    snapshot, drift = run_model_report(test, shifted, 0.4, MonitoringSettings())
    assert drift.drifted
    assert "RocAuc metric (current)" not in report_html(snapshot)


def test_missing_and_extra_columns_are_named() -> None:
    frame = fabricated_batch(50).drop(columns=["vma", "catv"]).assign(colour="red")
    with pytest.raises(DataError) as err:
        check_batch_columns(frame, MODEL_INPUT_COLUMNS, "batch.csv")
    message = str(err.value)
    assert "batch.csv" in message
    assert "missing column(s) vma, catv" in message
    assert "unexpected column(s) colour" in message


def test_p_value_tests_can_be_configured(reference: pd.DataFrame) -> None:
    settings = MonitoringSettings(cat_method="chisquare", num_method="ks",
                                  cat_threshold=0.001, num_threshold=0.001)
    current = fabricated_batch(3000, seed=3, shift={"catv": 0.6})
    result = run_drift_report(reference, current, settings)
    assert "catv" in result.drifted_columns
    methods = {c.method for c in result.columns}
    assert methods == {"chisquare", "ks"}


@pytest.mark.parametrize(
    ("n_current", "share", "drifted", "current_perf", "rule", "retrain"),
    [
        (5000, 0.0, [], None, "stable", False),
        (5000, 3 / 41, ["catv", "vma", "secu1"], None, "feature_drift", True),
        (5000, 1 / 41, ["catv"], None, "stable", False),
        (100, 0.5, ["catv"] * 20, None, "too_few_rows", False),
        (5000, 0.0, [], {"roc_auc": 0.70}, "performance_drop", True),
        (5000, 0.0, [], {"roc_auc": 0.79}, "stable", False),
    ],
)
def test_retrain_policy(n_current, share, drifted, current_perf, rule, retrain) -> None:
    decision = decide_retrain(
        n_current=n_current, drift_share=share, drifted_columns=drifted, n_monitored=41,
        settings=MonitoringSettings(), current_performance=current_perf,
        reference_performance={"roc_auc": 0.80} if current_perf else None,
    )
    assert decision.rule == rule
    assert decision.retrain is retrain
    assert ("retrain:" if retrain else "no retrain:") in decision.reason
    for column in drifted[:3]:
        assert column in decision.reason
