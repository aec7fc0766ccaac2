"""The real monitoring pipeline and ``run.py simulate`` (real ZenML, isolated env, small data).

To keep the suite fast, one ``run.py simulate`` (module fixture; the README's command, the
profile's story, small data) provides the first monitoring runs, in the simulation's own
ZenML store: 2021 trains version 1 (production); 2022 (realistic year-to-year change
only) and 2023 (three inputs strongly shifted) are monitored by the real ``monitoring``
pipeline against version 1, and 2023 triggers retraining on 2021-2023 with the training
pipeline's same-test-data promotion. The tests read those runs' outputs (JSON, HTML files,
ZenML metadata and artifacts); further tests run ``run.py monitor`` on other sources
against whatever version is then in production.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.monitoring import write_prediction_log
from tests.fixtures.zenml import TINY_GATES, ZenmlEnv, make_zenml_env

pytestmark = pytest.mark.pipeline

SHIFTED = ("an_nais", "atm", "vma")
N_MONITORED = 38  # MODEL_INPUT_COLUMNS minus the ignored year `an`
SMALL_MODEL = ("--set", "model.params={n_estimators: 60, max_depth: 4}")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> ZenmlEnv:
    """An isolated ZenML world with 2000 synthetic accidents a year (~4.5k road users)."""
    return make_zenml_env(tmp_path_factory.mktemp("monitoring"), extra={"ACCIDENTS_N_ACCIDENTS": "2000"})


@pytest.fixture(scope="module")
def simulation(env: ZenmlEnv) -> dict[str, Any]:
    """``run.py simulate`` with no story option: the profile's story (2021, 2022 stable; 2023
    with an_nais, atm, vma shifted), only the data and model made small.

    Before it, the project's store gets a production version of its own (a bare version, no
    training), as ``make run`` would leave: the simulation must not see it (own store, version
    1 trained from scratch) nor change it. Afterwards the env points at the simulation's store,
    so the tests below monitor and inspect the versions the story made."""
    before = env.python_json(PROJECT_VERSIONS + "Client().create_model(name=MODEL_NAME)\n"
                             "v = Client().create_model_version(MODEL_NAME, name='make-run')\n"
                             "v.set_stage('production')\n" + PRINT_VERSIONS)
    proc = env.run("simulate", *TINY_GATES, *SMALL_MODEL, timeout=1500)
    result = json.loads((env.root / "outputs" / "simulation" / "simulation.json").read_text())
    result["stdout"] = proc.stdout
    result["project_before"], result["project_after"] = before, env.python_json(PROJECT_VERSIONS + PRINT_VERSIONS)
    store = env.root / "outputs" / "simulation" / "zenml"
    env.env.update(ZENML_CONFIG_PATH=str(store / "config"), ZENML_REPOSITORY_PATH=str(store / "repo"))
    return result


PROJECT_VERSIONS = ("import json\nfrom zenml.client import Client\nfrom accidents.constants import MODEL_NAME\n"
                    "from ops import runner\nrunner.prepare()\n")
PRINT_VERSIONS = ("print(json.dumps(sorted((v.name, getattr(v.stage, 'value', v.stage)) for v in "
                  "Client().list_model_versions(MODEL_NAME, size=100))))\n")


def period(simulation: dict[str, Any], name: str) -> dict[str, Any]:
    """The monitoring run of one period: its record and its summary.json."""
    record = next(r for r in simulation["records"] if r["period"] == name)
    summary = json.loads((Path(record["drift_report"]).parent / "summary.json").read_text())
    return {**record, "summary": summary}


def monitor(env: ZenmlEnv, *args: str) -> tuple[dict[str, Any], str]:
    """``run.py monitor *args`` -> (outputs/monitoring/latest.json, stdout)."""
    proc = env.run("monitor", *args)
    return json.loads((env.root / "outputs" / "monitoring" / "latest.json").read_text()), proc.stdout


def version_metadata(env: ZenmlEnv, version: str = "production") -> dict[str, Any]:
    """A version's 'monitoring' metadata and its linked drift-report artifact."""
    return env.python_json(
        "import json\n"
        "from zenml.client import Client\n"
        "from accidents.constants import MODEL_NAME, META_MONITORING\n"
        f"mv = Client().get_model_version(MODEL_NAME, {version!r})\n"
        "art = mv.get_artifact('monitoring_drift_report')\n"
        "print(json.dumps({'version': mv.number, 'monitoring': mv.run_metadata[META_MONITORING],"
        " 'report_type': type(art.load()).__name__, 'report_len': len(art.load())}))"
    )


def test_simulate_retrains_at_the_shift(simulation: dict[str, Any]) -> None:
    """The story, period by period, in the records and in what the command printed."""
    first, stable, shifted = simulation["records"]
    assert [r["period"] for r in simulation["records"]] == ["2021", "2022", "2023"]
    assert first["new_version"] == "1" and first["promoted"] is True
    assert stable["serving_version"] == "1" and stable["retrain"] is False
    assert shifted["serving_version"] == "1" and shifted["retrain"] is True
    assert shifted["new_version"] == "2"
    # seeded run, one outcome: version 2 (trained on 2021-2023) beats version 1 on the same test rows
    assert shifted["promoted"] is True, shifted["promotion_reason"]
    assert "beats production version 1 on the same test data" in shifted["promotion_reason"]
    out = simulation["stdout"]
    assert "simulate: period 2021: trained version 1 (production)" in out
    assert "simulate: period 2022 served by v1: drift share 0.000, retrain False" in out
    assert re.search(r"simulate: period 2023 served by v1: drift share 0\.\d+, retrain True -> v2 \(promoted\)", out)
    assert "served_by" in simulation["table"] and "2023" in simulation["table"]


def test_simulate_starts_from_its_own_clean_store(simulation: dict[str, Any]) -> None:
    """The project's production version (made before) is neither used nor changed."""
    assert simulation["project_before"] == [["make-run", "production"]]
    assert simulation["project_after"] == simulation["project_before"]
    assert "simulate: own ZenML store" in simulation["stdout"]


def test_simulation_plot_is_a_readable_picture(simulation: dict[str, Any]) -> None:
    """A real PNG of a sensible size with something drawn on it, path printed."""
    from PIL import Image, ImageStat

    plot = Path(simulation["plot"])
    assert f"plot: {plot}" in simulation["stdout"]
    with Image.open(plot) as image:
        image.verify()
    with Image.open(plot) as image:
        width, height = image.size
        assert image.format == "PNG" and 600 <= width <= 3000 and 300 <= height <= 2000, image.size
        spread = ImageStat.Stat(image.convert("L")).stddev[0]
    assert spread > 20, f"the plot is nearly uniform (grey-level stddev {spread:.1f})"


def test_simulation_table_and_plot_are_artifacts(env: ZenmlEnv, simulation: dict[str, Any]) -> None:
    artifacts = env.python_json(
        "import json\nfrom zenml.client import Client\n"
        "a = Client().get_artifact_version('simulation_plot')\n"
        "t = Client().get_artifact_version('simulation_table').load()\n"
        "print(json.dumps({'plot': type(a.load()).__name__, 'periods': t['period'].tolist(),"
        " 'retrain': t['retrain'].tolist()}))")
    assert artifacts["periods"] == ["2021", "2022", "2023"]
    assert artifacts["retrain"] == [r["retrain"] for r in simulation["records"]]
    assert "Image" in artifacts["plot"]


def test_no_shift_no_drift_no_retrain(simulation: dict[str, Any]) -> None:
    run = period(simulation, "2022")
    drift = run["summary"]["drift"]
    assert drift["drifted_columns"] == [] and drift["n_monitored"] == N_MONITORED
    assert run["retrain"] is False and run["summary"]["decision"]["rule"] == "stable"
    # labelled batch: performance on the batch beside the production test set's
    perf = run["summary"]["performance"]
    assert 0.5 < perf["current"]["roc_auc"] <= 1 and 0.5 < perf["reference_test"]["roc_auc"] <= 1


def test_shift_detected_on_exactly_the_shifted_columns(simulation: dict[str, Any]) -> None:
    run = period(simulation, "2023")
    assert sorted(run["summary"]["drift"]["drifted_columns"]) == sorted(SHIFTED)
    assert run["retrain"] is True and run["summary"]["decision"]["rule"] == "feature_drift"
    for column in SHIFTED:
        assert column in run["reason"]


def test_html_reports_are_complete_evidently_reports(simulation: dict[str, Any]) -> None:
    for name, n_drifted in (("2022", 0), ("2023", 3)):
        run = period(simulation, name)
        html = Path(run["drift_report"]).read_text(encoding="utf-8")
        assert "<!doctype html>" in html[:200].lower() and "window.drawDashboard" in html
        share = round(n_drifted / N_MONITORED * 100, 3)
        assert f"Drift is detected for {share}% of columns ({n_drifted} out of {N_MONITORED})" in html
        assert "Reference Distribution" in html and '"an_nais"' in html
        perf = Path(run["performance_report"]).read_text(encoding="utf-8")
        assert "window.drawDashboard" in perf
        assert "RocAuc metric (current)" in perf and "RocAuc metric (reference)" in perf


def test_figures_are_metadata_on_the_monitored_version(env: ZenmlEnv, simulation: dict[str, Any]) -> None:
    """Version 1 was production when 2022 and 2023 were monitored: it holds the latest figures."""
    run = period(simulation, "2023")
    meta = version_metadata(env, "1")
    monitoring = meta["monitoring"]
    assert monitoring["run"] == run["monitoring_run"]
    assert monitoring["drift_share"] == pytest.approx(3 / N_MONITORED, abs=1e-6)
    assert sorted(monitoring["drifted_columns"]) == sorted(SHIFTED)
    assert monitoring["retrain"] is True
    assert monitoring["performance"]["current"]["roc_auc"] == pytest.approx(run["roc_auc"])
    # the HTML report is an artifact of that version (renders in the dashboard)
    assert meta["report_type"] == "HTMLString" and meta["report_len"] > 100_000


def test_prediction_log_source(env: ZenmlEnv, simulation: dict[str, Any], tmp_path: Path) -> None:
    """Inputs the service logged (an unshifted synthetic year) with probabilities that are not
    the production model's: output drift found, no performance (a log has no outcomes).

    Production is now version 2 if it won the promotion (trained on 2021-2023, 2023
    shifted) or still version 1 (2021): either way only the shifted inputs can differ."""
    from accidents.monitoring.sources import batch_from_baac
    from accidents.synthetic import write_synthetic

    write_synthetic(tmp_path / "baac", [2024], 2000, seed=7)
    rows = batch_from_baac(tmp_path / "baac", [2024])
    log = write_prediction_log(tmp_path / "predictions.jsonl", rows,
                               probabilities=[0.9 + 0.1 * (i % 10) / 10 for i in range(len(rows))])
    result, stdout = monitor(env, "--prediction-log", str(log))
    drift = result["drift"]
    assert drift["n_current"] == len(rows) and drift["n_monitored"] == N_MONITORED
    assert set(drift["drifted_columns"]) <= set(SHIFTED)
    if simulation["records"][2]["promoted"] is False:
        assert drift["drifted_columns"] == []  # version 1 never saw the shift
    assert drift["prediction_drift"]["drifted"] is True  # logged outputs ~0.95
    assert result["performance"] is None
    assert "no labels in the batch" in result["reason"]
    assert result["retrain"] is (len(drift["drifted_columns"]) >= 2)
    assert str(log) in result["source"]
    assert "performance: not measured" in stdout
    assert "RocAuc metric" not in Path(result["performance_report"]).read_text(encoding="utf-8")


def test_missing_and_extra_columns_are_a_clear_error(env: ZenmlEnv, simulation: dict[str, Any],
                                                    tmp_path: Path) -> None:
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
def test_real_sample_year_as_current_data(env: ZenmlEnv, simulation: dict[str, Any],
                                          samples_dir: Path) -> None:
    """Real-format files of a year the model was not trained on, through the same loader."""
    from accidents.monitoring.sources import batch_from_baac

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
    meta = version_metadata(env)
    assert meta["version"] == int(result["model_version_number"])
    assert meta["monitoring"]["run"] == result["run_name"]
    assert meta["monitoring"]["rows_current"] == expected_users
