"""`run.py stack up|down|status airflow`: Airflow and a ZenML server beside the minio services.

Why a ZenML server: the steps of one run execute in separate Airflow task processes; they
must share the ZenML store, and several processes writing one SQLite file contend. ZenML's
own local server (``zenml login --local``, part of ``zenml[server]``) is the multi-process
answer and what a worker on another host would reach. Airflow is ``airflow standalone``
(ops/airflow_env.py), created from its own lock on first use.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from accidents.errors import UserError
from ops import airflow_env
from ops import services as svc

ZENML_PORT_ENV = "ACCIDENTS_ZENML_PORT"
DEFAULT_ZENML_PORT = 8237


def _zenml(*args: str) -> subprocess.CompletedProcess[str]:
    from cli.dashboard import zenml_cli
    from ops.stacks import prepare_zenml_env

    prepare_zenml_env()
    env = {**os.environ, "ZENML_LOGGING_COLORS_DISABLED": "true"}
    return subprocess.run([*zenml_cli(), *args], capture_output=True, text=True, env=env,
                          check=False, timeout=300)


def zenml_server_up() -> str:
    """Start (or find) the local ZenML server and connect the project's ZenML config to it."""
    port = int(os.environ.get(ZENML_PORT_ENV) or DEFAULT_ZENML_PORT)
    proc = _zenml("login", "--local", "--port", str(port))
    output = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise UserError(f"`zenml login --local --port {port}` failed (exit {proc.returncode}): "
                        f"{output.strip()[-600:]}")
    return f"http://127.0.0.1:{port}"


def airflow_up(directory: Path) -> int:
    """ZenML server, then Airflow standalone (prints the start time: it takes minutes here)."""
    url = zenml_server_up()
    print(f"ZenML server: {url} (the project's ZenML config now points at it)")
    port = airflow_env.airflow_port()
    state = svc.read_state(directory, airflow_env.AIRFLOW_SERVICE)
    paths = airflow_env.airflow_paths(directory)
    if state is not None and state.is_running() and airflow_env.is_healthy(port):
        print(f"Airflow already running: {state.url} (pid {state.pid})")
        return 0
    if state is not None and state.is_running():
        svc.stop_service(directory, airflow_env.AIRFLOW_SERVICE)
    print(f"starting Airflow standalone on port {port} (LocalExecutor, SQLite; takes 1-3 min) ...",
          flush=True)
    started = time.monotonic()
    state = airflow_env.start_airflow(directory, port)
    print(f"Airflow started in {time.monotonic() - started:.0f} s: {state.url} (pid {state.pid}, "
          f"log {state.log}); DAG folder {paths.dags}; user admin, password in "
          f"{paths.home / 'simple_auth_manager_passwords.json.generated'}")
    return 0


def airflow_down(directory: Path) -> None:
    """Stop Airflow (if started here) and disconnect from the local ZenML server."""
    if svc.read_state(directory, airflow_env.AIRFLOW_SERVICE) is not None:
        stopped = svc.stop_service(directory, airflow_env.AIRFLOW_SERVICE, timeout=30.0)
        print(f"Airflow: {'stopped' if stopped else 'was not running'}")
        proc = _zenml("logout", "--local")
        print(f"ZenML server: {'stopped' if proc.returncode == 0 else proc.stderr.strip()[-200:]}")


def airflow_status(directory: Path) -> int:
    """One line for Airflow: recorded pid and health of each part."""
    state = svc.read_state(directory, airflow_env.AIRFLOW_SERVICE)
    port = state.ports.get("api", airflow_env.airflow_port()) if state else airflow_env.airflow_port()
    health = airflow_env.health(port)
    pid = f"pid {state.pid} {'alive' if state.is_running() else 'dead'}" if state else "not started here"
    print(f"Airflow: http://127.0.0.1:{port} {health or 'does NOT answer'} ({pid})")
    return 0 if airflow_env.is_healthy(port) else 1
