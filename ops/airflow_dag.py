"""ZenML → Airflow DAG generator: one ``BashOperator`` per step, running the step entrypoint.

Why our own: ZenML's Airflow orchestrator zips this file (as ``dag.py``) with a
``config.json`` holding one task per step (entrypoint command, arguments, environment) and
lets the pipeline name the generator (``custom_dag_generator`` setting). Its stock generator
only fills arguments for ``DockerOperator`` / ``KubernetesPodOperator``; with no Docker engine,
a ``BashOperator`` that runs the entrypoint with the project's own Python is what works, and
each step is still its own Airflow task in its own process.

This module is loaded in TWO environments: by ZenML in the project's environment (it reads
the classes and constants below, same names as
``zenml.integrations.airflow.orchestrators.dag_generator``) and by Airflow in Airflow's own
environment (from inside the zip, where it builds the DAG). So it imports only pydantic at
module level and Airflow only inside the zip branch; never zenml nor the project.

``operator_args`` (set on the orchestrator component by ``ops/stack_airflow.py``) carry what
a worker host needs: ``python`` (the project's interpreter), ``pythonpath`` (the project
checkout, because ZenML's entrypoint changes directory to ``/app``) and ``env`` (extra
variables); any other key goes to the ``BashOperator`` unchanged (``retries``,
``execution_timeout`` ...).
"""

from __future__ import annotations

import datetime
import os
import shlex
import zipfile
from typing import Any

from pydantic import BaseModel, Field

ENV_ZENML_AIRFLOW_RUN_ID = "ZENML_AIRFLOW_RUN_ID"
ENV_ZENML_LOCAL_STORES_PATH = "ZENML_LOCAL_STORES_PATH"
CONFIG_FILENAME = "config.json"
#: Keys of ``operator_args`` consumed here, not passed to the operator.
OWN_ARGS = ("python", "pythonpath", "env")


class TaskConfiguration(BaseModel):
    """One ZenML step as ZenML's orchestrator describes it (same fields as ZenML's)."""

    id: str
    zenml_step_name: str
    upstream_steps: list[str]
    docker_image: str
    command: list[str]
    arguments: list[str]
    environment: dict[str, str] = {}
    operator_source: str
    operator_args: dict[str, Any] = {}


class DagConfiguration(BaseModel):
    """The pipeline run as one Airflow DAG (same fields as ZenML's)."""

    id: str
    tasks: list[TaskConfiguration]
    local_stores_path: str | None = None
    schedule: datetime.timedelta | str = Field(union_mode="left_to_right")
    start_date: datetime.datetime
    end_date: datetime.datetime | None = None
    catchup: bool = False
    tags: list[str] = []
    dag_args: dict[str, Any] = {}


def bash_operator_kwargs(task: TaskConfiguration) -> dict[str, Any]:
    """``BashOperator`` arguments that run ``task``'s step entrypoint (pure, testable)."""
    args = dict(task.operator_args)
    python = args.pop("python", None) or task.command[0]
    pythonpath = args.pop("pythonpath", None)
    extra_env = args.pop("env", None) or {}
    command = [python, *task.command[1:], *task.arguments]
    env = {**task.environment, **extra_env, ENV_ZENML_AIRFLOW_RUN_ID: "{{ run_id }}"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    kwargs: dict[str, Any] = {
        "task_id": task.id,
        # exec: the step is the task's process (no bash left waiting in between)
        "bash_command": "exec " + shlex.join(command),
        "env": env,
        "append_env": True,  # keep PATH, HOME ... of the worker
        "retries": 0,  # a ZenML step is not idempotent by itself; retry the DAG run instead
    }
    kwargs.update(args)
    return kwargs


def _build_dag(archive: zipfile.ZipFile) -> Any:
    """Inside Airflow: the DAG described by the zip's config.json."""
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG

    config = DagConfiguration.model_validate_json(archive.read(CONFIG_FILENAME))
    operators: dict[str, Any] = {}
    with DAG(
        dag_id=config.id,
        is_paused_upon_creation=False,
        tags=config.tags,
        schedule=config.schedule,
        start_date=config.start_date,
        end_date=config.end_date,
        catchup=config.catchup,
        **config.dag_args,
    ) as dag:
        for task in config.tasks:
            operators[task.zenml_step_name] = BashOperator(**bash_operator_kwargs(task))
        for task in config.tasks:
            for upstream in task.upstream_steps:
                operators[task.zenml_step_name].set_upstream(operators[upstream])
    return dag


try:
    _ARCHIVE = zipfile.ZipFile(os.path.dirname(__file__), "r")
except (IsADirectoryError, PermissionError, FileNotFoundError, zipfile.BadZipFile):
    _ARCHIVE = None  # imported as a module of the project (by ZenML), not from a DAG zip
if _ARCHIVE is not None:
    dag = _build_dag(_ARCHIVE)  # Airflow's DAG processor finds it as a module-level DAG
