"""Deployment step: a model version of the Model Control Plane -> BentoML model + Bento.

Thin on purpose: ZenML look-ups here, the export itself in ops/bento_export.py.
"""

from __future__ import annotations

from typing import Annotated, Any

from zenml import log_metadata, step
from zenml.client import Client
from zenml.enums import ModelStages

from accidents.constants import ARTIFACT_MODEL, META_DATA, META_METRICS, META_THRESHOLD, MODEL_NAME
from accidents.errors import UserError
from steps._common import json_safe

META_DEPLOYMENT = "deployment"


class NoProductionVersion(UserError):
    """There is nothing to deploy (no production version, or the named one does not exist)."""


def resolve_version(version: str | None, model_name: str = MODEL_NAME) -> Any:
    """The named model version, or the current production one; clear error when there is none."""
    client = Client()
    try:
        client.get_model(model_name)
    except KeyError:
        raise NoProductionVersion(f"no ZenML model {model_name!r} yet: train one first "
                                  "(python run.py train)") from None
    if version is None:
        try:
            return client.get_model_version(model_name, ModelStages.PRODUCTION)
        except KeyError:
            raise NoProductionVersion(
                f"model {model_name!r} has no production version to deploy: promote one "
                "(python run.py promote VERSION --stage production) or name one with --version "
                "(python run.py models lists them)") from None
    try:
        return client.get_model_version(model_name, version)
    except KeyError:
        raise NoProductionVersion(f"model {model_name!r} has no version {version!r} "
                                  "(python run.py models lists them)") from None


@step(enable_cache=False)
def export_to_bento(version: str | None = None, build: bool = True) -> Annotated[dict, "bento_export"]:
    """Save the version's model into the BentoML store (labels + metadata) and build the Bento."""
    from ops import bento_export

    mv = resolve_version(version)
    meta = mv.run_metadata or {}
    model = mv.get_artifact(ARTIFACT_MODEL).load()
    stage = str(getattr(mv.stage, "value", mv.stage) or "none")
    years = (meta.get(META_DATA) or {}).get("years") or []
    exported = bento_export.export(
        model, zenml_version=str(mv.number), threshold=float(meta.get(META_THRESHOLD, 0.5)),
        metrics=json_safe(meta.get(META_METRICS) or {}), data_years=years, stage=stage,
        zenml_model=mv.model.name, build=build,
        extra_metadata={"zenml_model_version_id": str(mv.id)},
    )
    result = {"model_version": str(mv.number), "stage": stage, "model_tag": exported.model_tag,
              "bento_tag": exported.bento_tag}
    log_metadata(metadata={META_DEPLOYMENT: result}, model_version_id=mv.id)
    return result
