"""The ``airflow`` profile's stack: the minio stack (S3 + MLflow) with ZenML's Airflow orchestrator.

Why: the same training and monitoring pipelines, unchanged, run on Apache Airflow - each
step an Airflow task in its own process (``BashOperator`` running ZenML's step entrypoint
with the project's Python, see ops/airflow_dag.py). The steps talk to S3, MLflow and a ZenML
*server* (not the SQLite file: several step processes writing one SQLite store contend), so
an Airflow worker on another host would need only the two environments, the DAG folder
and network access to those three.

- ``ensure_airflow_stack``: checks Airflow and the ZenML server are up (one error line naming
  ``run.py stack up airflow`` otherwise), registers the orchestrator component (``local``:
  no container registry nor image builder), then the minio stack around it.

Used by ops/runner.py (``run_pipeline`` on a stack of kind ``airflow``):

- ``run_options``: the per-run pipeline settings - no image build (``skip_build``: steps run
  in this checkout's environment, no code download), our DAG generator, a DAG id we know.
- ``wait_for_run``: ZenML's orchestrator only writes the DAG; this waits for the ZenML run
  with progress lines and a timeout, and turns a failed Airflow task (or a DAG run that
  failed before any step started, which leaves the ZenML run ``provisioning`` for ever) into
  one line naming the step and its Airflow task log.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from accidents.config import REPO_ROOT
from accidents.errors import ConfigError, UserError
from ops import airflow_env

ORCHESTRATOR_PREFIX = "airflow_orchestrator"
DAG_GENERATOR = "ops.airflow_dag"
BASH_OPERATOR = "airflow.providers.standard.operators.bash.BashOperator"
#: Variables handed from the submitting command to the step processes (where the project
#: keeps its ZenML config, data cache, outputs ...). Credentials are not among them: the
#: steps read S3/MLflow credentials from ZenML secrets through the ZenML server.
PASSED_ENV_PREFIXES = ("ACCIDENTS_", "ZENML_CONFIG_PATH", "ZENML_REPOSITORY_PATH",
                       "ZENML_ANALYTICS_OPT_IN", "BENTOML_HOME", "BAAC_")
TIMEOUT_ENV = "ACCIDENTS_AIRFLOW_TIMEOUT"
DEFAULT_TIMEOUT = 1800.0
#: Seconds a DAG run may be failed while the ZenML run is not finished before we give up.
FAILED_DAG_GRACE = 20.0
#: Seconds to let Airflow record the last task's end after ZenML says the run completed.
SETTLE_SECONDS = 30.0


class AirflowRunFailed(UserError):
    """A pipeline run on Airflow failed or did not finish in time (message names where to look)."""


def _stack_dir() -> Path:
    from ops.services import stack_state_dir

    return stack_state_dir()


def orchestrator_name(stack_name: str) -> str:
    return f"{ORCHESTRATOR_PREFIX}_{stack_name}"


def _require_services() -> None:
    """Airflow healthy and the ZenML client on a server, else one actionable error."""
    from zenml.client import Client
    from zenml.enums import StoreType

    port = airflow_env.airflow_port()
    if not airflow_env.is_healthy(port):
        raise ConfigError(f"Airflow does not answer on http://127.0.0.1:{port}: start it with "
                          "`.venv/bin/python run.py stack up airflow` (Airflow, S3, MLflow, ZenML server)")
    if Client().zen_store.type != StoreType.REST:
        raise ConfigError("the airflow profile needs a ZenML server (step processes share it); "
                          "start one with `.venv/bin/python run.py stack up airflow`")


def ensure_airflow_stack(stack_cfg: Any) -> str:
    """Register/update the Airflow orchestrator and the minio stack around it; activate it."""
    from zenml.enums import StackComponentType as T

    from ops.stack_components import ensure_component
    from ops.stack_minio import ensure_minio_stack

    _require_services()
    name = orchestrator_name(stack_cfg.name)
    ensure_component(name, T.ORCHESTRATOR, "airflow", {
        "local": True,
        "dag_output_dir": str(airflow_env.airflow_paths(_stack_dir()).dags),
        "custom_dag_generator": DAG_GENERATOR,
        "operator": BASH_OPERATOR,
    })
    return ensure_minio_stack(dataclasses.replace(stack_cfg, orchestrator=name))


def _task_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith(PASSED_ENV_PREFIXES)}
    env["ZENML_ENABLE_RICH_TRACEBACK"] = "false"
    env["ZENML_LOGGING_COLORS_DISABLED"] = "true"
    return env


def run_options(pipeline_name: str) -> dict[str, Any]:
    """``pipeline.with_options(**run_options(...))`` for a run on Airflow."""
    from zenml.config import DockerSettings
    from zenml.integrations.airflow.flavors.airflow_orchestrator_flavor import (
        AirflowOrchestratorSettings,
    )

    dag_id = f"{pipeline_name}_{time.strftime('%Y%m%d_%H%M%S')}_{uuid.uuid4().hex[:6]}"
    return {"settings": {
        # The steps run in this checkout's environment: no image, no code download.
        "docker": DockerSettings(skip_build=True, parent_image="local/project-environment",
                                 allow_download_from_code_repository=False,
                                 allow_download_from_artifact_store=False),
        "orchestrator": AirflowOrchestratorSettings(
            dag_id=dag_id, dag_tags=["accidents", pipeline_name],
            custom_dag_generator=DAG_GENERATOR, operator=BASH_OPERATOR,
            operator_args={"python": sys.executable, "pythonpath": str(REPO_ROOT),
                           "env": _task_env()},
        ),
    }}


def _status(obj: Any) -> str:
    return str(getattr(obj.status, "value", obj.status))


def wait_for_run(run: Any, dag_id: str, timeout: float | None = None, poll: float = 3.0) -> Any:
    """Wait for the ZenML run submitted to Airflow; print progress; raise one line on failure."""
    from zenml.client import Client

    timeout = float(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT) if timeout is None else timeout
    paths = airflow_env.airflow_paths(_stack_dir())
    print(f">> submitted to Airflow as DAG {dag_id} (waiting up to {timeout:.0f} s)", flush=True)
    progress = _Progress(paths, dag_id)
    failed_since: float | None = None
    while True:
        current = Client().get_pipeline_run(run.id)
        airflow_run, airflow_state, tasks = progress.poll()
        status = _status(current)
        if current.status.is_finished:
            if status != "completed":
                raise AirflowRunFailed(_failure_line(current, paths, dag_id, airflow_run, tasks))
            # ZenML marks the run completed inside the last task, before Airflow records
            # that task's end: let Airflow catch up so the progress shows the last state.
            settle = time.monotonic() + SETTLE_SECONDS
            while airflow_state not in ("success", "failed") and time.monotonic() < settle:
                time.sleep(1.0)
                airflow_run, airflow_state, tasks = progress.poll()
            return current
        if airflow_state == "failed":
            failed_since = failed_since or time.monotonic()
            if time.monotonic() - failed_since > FAILED_DAG_GRACE:
                raise AirflowRunFailed(_failure_line(current, paths, dag_id, airflow_run, tasks))
        if progress.elapsed() > timeout:
            raise AirflowRunFailed(
                f"run {current.name} not finished after {timeout:.0f} s on Airflow (ZenML status "
                f"{status}, DAG {dag_id} run {airflow_run or 'not created'}: {airflow_state or '-'}); "
                f"Airflow log: {paths.home.parent / (airflow_env.AIRFLOW_SERVICE + '.log')}")
        time.sleep(poll)


class _Progress:
    """Reads the DAG run's task states from Airflow and prints each change once."""

    def __init__(self, paths: airflow_env.AirflowPaths, dag_id: str) -> None:
        self.paths, self.dag_id = paths, dag_id
        self.started = time.monotonic()
        self.seen: dict[str, str] = {}

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def poll(self) -> tuple[str | None, str | None, dict[str, str | None]]:
        runs = airflow_env.dag_runs(self.paths, self.dag_id)
        airflow_run, airflow_state = runs[-1] if runs else (None, None)
        tasks = airflow_env.task_states(self.paths, self.dag_id, airflow_run) if airflow_run else {}
        for task, state in sorted(tasks.items()):
            if state and self.seen.get(task) != state:
                self.seen[task] = state
                print(f"   [{self.elapsed():5.0f} s] airflow task {task}: {state}", flush=True)
        return airflow_run, airflow_state, tasks


def _failure_line(run: Any, paths: airflow_env.AirflowPaths, dag_id: str,
                  airflow_run: str | None, tasks: dict[str, str | None]) -> str:
    """``step X failed on Airflow (DAG, run); task log: path`` - the first failed step."""
    failed = [name for name, step in run.steps.items() if _status(step) == "failed"]
    failed += [t for t, s in sorted(tasks.items()) if s in ("failed", "upstream_failed") and t not in failed]
    where = f"DAG {dag_id}, run {airflow_run or 'not created'}"
    if not failed:
        return f"pipeline run {run.name} failed on Airflow before any step ran ({where})"
    step = failed[0]
    log = airflow_env.task_log(paths, dag_id, airflow_run, step) if airflow_run else None
    message = ""
    info = run.steps[step].exception_info if step in run.steps else None
    if info is not None and info.message:
        message = f": {info.message.strip().splitlines()[-1]}"
    return (f"step {step} failed on Airflow{message} ({where}); task log: "
            f"{log or 'not written'}")
