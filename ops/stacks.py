"""ZenML environment and stacks from code: where ZenML keeps its state, and the profile's stack.

Why here and not in run.py: every command that talks to ZenML (train, models, promote,
dashboard, deploy, monitor) must see the same store. ``prepare_zenml_env()`` makes that the
project-local ``.zenml-home/`` (unless ``ZENML_CONFIG_PATH`` is already set, as tests do), so
the user's global ZenML config is never touched and a clone is self-contained; the ZenML
repository (``.zen``) is the repository root (or ``ZENML_REPOSITORY_PATH``).

``ensure_stack(stack_cfg)`` registers the profile's stack if missing, updates its
components if the profile changed (e.g. another MLflow tracking URI), and activates it. The
stack stays active after the run (documented): the next command on the same profile finds it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from accidents.config import REPO_ROOT, StackConfig
from accidents.errors import ConfigError
from ops.stack_components import DEFAULT_COMPONENT, ensure_component, ensure_named_stack

ZENML_HOME = REPO_ROOT / ".zenml-home"
MLFLOW_TRACKER_PREFIX = "mlflow_tracker"


def prepare_zenml_env() -> dict[str, str]:
    """Set ZenML's config/repository location and quiet defaults; call before importing zenml."""
    os.environ.setdefault("ZENML_CONFIG_PATH", str(ZENML_HOME))
    os.environ.setdefault("ZENML_REPOSITORY_PATH", str(REPO_ROOT))
    os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
    os.environ.setdefault("ZENML_ENABLE_RICH_TRACEBACK", "false")
    os.environ.setdefault("AUTO_OPEN_DASHBOARD", "false")
    repo = Path(os.environ["ZENML_REPOSITORY_PATH"])
    Path(os.environ["ZENML_CONFIG_PATH"]).mkdir(parents=True, exist_ok=True)
    if not (repo / ".zen").is_dir():
        from zenml.client import Client

        Client.initialize(root=repo)
    return {k: os.environ[k] for k in ("ZENML_CONFIG_PATH", "ZENML_REPOSITORY_PATH")}


def zenml_locations() -> dict[str, str]:
    """Store URL and active artifact-store path (printed at the end of a run)."""
    from zenml.client import Client

    client = Client()
    store = client.zen_store.url if hasattr(client.zen_store, "url") else str(client.zen_store.config.url)
    return {"zenml_store": store, "artifact_store": str(client.active_stack.artifact_store.path),
            "zenml_config": os.environ.get("ZENML_CONFIG_PATH", "")}


def _ensure_local_experiment(uri: str, experiment: str) -> None:
    """Create the experiment of a SQLite tracking store with its artifacts beside the database.

    Why: MLflow's default artifact root for a database store is ``./mlruns`` relative to
    whatever the current directory is, which scatters run artifacts (and test leftovers)
    into the checkout. Servers (http) decide their own artifact root.
    """
    if not uri.startswith("sqlite:///"):
        return
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    if client.get_experiment_by_name(experiment) is None:
        artifacts = Path(uri[len("sqlite:///"):]).parent / "artifacts"
        client.create_experiment(experiment, artifact_location=artifacts.as_uri())


def absolute_tracking_uri(uri: str) -> str:
    """Relative ``sqlite:///x`` / ``file:x`` / plain paths -> absolute (relative to the repo root)."""
    if not uri or uri.startswith(("http://", "https://", "databricks")):
        return uri
    if uri.startswith("sqlite:///"):
        path = uri[len("sqlite:///"):]
        if not path.startswith("/"):
            full = REPO_ROOT / path
            full.parent.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{full}"
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return uri
    path = uri[len("file:"):] if uri.startswith("file:") else uri
    full = Path(path) if Path(path).is_absolute() else REPO_ROOT / path
    full.mkdir(parents=True, exist_ok=True)
    return f"file:{full}"


def ensure_stack(stack_cfg: StackConfig) -> str:
    """Make the profile's stack exist, match the profile, and be active; returns its name."""
    from zenml.enums import StackComponentType as T

    if stack_cfg.kind == "airflow":
        from ops.stack_airflow import ensure_airflow_stack

        return ensure_airflow_stack(stack_cfg)
    if stack_cfg.kind == "minio":
        try:
            from ops.stack_minio import ensure_minio_stack
        except ModuleNotFoundError as exc:
            raise ConfigError("stack kind minio needs ops/stack_minio.py (stack area), not found") from exc
        ensure_minio_stack(stack_cfg)
        return stack_cfg.name
    components: dict[Any, str] = {T.ORCHESTRATOR: DEFAULT_COMPONENT, T.ARTIFACT_STORE: DEFAULT_COMPONENT}
    if stack_cfg.kind == "mlflow":
        tracker = f"{MLFLOW_TRACKER_PREFIX}_{stack_cfg.name}"
        configuration: dict[str, Any] = {}
        uri = absolute_tracking_uri(stack_cfg.mlflow_tracking_uri)
        if uri:
            configuration["tracking_uri"] = uri
            _ensure_local_experiment(uri, stack_cfg.mlflow_experiment)
        configuration["experiment_name"] = stack_cfg.mlflow_experiment
        ensure_component(tracker, T.EXPERIMENT_TRACKER, "mlflow", configuration)
        components[T.EXPERIMENT_TRACKER] = tracker
    ensure_named_stack(stack_cfg.name, components)
    return stack_cfg.name


def experiment_tracker_name() -> str | None:
    """Name of the active stack's experiment tracker (None on the local stack)."""
    from zenml.client import Client

    tracker = Client().active_stack_model.components.get(__import__(
        "zenml.enums", fromlist=["StackComponentType"]).StackComponentType.EXPERIMENT_TRACKER)
    return tracker[0].name if tracker else None
