"""The retraining loop as an Airflow DAG: monitor -> retrain if needed -> redeploy if promoted.

The origin project's shape, on the project's own commands, so Airflow shows, retries and
schedules the loop (weekly):

1. ``monitor``: ``run.py monitor`` on the new period's data (default: the service's
   prediction log) against the production version; it writes the decision to
   ``<outputs>/monitoring/latest.json``;
2. ``retrain_needed``: goes on only when that decision says ``retrain``;
3. ``retrain``: ``run.py train`` - the training pipeline promotes the new version only if it
   beats production on the same test data (the project's promotion rules, unchanged);
4. ``promoted``: goes on only when the new version became production;
5. ``redeploy``: ``run.py deploy`` exports the new production version as a Bento.

Loaded by Airflow's own environment (never imports the project). ``run.py stack up airflow``
copies it into the DAG folder and sets ``ACCIDENTS_PROJECT_DIR`` / ``ACCIDENTS_PYTHON`` for
Airflow; each task runs with the environment of whoever started Airflow (data, outputs and
ZenML locations). Run parameters (``airflow dags test retraining_loop -c '{...}'`` or a
triggered run's conf): ``profile``, ``monitor_args``, ``train_args``.
"""

from __future__ import annotations

import json
import os
import shlex
from datetime import datetime, timedelta
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import ShortCircuitOperator
from airflow.sdk import DAG, Param

PROJECT_DIR = Path(os.environ.get("ACCIDENTS_PROJECT_DIR") or Path(__file__).resolve().parents[2])
PYTHON = os.environ.get("ACCIDENTS_PYTHON") or str(PROJECT_DIR / ".venv" / "bin" / "python")
RUN = f"cd {shlex.quote(str(PROJECT_DIR))} && exec {shlex.quote(PYTHON)} run.py"


def _outputs() -> Path:
    """The project's outputs folder, as the project resolves it (``ACCIDENTS_OUTPUTS_DIR``)."""
    folder = Path(os.environ.get("ACCIDENTS_OUTPUTS_DIR") or "outputs")
    return folder if folder.is_absolute() else PROJECT_DIR / folder


def _latest(kind: str) -> dict:
    path = _outputs() / kind / "latest.json"
    return json.loads(path.read_text(encoding="utf-8"))


def retrain_needed() -> bool:
    """The monitoring decision just written by the ``monitor`` task."""
    decision = _latest("monitoring")
    print(f"monitoring decision: retrain={decision['retrain']} - {decision['reason']}")
    return bool(decision["retrain"])


def promoted() -> bool:
    """Did the ``retrain`` task's new version become production?"""
    result = _latest("training")
    print(f"training: version {result['model_version']} -> {result['stage']} - {result['reason']}")
    return result["stage"] == "production"


with DAG(
    dag_id="retraining_loop",
    description="monitor new data -> retrain when drifted -> promote only if better -> redeploy",
    schedule=timedelta(weeks=1),
    start_date=datetime(2026, 1, 5),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=True,  # unpause in the UI / `airflow dags unpause` to schedule it
    tags=["accidents", "retraining"],
    params={
        "profile": Param("minio", type="string", description="config profile of the commands"),
        "monitor_args": Param("--prediction-log outputs/predictions/predictions.jsonl",
                              type="string", description="run.py monitor source options"),
        "train_args": Param("", type="string", description="extra run.py train options"),
    },
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5)},
) as dag:
    monitor = BashOperator(
        task_id="monitor",
        bash_command=f"{RUN} monitor --config {{{{ params.profile }}}} {{{{ params.monitor_args }}}}",
        retries=0,  # a bad source is not transient
    )
    gate_retrain = ShortCircuitOperator(task_id="retrain_needed", python_callable=retrain_needed)
    retrain = BashOperator(
        task_id="retrain",
        bash_command=f"{RUN} train --config {{{{ params.profile }}}} {{{{ params.train_args }}}}",
    )
    gate_deploy = ShortCircuitOperator(task_id="promoted", python_callable=promoted)
    redeploy = BashOperator(task_id="redeploy",
                            bash_command=f"{RUN} deploy --config {{{{ params.profile }}}}")
    monitor >> gate_retrain >> retrain >> gate_deploy >> redeploy
