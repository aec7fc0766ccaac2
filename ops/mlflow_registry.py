"""Mirror a ZenML model version into MLflow: a tagged run and the MLflow Model Registry.

Why: the open-source ZenML dashboard has no model page, so on the profiles with MLflow
(mlflow, minio) the MLflow UI is where a user sees the versions, their stage (as the
registered model's aliases ``production`` / ``staging``), metrics, data years and the ZenML
run that made them. And a run served from ZenML's step cache executes no step, so without
this the MLflow profile right after a local run would leave MLflow with no run at all.

``mirror_version`` is called by ``run.py train`` after every run on such a profile:
- the MLflow run the evaluate step logged (its id is in the version's ``mlflow`` metadata)
  gets the tags; when the steps came from the cache there is none, so a run named
  ``<zenml run> (cached)`` is created with the version's metrics, params and tags;
- the MLflow registered model ``road_accident_severity`` gets one version per ZenML version
  (found again by its ``zenml_version`` tag, never duplicated), its model logged from the
  ZenML ``severity_model`` artifact, and the stage alias moved to it;
- ``mirror_stage_holders`` registers the versions holding production/staging that are not
  mirrored yet (e.g. trained on the local profile), with their alias.

``run.py promote`` on such a profile calls ``mirror_stage_holders`` then ``sync_stages``:
every mirrored version's ``zenml.stage`` tag and the two aliases follow ZenML's stages
(an archived version loses its alias, a stage nobody holds has no alias).
"""

from __future__ import annotations

import contextlib
from typing import Any

from accidents.constants import MODEL_NAME

#: Tags every mirrored MLflow run and registry version carries.
TAG_VERSION = "zenml.model_version"
TAG_SYNTHETIC = "data.synthetic"
#: ZenML stages that are MLflow aliases (an archived version loses its alias).
ALIASES = ("production", "staging")
#: Test metrics shown as tags of a registry version (the MLflow run has them all): the ones
#: promotion and the gates read, so the registry's table stays readable.
REGISTRY_METRICS = ("test_roc_auc", "test_pr_auc", "test_f1_severe", "test_brier")
#: The local ZenML dashboard's address (``run.py dashboard``, ZenML's default port): the
#: link to the run that made a version, in its tags and its (Markdown) description.
DASHBOARD_URL = "http://127.0.0.1:8237"


def run_url(run_id: str) -> str:
    """The ZenML dashboard page of pipeline run ``run_id``."""
    return f"{DASHBOARD_URL}/projects/default/runs/{run_id}"


def _tags(result: dict[str, Any], years: list[int]) -> dict[str, str]:
    return {
        TAG_VERSION: str(result["model_version"]),
        "zenml.model": str(result["model_name"]),
        "zenml.stage": str(result["stage"]),
        "zenml.run_name": str(result["run_name"]),
        "zenml.run_id": str(result["run_id"]),
        "zenml.run_url": run_url(str(result["run_id"])),
        TAG_SYNTHETIC: "true" if result["synthetic"] else "false",
        "data.source": str(result["data_source"]),
        "data.years": ",".join(str(y) for y in years),
        "model.kind": str(result["model_kind"]),
    }


def mirror_version(tracking_uri: str, experiment: str, result: dict[str, Any], years: list[int],
                   mlflow_meta: dict[str, Any] | None, load_model: Any,
                   only_if_missing: bool = False) -> dict[str, Any]:
    """Tag (or create) the version's MLflow run and register it; returns ids for the record.

    ``mlflow_meta``: the version's ``mlflow`` metadata (run id) when a step logged a run in
    *this* invocation; ``load_model``: a callable giving the sklearn pipeline (only called
    when the registry has no version for this ZenML version yet).
    """
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri=tracking_uri)
    if only_if_missing:  # an older version holding a stage: only its alias, once it is mirrored
        existing = _registered(client, result["model_version"])
        if existing is not None:
            if str(result["stage"]) in ALIASES:
                client.set_registered_model_alias(MODEL_NAME, str(result["stage"]), existing.version)
            return {"run_id": existing.run_id, "cached": True, "registered_model": MODEL_NAME,
                    "registry_version": str(existing.version), "tracking_uri": tracking_uri}
    tags = _tags(result, years)
    metrics = {f"test_{k}": float(v) for k, v in (result.get("metrics") or {}).items()
               if isinstance(v, (int, float)) and v == v}
    run_id = (mlflow_meta or {}).get("run_id")
    cached = run_id is None or _run_missing(client, run_id)
    if cached:
        experiment_id = _experiment_id(client, experiment)
        with mlflow.start_run(experiment_id=experiment_id,
                              run_name=f"{result['run_name']} (cached)") as run:
            run_id = run.info.run_id
            mlflow.log_metrics(metrics)
            if result.get("threshold") is not None:
                mlflow.log_param("threshold", round(float(result["threshold"]), 6))
            mlflow.set_tags({**tags, "zenml.cache_hit": "true"})
    else:
        for key, value in tags.items():
            client.set_tag(run_id, key, value)
    registry_version = _register(client, result, tags, metrics, run_id, load_model)
    return {"run_id": run_id, "cached": cached, "registered_model": MODEL_NAME,
            "registry_version": registry_version, "tracking_uri": tracking_uri}


def _registered(client: Any, zenml_version: Any) -> Any | None:
    """The registry version mirroring ZenML version ``zenml_version``, if any."""
    from mlflow.exceptions import MlflowException

    try:
        found = client.search_model_versions(
            f"name = '{MODEL_NAME}' and tags.`{TAG_VERSION}` = '{zenml_version}'")
    except MlflowException:  # no registered model yet
        return None
    return found[0] if found else None


def _run_missing(client: Any, run_id: str) -> bool:
    try:
        client.get_run(run_id)
    except Exception:  # noqa: BLE001 - another tracking store (profile switched): log a new run
        return True
    return False


def _experiment_id(client: Any, name: str) -> str:
    found = client.get_experiment_by_name(name)
    return found.experiment_id if found is not None else client.create_experiment(name)


def _register(client: Any, result: dict[str, Any], tags: dict[str, str], metrics: dict[str, float],
              run_id: str, load_model: Any) -> str:
    """The registry version of this ZenML version (created once), with its alias and tags."""
    import mlflow
    import mlflow.sklearn
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(MODEL_NAME)
    except MlflowException:
        client.create_registered_model(MODEL_NAME, description="Mirror of the ZenML model "
                                       f"{MODEL_NAME}: one version per ZenML version, stage as alias")
    existing = _registered(client, result["model_version"])
    if existing is not None:
        version = existing.version
    else:
        with mlflow.start_run(run_id=run_id):
            # cloudpickle: MLflow 3's default (skops) refuses the pipeline's own transformer
            info = mlflow.sklearn.log_model(load_model(), name="registry_model",
                                            serialization_format="cloudpickle")
        # model_id: an MLflow server refuses a models:/ source without it (file stores accept it)
        created = client.create_model_version(MODEL_NAME, info.model_uri, run_id=run_id, tags=tags,
                                              model_id=info.model_id,
                                              description=f"ZenML {MODEL_NAME} version "
                                                          f"{result['model_version']}, made by run "
                                                          f"[{result['run_name']}]({run_url(str(result['run_id']))})")
        version = created.version
    shown = {k: f"{v:.4f}" for k, v in metrics.items() if k in REGISTRY_METRICS}
    for key, value in {**tags, **shown}.items():
        client.set_model_version_tag(MODEL_NAME, version, key, value)
    stage = str(result["stage"])
    if stage in ALIASES:
        client.set_registered_model_alias(MODEL_NAME, stage, version)
    for alias in ALIASES:  # an alias still pointing here from an older stage goes away
        if alias != stage:
            try:
                if client.get_model_version_by_alias(MODEL_NAME, alias).version == version:
                    client.delete_registered_model_alias(MODEL_NAME, alias)
            except MlflowException:
                pass
    return str(version)


def mirror_stage_holders(tracking_uri: str, experiment: str, years: list[int], model_kind: str,
                         skip: int | None = None) -> dict[str, str]:
    """Register (once) the ZenML versions holding production / staging, with their alias;
    ``skip``: a version the caller mirrors itself. Returns stage -> registry version."""
    from zenml.client import Client
    from zenml.enums import ModelStages

    from accidents.constants import ARTIFACT_MODEL

    client = Client()
    found: dict[str, str] = {}
    for stage in ALIASES:
        try:
            holder = client.get_model_version(MODEL_NAME, ModelStages(stage))
        except KeyError:
            continue
        if holder.number == skip:
            continue
        mirrored = mirror_version(tracking_uri, experiment, _holder_result(holder, stage, model_kind), years,
                                  None, lambda holder=holder: holder.get_artifact(ARTIFACT_MODEL).load(),
                                  only_if_missing=True)
        found[stage] = mirrored["registry_version"]
    return found


def _holder_result(version: Any, stage: str, model_kind: str) -> dict[str, Any]:
    """What mirror_version needs about an older version, from its ZenML metadata."""
    from zenml.client import Client

    from ops import registry

    # the first run linked to the version (ModelVersionResponse.pipeline_run_ids is deprecated)
    links = Client().list_model_version_pipeline_run_links(model_version_id=version.id, size=1,
                                                           sort_by="asc:created")
    run = links.items[0].pipeline_run if links.items else None
    run_name, run_id = (run.name, run.id) if run is not None else ("?", "?")
    data = (dict(version.run_metadata or {}).get("data_summary") or {})
    source = str(data.get("source", "?"))
    return {"model_version": version.number, "model_name": MODEL_NAME, "stage": stage,
            "run_name": run_name, "run_id": str(run_id),
            # as the ingest step recorded it (a retrain's folder of links to synthetic files is
            # `dir` yet synthetic); metadata older than that record: its source decides
            "synthetic": bool(data.get("synthetic", source == "synthetic")),
            "data_source": source, "model_kind": model_kind,
            "metrics": registry.metrics(version), "threshold": None}


def sync_stages(tracking_uri: str, zenml_stages: dict[str, str]) -> dict[str, str]:
    """Make the registry follow ZenML after a stage change outside training.

    ``zenml_stages``: ZenML version number (as text) -> its stage (``none`` included). Every
    mirrored registry version gets its ``zenml.stage`` tag; each alias points at the version
    holding that stage, and is removed when no mirrored version holds it. Returns alias ->
    registry version.
    """
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    aliases: dict[str, str] = {}
    for mirrored in client.search_model_versions(f"name = '{MODEL_NAME}'"):
        stage = zenml_stages.get(str(mirrored.tags.get(TAG_VERSION)))
        if stage is None:
            continue
        client.set_model_version_tag(MODEL_NAME, mirrored.version, "zenml.stage", stage)
        if stage in ALIASES:
            client.set_registered_model_alias(MODEL_NAME, stage, mirrored.version)
            aliases[stage] = str(mirrored.version)
    for alias in ALIASES:
        if alias not in aliases:
            with contextlib.suppress(MlflowException):  # no such alias: nothing to remove
                client.delete_registered_model_alias(MODEL_NAME, alias)
    return aliases
