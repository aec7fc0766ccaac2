"""The retraining loop DAG (airflow/dags/retraining_loop.py) under ``airflow dags test``.

A real Airflow (its own environment, a private SQLite metadata DB) runs the DAG's tasks,
which run the project's commands on a private ZenML world: version 1 is a deliberately weak
model (XGBoost stumps) trained on one synthetic year; then an undrifted period must stop the
loop after monitoring (no retrain, no deploy) and a drifted period (three inputs strongly
shifted) must retrain on three years with a real model, promote it by the unchanged rule
(better on the same test data - which a weak version 1 makes certain, so the test checks the
loop and not luck) and redeploy it as a Bento. Same data sizes as the simulation test
(2000 accidents a year), whose stable and shifted periods this mirrors.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from ops import airflow_env
from tests.fixtures.zenml import TINY_GATES, ZenmlEnv, make_zenml_env

#: Each `dags test` runs real pipelines; the first test also pays the fixture's training run.
pytestmark = [pytest.mark.airflow, pytest.mark.timeout(2400)]

SMALL_MODEL = ("--set", "model.params={n_estimators: 60, max_depth: 4}")
TASKS = ("monitor", "retrain_needed", "retrain", "promoted", "redeploy")


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A ZenML world with version 1 in production and an Airflow home with the loop DAG."""
    root = tmp_path_factory.mktemp("airflow-loop")
    env = make_zenml_env(root, extra={"ACCIDENTS_N_ACCIDENTS": "2000"})
    first = env.train("--set", "data.years=[2021]", *TINY_GATES,
                      "--set", "model.params={n_estimators: 5, max_depth: 1}")
    assert first["stage"] == "production", first
    paths = airflow_env.airflow_paths(root / "stack")
    airflow_env.install_project_dags(paths)
    migrate = airflow_env.airflow_cli(paths, "db", "migrate", env=env.env)
    assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-2000:]
    return {"env": env, "paths": paths}


def _dags_test(loop: dict[str, Any], monitor_args: str) -> dict[str, str]:
    env: ZenmlEnv = loop["env"]
    conf = {"profile": "local", "monitor_args": monitor_args,
            "train_args": " ".join(["--set", "'data.years=[2021,2022,2023]'", "--set",
                                    "'gates={roc_auc: 0.55}'", "--set",
                                    "'model.params={n_estimators: 60, max_depth: 4}'"])}
    proc = airflow_env.airflow_cli(loop["paths"], "dags", "test", "retraining_loop",
                                   "-c", json.dumps(conf), timeout=1500, env=env.env)
    with sqlite3.connect(f"file:{loop['paths'].database}?mode=ro", uri=True) as db:
        run_id = db.execute("SELECT run_id FROM dag_run WHERE dag_id = 'retraining_loop' "
                            "ORDER BY id DESC LIMIT 1").fetchone()[0]
        states = dict(db.execute("SELECT task_id, state FROM task_instance WHERE run_id = ?",
                                 (run_id,)).fetchall())
    assert set(states) == set(TASKS), proc.stdout[-3000:] + proc.stderr[-3000:]
    return states


def test_undrifted_period_stops_after_monitoring(loop: dict[str, Any]) -> None:
    states = _dags_test(loop, "--synthetic-year 2022")
    assert states == {"monitor": "success", "retrain_needed": "success", "retrain": "skipped",
                      "promoted": "skipped", "redeploy": "skipped"}, states
    decision = json.loads((loop["env"].root / "outputs" / "monitoring" / "latest.json").read_text())
    assert decision["retrain"] is False


def test_drifted_period_retrains_promotes_and_redeploys(loop: dict[str, Any]) -> None:
    shift = " ".join(f"--shift {c}=0.8" for c in ("an_nais", "atm", "vma"))
    states = _dags_test(loop, f"--synthetic-year 2023 {shift}")
    assert states == dict.fromkeys(TASKS, "success"), states
    root = loop["env"].root / "outputs"
    assert json.loads((root / "monitoring" / "latest.json").read_text())["retrain"] is True
    trained = json.loads((root / "training" / "latest.json").read_text())
    assert (trained["model_version"], trained["stage"]) == (2, "production"), trained
    deployed = json.loads((root / "deployment" / "latest.json").read_text())
    assert (deployed["model_version"], deployed["stage"]) == ("2", "production"), deployed
    assert deployed["bento_tag"]
