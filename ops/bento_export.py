"""Export a trained model to BentoML: model store entry + Bento built from bentofile.yaml.

Why in the domain package (no ZenML import): the deployment step passes what it read from
the Model Control Plane (model object, version, metrics, threshold, features, years), and
the service tests call the same functions with a model trained in-process, so the exact
export path the product uses is the one under test.

The model is stored with ``bentoml.sklearn`` (joblib) under ``constants.BENTO_MODEL_NAME``
with labels (ZenML model name/version, stage) and metadata (threshold, metrics, feature
list, training years). The Bento is tagged ``<service>:<model version>`` and pins the
exact model-store tag through the Bento argument ``model_tag`` (``bentoml.use_arguments``
in service.py), so serving the Bento always loads the model it was built with. The
profile's ``serving`` section (absolute prediction-log path, rotation, body size limit) is
baked in the same way (``serving_args``), so the served Bento writes its log where
``run.py monitor`` reads it, outside the Bento, whatever the server's working directory.

The store is per project: ``run.py`` sets ``BENTOML_HOME`` to ``<clone>/bentoml-home``
unless it is already set (``PROJECT_BENTOML_HOME``), so two clones on one machine never
replace each other's ``road_accident_severity:v3``; ``bentoml serve``/``containerize`` by
hand need the same ``BENTOML_HOME`` (``run.py deploy`` prints the command).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accidents.constants import BENTO_MODEL_NAME, BENTO_SERVICE_NAME, BENTOML_HOME_DIR, MODEL_NAME
from accidents.errors import UserError
from accidents.learning.features import MODEL_INPUT_COLUMNS

REPO_ROOT = Path(__file__).resolve().parents[1]
BENTOFILE = REPO_ROOT / "bentofile.yaml"
#: This clone's BentoML store (model store + Bentos), used unless $BENTOML_HOME is set.
PROJECT_BENTOML_HOME = REPO_ROOT / BENTOML_HOME_DIR
#: Profile ``serving`` keys baked into the Bento as arguments (service.BentoArgs).
SERVING_ARG_KEYS = ("prediction_log", "prediction_log_max_mb", "prediction_log_rotate",
                    "prediction_log_keep", "prediction_log_compress", "max_body_mb")
#: Metadata keys on the BentoML model (read back by service.py).
META_KEYS = ("zenml_model", "zenml_version", "threshold", "metrics", "feature_columns", "data_years")


class ExportError(UserError):
    """The model cannot be exported or the Bento cannot be built (message says why)."""


@dataclass(frozen=True)
class ExportedModel:
    """What was exported: the model-store tag and, once built, the Bento tag."""

    model_tag: str
    bento_tag: str | None = None


def bento_version(zenml_version: str | int) -> str:
    """A BentoML-valid version string for a ZenML model version (``3`` -> ``v3``)."""
    text = re.sub(r"[^a-z0-9._-]+", "-", str(zenml_version).strip().lower()).strip("-._")
    if not text:
        raise ExportError(f"model version {zenml_version!r} gives an empty Bento version")
    return f"v{text}" if text[0].isdigit() else text


def serving_args(serving: Mapping[str, Any]) -> dict[str, Any]:
    """The Bento arguments from a profile's ``serving`` section, checked, log path absolute."""
    from accidents.config import resolve_path
    from accidents.serving.prediction_log import LogSettings
    from accidents.serving.request_limits import max_body_mb

    log = LogSettings(path=resolve_path(serving["prediction_log"]).resolve(),
                      max_mb=float(serving["prediction_log_max_mb"]),
                      rotate=str(serving["prediction_log_rotate"]),
                      keep=int(serving["prediction_log_keep"]),
                      compress=bool(serving["prediction_log_compress"]))
    body_mb = float(serving["max_body_mb"])
    if not body_mb > 0:
        raise ExportError(f"serving.max_body_mb must be > 0, got {body_mb!r}")
    max_body_mb(body_mb)
    return {"prediction_log": str(log.path), "prediction_log_max_mb": log.max_mb,
            "prediction_log_rotate": log.rotate, "prediction_log_keep": log.keep,
            "prediction_log_compress": log.compress, "max_body_mb": body_mb}


def _jsonable(value: Any) -> Any:
    """Metadata must be plain JSON (numpy scalars and tuples are converted)."""
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


def save_model(
    model: Any,
    *,
    zenml_version: str | int,
    threshold: float,
    metrics: Mapping[str, Any],
    data_years: Sequence[int],
    zenml_model: str = MODEL_NAME,
    stage: str = "production",
    feature_columns: Sequence[str] = MODEL_INPUT_COLUMNS,
    extra_metadata: Mapping[str, Any] | None = None,
) -> str:
    """Save ``model`` (the sklearn Pipeline) into the BentoML model store; returns its tag."""
    import bentoml

    if not hasattr(model, "predict_proba"):
        raise ExportError(f"the model to export has no predict_proba (got {type(model).__name__})")
    if not 0.0 <= float(threshold) <= 1.0:
        raise ExportError(f"threshold {threshold!r} is not a probability in [0, 1]")
    labels = {
        "zenml_model": zenml_model,
        "zenml_version": str(zenml_version),
        "stage": stage,
    }
    metadata = _jsonable({
        "zenml_model": zenml_model,
        "zenml_version": str(zenml_version),
        "threshold": float(threshold),
        "metrics": dict(metrics),
        "feature_columns": list(feature_columns),
        "data_years": [int(y) for y in data_years],
        **dict(extra_metadata or {}),
    })
    saved = bentoml.sklearn.save_model(BENTO_MODEL_NAME, model, labels=labels, metadata=metadata)
    return str(saved.tag)


def _ensure_uv_on_path() -> None:
    """``bentoml build`` freezes requirements with ``uv`` and would try ``pip install uv``
    (absent from a uv-made venv); put the project's own uv on PATH instead."""
    if shutil.which("uv"):
        return
    for folder in (REPO_ROOT / ".uv-boot" / "bin", REPO_ROOT / ".venv" / "bin"):
        if (folder / "uv").is_file():
            os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"
            return
    raise ExportError("`bentoml build` needs the `uv` executable on PATH (make venv bootstraps it "
                      "into .uv-boot/bin); none found")


def build_bento(model_tag: str, zenml_version: str | int, *, bentofile: Path = BENTOFILE,
                build_ctx: Path = REPO_ROOT, replace: bool = True,
                serving: Mapping[str, Any] | None = None) -> str:
    """``bentoml build`` of ``bentofile`` pinned to ``model_tag``; returns the Bento tag.

    The Bento is tagged with the model version; rebuilding the same version replaces the
    previous Bento of that tag (``replace``) instead of failing. The prediction log lives
    outside the Bento, so a rebuild keeps it. ``serving`` (the profile's section) is
    baked in as Bento arguments (``serving_args``).
    """
    import bentoml
    from bentoml.exceptions import NotFound

    if not bentofile.is_file():
        raise ExportError(f"bentofile {bentofile} not found")
    _ensure_uv_on_path()
    version = bento_version(zenml_version)
    tag = f"{BENTO_SERVICE_NAME}:{version}"
    try:
        bentoml.get(tag)
    except NotFound:
        pass
    else:
        if not replace:
            raise ExportError(f"Bento {tag} already exists (delete it or build with replace=True)")
        bentoml.delete(tag)
    bento = bentoml.bentos.build_bentofile(
        str(bentofile),
        build_ctx=str(build_ctx),
        version=version,
        labels={"zenml_version": str(zenml_version), "model_tag": model_tag.replace(":", "_")},
        args={"model_tag": model_tag, **(serving_args(serving) if serving else {})},
    )
    return str(bento.tag)


def export(model: Any, *, zenml_version: str | int, threshold: float, metrics: Mapping[str, Any],
           data_years: Sequence[int], build: bool = True, serving: Mapping[str, Any] | None = None,
           **kwargs: Any) -> ExportedModel:
    """``save_model`` then (``build``) ``build_bento``: the whole export in one call."""
    model_tag = save_model(model, zenml_version=zenml_version, threshold=threshold,
                           metrics=metrics, data_years=data_years, **kwargs)
    bento_tag = build_bento(model_tag, zenml_version, serving=serving) if build else None
    return ExportedModel(model_tag=model_tag, bento_tag=bento_tag)


def containerize(bento_tag: str) -> str:
    """Build the Bento's image: Docker when present, else container/build-image.sh (buildah).

    Returns the command that was run. Raises ExportError saying what is missing.
    """
    script = REPO_ROOT / "container" / "build-image.sh"
    if shutil.which("docker"):
        cmd = [str(Path(shutil.which("bentoml") or "bentoml")), "containerize", bento_tag]
    elif shutil.which("buildah") and script.is_file():
        cmd = ["bash", str(script), bento_tag]
    else:
        raise ExportError(
            "cannot containerize: no Docker engine (docker) and no buildah with "
            f"{script.relative_to(REPO_ROOT)}; install one, or run `bentoml containerize "
            f"{bento_tag}` on a machine with Docker"
        )
    result = subprocess.run(cmd, check=False)
    if result.returncode != 0:
        raise ExportError(f"`{' '.join(cmd)}` failed with exit code {result.returncode}")
    return " ".join(cmd)
