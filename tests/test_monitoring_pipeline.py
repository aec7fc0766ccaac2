"""The real monitoring pipeline (real ZenML in an isolated environment, small synthetic data).

One training run (module fixture) puts version 1 in production; every test then runs
``python run.py monitor`` as a subprocess against it and checks the printed/written
results, the HTML reports, the artifacts and the metadata on the production version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.monitoring import write_prediction_log
from tests.fixtures.zenml import TINY_GATES, ZenmlEnv, make_zenml_env

pytestmark = pytest.mark.pipeline

SHIFTED = ("an_nais", "atm", "vma")
SHIFT_ARGS = tuple(arg for c in SHIFTED for arg in ("--shift", f"{c}=0.8"))
N_MONITORED = 38  # MODEL_INPUT_COLUMNS minus the ignored year `an`


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> ZenmlEnv:
    """Version 1 trained on synthetic 2022-2023 (2000 accidents a year) and in production."""
    zenml = make_zenml_env(tmp_path_factory.mktemp("monitoring"),
                           extra={"ACCIDENTS_N_ACCIDENTS": "2000"})
    zenml.trained = zenml.train(*TINY_GATES, "--set", "model.params={n_estimators: 60, max_depth: 4}")
    assert zenml.trained["stage"] == "production", zenml.trained
    return zenml


def monitor(env: ZenmlEnv, *args: str) -> tuple[dict[str, Any], str]:
    """``run.py monitor *args`` -> (outputs/monitoring/latest.json, stdout)."""
    proc = env.run("monitor", *args)
    return json.loads((env.root / "outputs" / "monitoring" / "latest.json").read_text()), proc.stdout


def production_metadata(env: ZenmlEnv) -> dict[str, Any]:
    """The production version's 'monitoring' metadata and its linked drift-report artifact."""
    return env.python_json(
        "import json\n"
        "from zenml.client import Client\n"
        "from accidents.constants import MODEL_NAME, META_MONITORING\n"
        "mv = Client().get_model_version(MODEL_NAME, 'production')\n"
        "art = mv.get_artifact('monitoring_drift_report')\n"
        "print(json.dumps({'version': mv.number, 'monitoring': mv.run_metadata[META_MONITORING],"
        " 'report_type': type(art.load()).__name__, 'report_len': len(art.load())}))"
    )


@pytest.fixture(scope="module")
def stable(env: ZenmlEnv) -> tuple[dict[str, Any], str]:
    return monitor(env, "--synthetic-year", "2024")


@pytest.fixture(scope="module")
def shifted(env: ZenmlEnv) -> tuple[dict[str, Any], str]:
    return monitor(env, "--synthetic-year", "2024", *SHIFT_ARGS)


def test_no_shift_no_drift_no_retrain(stable: tuple[dict[str, Any], str]) -> None:
    result, stdout = stable
    assert result["status"] == "completed"
    assert result["drift"]["drifted_columns"] == []
    assert result["drift"]["n_monitored"] == N_MONITORED
    assert result["retrain"] is False and result["decision"]["rule"] == "stable"
    assert "decision: no retrain" in stdout
    assert result["drift_report"] in stdout  # the path is printed
    # labelled batch: performance on the batch beside the production test set's
    perf = result["performance"]
    assert 0.5 < perf["current"]["roc_auc"] <= 1 and 0.5 < perf["reference_test"]["roc_auc"] <= 1


def test_shift_detected_on_exactly_the_shifted_columns(shifted: tuple[dict[str, Any], str]) -> None:
    result, stdout = shifted
    assert sorted(result["drift"]["drifted_columns"]) == sorted(SHIFTED)
    assert result["retrain"] is True and result["decision"]["rule"] == "feature_drift"
    for column in SHIFTED:
        assert column in result["reason"]
    assert "decision: RETRAIN" in stdout


def test_html_reports_are_complete_evidently_reports(stable, shifted) -> None:
    for result, n_drifted in ((stable[0], 0), (shifted[0], 3)):
        html = Path(result["drift_report"]).read_text(encoding="utf-8")
        assert "<!doctype html>" in html[:200].lower() and "window.drawDashboard" in html
        share = round(n_drifted / N_MONITORED * 100, 3)
        assert f"Drift is detected for {share}% of columns ({n_drifted} out of {N_MONITORED})" in html
        assert "Reference Distribution" in html and '"an_nais"' in html
        perf = Path(result["performance_report"]).read_text(encoding="utf-8")
        assert "window.drawDashboard" in perf
        assert "RocAuc metric (current)" in perf and "RocAuc metric (reference)" in perf


def test_figures_are_metadata_on_the_production_version(env: ZenmlEnv, shifted) -> None:
    result = shifted[0]
    meta = production_metadata(env)
    assert meta["version"] == env.trained["model_version"]
    monitoring = meta["monitoring"]
    assert monitoring["run"] == result["run_name"]  # the latest monitoring run
    assert monitoring["drift_share"] == pytest.approx(3 / N_MONITORED, abs=1e-6)
    assert sorted(monitoring["drifted_columns"]) == sorted(SHIFTED)
    assert monitoring["retrain"] is True
    assert monitoring["performance"]["current"]["roc_auc"] == pytest.approx(
        result["performance"]["current"]["roc_auc"])
    # the HTML report is an artifact of the production version (renders in the dashboard)
    assert meta["report_type"] == "HTMLString" and meta["report_len"] > 100_000


def test_prediction_log_source(env: ZenmlEnv, tmp_path: Path) -> None:
    """Inputs the service logged (another synthetic year), with probabilities that are not
    the production model's: inputs stable, output drift found, no performance (no labels)."""
    from accidents.monitoring_sources import batch_from_baac
    from accidents.synthetic import write_synthetic

    write_synthetic(tmp_path / "baac", [2024], 2000, seed=7)
    rows = batch_from_baac(tmp_path / "baac", [2024])
    log = write_prediction_log(tmp_path / "predictions.jsonl", rows,
                               probabilities=[0.9 + 0.1 * (i % 10) / 10 for i in range(len(rows))])
    result, stdout = monitor(env, "--prediction-log", str(log))
    assert result["drift"]["n_current"] == len(rows)
    assert result["drift"]["drifted_columns"] == []
    assert result["drift"]["prediction_drift"]["drifted"] is True  # logged outputs ~0.95
    assert result["performance"] is None  # a log has no outcomes
    assert "no labels in the batch" in result["reason"] and result["retrain"] is False
    assert str(log) in result["source"]
    assert "performance: not measured" in stdout
    assert "RocAuc metric" not in Path(result["performance_report"]).read_text(encoding="utf-8")


def test_missing_and_extra_columns_are_a_clear_error(env: ZenmlEnv, tmp_path: Path) -> None:
    from tests.fixtures.monitoring import fabricated_batch

    path = tmp_path / "batch.csv"
    fabricated_batch(600).drop(columns=["vma", "catv"]).assign(colour="red").to_csv(path, index=False)
    proc = env.run("monitor", "--current-file", str(path), check=False)
    assert proc.returncode == 2, proc.stderr[-3000:]
    error = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert error, proc.stderr[-3000:]
    assert str(path) in error[0]
    assert "missing column(s) vma, catv" in error[0] and "unexpected column(s) colour" in error[0]


@pytest.mark.real_data
def test_real_sample_year_as_current_data(env: ZenmlEnv, samples_dir: Path) -> None:
    """Real-format files of a year the model was not trained on, through the same loader."""
    from accidents.monitoring_sources import batch_from_baac

    year = 2024
    if not (samples_dir / str(year)).is_dir():
        pytest.skip(f"no real sample for {year} in {samples_dir}")
    expected_users = len(batch_from_baac(samples_dir / str(year), [year]))
    result, _ = monitor(env, "--current-dir", str(samples_dir / str(year)), "--years", str(year))
    assert result["status"] == "completed"
    assert result["drift"]["n_current"] == expected_users
    assert result["drift"]["n_monitored"] == N_MONITORED
    # a first page of a year is far below min_rows: figures reported, no retrain decided
    assert result["retrain"] is False and result["decision"]["rule"] == "too_few_rows"
    assert f"only {expected_users} current rows" in result["reason"]
    html = Path(result["drift_report"]).read_text(encoding="utf-8")
    assert f"out of {N_MONITORED})" in html
    meta = production_metadata(env)
    assert meta["monitoring"]["run"] == result["run_name"]
    assert meta["monitoring"]["rows_current"] == expected_users
