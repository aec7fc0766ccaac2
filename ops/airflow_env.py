"""Apache Airflow on this machine: its own environment, ``airflow standalone``, its state.

Why a separate environment: Airflow 3.3.2 pins a ``fastapi`` that conflicts with the
project's (zenml[server], bentoml), so it lives in ``.airflow-venv/`` made from
``airflow/uv.lock`` (about 130 packages; seconds from uv's cache). Airflow never imports the
project: each task runs a project command (or a ZenML step) with the project's Python.

``start_airflow`` runs ``airflow standalone`` (scheduler + DAG processor + API server +
triggerer, LocalExecutor, SQLite metadata) with ``AIRFLOW_HOME`` in the stack state folder
(``.stack/airflow``, or ``$ACCIDENTS_STACK_DIR/airflow``), waits until its health endpoint
says every part is healthy, and records it like the other local services (ops/services.py)
so ``run.py stack down`` stops it. The settings below are the ones found necessary here
(see docs/airflow.md): a 60 s task → API-server timeout (the 5 s default times out under
load) and a 5 s DAG-folder refresh (ZenML writes a new DAG per run).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from accidents.config import REPO_ROOT
from ops import services as svc

AIRFLOW_SERVICE = "airflow"
AIRFLOW_PROJECT = REPO_ROOT / "airflow"
#: DAGs of the project itself (the retraining loop), copied into the DAG folder on start.
PROJECT_DAGS = AIRFLOW_PROJECT / "dags"
DEFAULT_PORT = 8080
PORT_ENV = "ACCIDENTS_AIRFLOW_PORT"
VENV_ENV = "ACCIDENTS_AIRFLOW_VENV"
#: Parts of ``airflow standalone`` that must be healthy before a DAG can run.
HEALTH_PARTS = ("metadatabase", "scheduler", "dag_processor", "triggerer")


@dataclass(frozen=True)
class AirflowPaths:
    """Where one local Airflow keeps its state (all under the stack state folder)."""

    home: Path

    @property
    def dags(self) -> Path:
        return self.home / "dags"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def database(self) -> Path:
        return self.home / "airflow.db"


def airflow_paths(state_dir: Path) -> AirflowPaths:
    """The Airflow home belonging to a stack state folder (``.stack/airflow``)."""
    return AirflowPaths(state_dir / "airflow")


def airflow_port() -> int:
    """The API server's port: ``$ACCIDENTS_AIRFLOW_PORT`` or 8080."""
    return int(os.environ.get(PORT_ENV) or DEFAULT_PORT)


def venv_dir() -> Path:
    """The Airflow environment: ``$ACCIDENTS_AIRFLOW_VENV`` or ``.airflow-venv/``."""
    return Path(os.environ.get(VENV_ENV) or REPO_ROOT / ".airflow-venv")


def uv_binary() -> str:
    """The project's uv (a locked dependency of the project environment)."""
    for candidate in (Path(sys.executable).parent / "uv", REPO_ROOT / ".uv-boot" / "bin" / "uv"):
        if candidate.is_file():
            return str(candidate)
    raise svc.ServiceError("uv not found in the project environment (run `make venv`)")


def ensure_airflow_venv() -> Path:
    """Create or sync the Airflow environment from airflow/uv.lock; returns its ``airflow``."""
    venv = venv_dir()
    # Bytecode compiled once here, not by every Airflow process (PYTHONDONTWRITEBYTECODE on CI).
    env = {"UV_COMPILE_BYTECODE": "1", "UV_COMPILE_BYTECODE_TIMEOUT": "900", **os.environ,
           "UV_PROJECT_ENVIRONMENT": str(venv)}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run(
        [uv_binary(), "sync", "--frozen", "--quiet", "--python", f"{sys.version_info[0]}.{sys.version_info[1]}"],
        cwd=AIRFLOW_PROJECT, env=env, capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise svc.ServiceError(f"could not create the Airflow environment {venv} from "
                               f"{AIRFLOW_PROJECT / 'uv.lock'}: {proc.stderr.strip()[-600:]}")
    return venv / "bin" / "airflow"


def airflow_environment(paths: AirflowPaths, port: int) -> dict[str, str]:
    """Environment of ``airflow standalone`` and of every ``airflow`` CLI call on it."""
    url = f"http://{svc.LOOPBACK}:{port}"
    return {
        "AIRFLOW_HOME": str(paths.home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(paths.dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__API__HOST": svc.LOOPBACK,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": url,
        # Airflow 3's task -> API server call times out at 5 s under load: seen here.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
        # ZenML writes one DAG file per run: notice it within seconds, not minutes.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(paths.logs),
        "PATH": f"{venv_dir() / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        # read by the project's DAGs (airflow/dags/): where the project and its Python are
        "ACCIDENTS_PROJECT_DIR": str(REPO_ROOT),
        "ACCIDENTS_PYTHON": sys.executable,
    }


def install_project_dags(paths: AirflowPaths) -> list[Path]:
    """Copy the project's DAGs (airflow/dags/*.py) into the DAG folder; returns the copies."""
    paths.dags.mkdir(parents=True, exist_ok=True)
    copies = []
    for source in sorted(PROJECT_DAGS.glob("*.py")):
        target = paths.dags / source.name
        target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        copies.append(target)
    return copies


def health(port: int) -> dict[str, str]:
    """``{part: status}`` from the API server's health endpoint ({} when it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://{svc.LOOPBACK}:{port}/api/v2/monitor/health",
                                    timeout=3) as response:
            body = json.loads(response.read())
    except (OSError, ValueError):
        return {}
    return {part: str((body.get(part) or {}).get("status")) for part in HEALTH_PARTS}


def is_healthy(port: int) -> bool:
    """Every part of the standalone Airflow answers healthy."""
    states = health(port)
    return bool(states) and all(states[p] == "healthy" for p in HEALTH_PARTS)


def start_airflow(state_dir: Path, port: int, timeout: float = 420.0) -> svc.ServiceState:
    """Start ``airflow standalone`` (environment first), wait until healthy, record it."""
    airflow = ensure_airflow_venv()
    paths = airflow_paths(state_dir)
    install_project_dags(paths)
    url = f"http://{svc.LOOPBACK}:{port}"
    if svc.port_in_use(port):
        raise svc.ServiceError(f"port {port} is in use: Airflow cannot listen on {url} "
                               f"(choose another with {PORT_ENV}=...)")
    started = time.time()
    proc, log = svc._spawn(AIRFLOW_SERVICE, [str(airflow), "standalone"],
                           airflow_environment(paths, port), state_dir, paths.home)
    state = svc.ServiceState(name=AIRFLOW_SERVICE, pid=proc.pid, url=url, log=str(log),
                             ports={"api": port}, command=[str(airflow), "standalone"],
                             started_at=started)
    svc._write_state(state_dir, state)
    deadline = time.monotonic() + timeout
    while not is_healthy(port):
        if proc.poll() is not None:
            raise svc.ServiceError(f"airflow standalone exited during start-up; last lines of "
                                   f"{log}:\n{svc._tail(log)}")
        if time.monotonic() > deadline:
            svc.stop_service(state_dir, AIRFLOW_SERVICE)
            raise svc.ServiceError(f"Airflow was not healthy on {url} within {timeout:.0f} s "
                                   f"({health(port) or 'no answer'}); log: {log}")
        time.sleep(1.0)
    return state


def admin_password(paths: AirflowPaths) -> str | None:
    """The generated password of the standalone ``admin`` user (simple auth manager)."""
    path = paths.home / "simple_auth_manager_passwords.json.generated"
    try:
        return json.loads(path.read_text()).get("admin")
    except (OSError, ValueError):
        return None


def _query(paths: AirflowPaths, sql: str, params: tuple) -> list[tuple]:
    """Read Airflow's SQLite metadata (read-only; Airflow keeps writing it meanwhile)."""
    if not paths.database.is_file():
        return []
    with sqlite3.connect(f"file:{paths.database}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(sql, params).fetchall()


def dag_runs(paths: AirflowPaths, dag_id: str) -> list[tuple[str, str]]:
    """``[(run_id, state)]`` of a DAG, newest last."""
    return [(r, s) for r, s in _query(
        paths, "SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id", (dag_id,))]


def task_states(paths: AirflowPaths, dag_id: str, run_id: str) -> dict[str, str | None]:
    """``{task_id: state}`` of one DAG run."""
    return dict(_query(paths, "SELECT task_id, state FROM task_instance WHERE dag_id = ? "
                              "AND run_id = ?", (dag_id, run_id)))


def task_log(paths: AirflowPaths, dag_id: str, run_id: str, task_id: str) -> Path | None:
    """The newest attempt's log file of a task (Airflow's default log layout), if written."""
    folder = paths.logs / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    attempts = sorted(folder.glob("attempt=*.log"))
    return attempts[-1] if attempts else None


def airflow_cli(paths: AirflowPaths, *args: str, timeout: float = 900,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``airflow *args`` on this Airflow home (e.g. ``db migrate``, ``dags test``)."""
    airflow = ensure_airflow_venv()
    full_env = {**os.environ, **(env or {}), **airflow_environment(paths, airflow_port())}
    return subprocess.run([str(airflow), *args], env=full_env, cwd=paths.home, capture_output=True,
                          text=True, timeout=timeout, check=False)
