"""The training pipeline on a real Apache Airflow (``--config airflow``), end to end.

What must hold (issue 11): every ZenML step ran as an Airflow task in its own process, the
ZenML run completed, a model version was created and staged by the same promotion rules as
on the local stack, the MLflow run exists and the artifacts are in S3. Small synthetic data;
the cost is Airflow's start (minutes under load) plus a ZenML import per step.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest

from tests.fixtures.zenml import TINY_GATES

#: Airflow's start (2-7 min under load) counts toward the first test's time limit.
pytestmark = [pytest.mark.airflow, pytest.mark.timeout(2400)]

TRAINING_STEPS = {"ingest_data", "validate_data", "build_features", "split_data", "train_model",
                  "evaluate_model", "promote_model"}


def _task_instances(db_path, dag_id: str) -> list[tuple[str, str, int | None, str]]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30) as db:
        return db.execute("SELECT task_id, state, pid, hostname FROM task_instance WHERE dag_id = ?",
                          (dag_id,)).fetchall()


def test_training_pipeline_runs_as_airflow_tasks(airflow_stack) -> None:
    assert "Airflow started in" in airflow_stack.up_output or "already running" in airflow_stack.up_output
    proc = airflow_stack.zenml.run("--config", "airflow", *TINY_GATES, timeout=1500)
    out = proc.stdout
    assert ">> submitted to Airflow as DAG training_" in out, out[-3000:]
    assert "airflow task ingest_data: success" in out and "airflow task promote_model:" in out
    assert "DATA: SYNTHETIC" in out  # same summary as on the local stack
    result = json.loads((airflow_stack.zenml.root / "outputs" / "training" / "latest.json").read_text())
    assert result["status"] == "completed"
    # first version on an empty registry passes the gates -> production (same rules as local)
    assert (result["model_version"], result["stage"], result["decision"]) == (1, "production", "production"), result

    dag_id = out.split(">> submitted to Airflow as DAG ")[1].split()[0]
    tasks = _task_instances(airflow_stack.paths.database, dag_id)
    for _ in range(60):  # Airflow records the last task's end shortly after ZenML's run ends
        if all(state == "success" for _, state, *_ in tasks):
            break
        time.sleep(2)
        tasks = _task_instances(airflow_stack.paths.database, dag_id)
    assert {t for t, *_ in tasks} == TRAINING_STEPS, tasks
    assert all(state == "success" for _, state, *_ in tasks), tasks
    pids = [pid for _, _, pid, _ in tasks]
    assert None not in pids and len(set(pids)) == len(TRAINING_STEPS), f"one process per step: {tasks}"
    assert os.getpid() not in pids

    # the ZenML run, its steps, and where their outputs went
    info = airflow_stack.zenml.python_json(
        "import json; from zenml.client import Client\n"
        f"r = Client().get_pipeline_run({result['run_id']!r})\n"
        "print(json.dumps({'status': str(r.status.value), 'steps': {n: str(s.status.value) for n, s "
        "in r.steps.items()}, 'orchestrator': r.stack.components['orchestrator'][0].flavor_name, "
        "'store': Client().zen_store.type.value}))")
    assert info["status"] == "completed"
    assert info["steps"] == dict.fromkeys(TRAINING_STEPS, "completed")
    assert (info["orchestrator"], info["store"]) == ("airflow", "rest")
    keys = airflow_stack.keys("zenml/")
    assert any("train_model" in k for k in keys), keys[:20]

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=airflow_stack.mlflow_url)
    experiment = client.get_experiment_by_name("road_accident_severity")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert runs and any("roc_auc" in " ".join(r.data.metrics) for r in runs), [r.data.metrics for r in runs]


def test_a_failed_task_is_one_line_naming_the_step_and_its_log(airflow_stack) -> None:
    """A step that fails inside Airflow (XGBoost refuses max_depth=-1 at fit time)."""
    proc = airflow_stack.zenml.run("--config", "airflow", *TINY_GATES, "--set",
                                   "model.params={max_depth: -1}", check=False, timeout=1500)
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: step train_model failed on Airflow"), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    log = last.rsplit("task log: ", 1)[1]
    assert log.endswith(".log") and "task_id=train_model" in log
    assert "max_depth" in Path(log).read_text(encoding="utf-8")
