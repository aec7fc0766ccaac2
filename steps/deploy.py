"""Deployment step: a model version of the Model Control Plane -> BentoML model + Bento.

Thin on purpose: the look-ups are ``ops.registry``, the export itself ``ops.bento_export``.
"""

from __future__ import annotations

from typing import Annotated

from zenml import step

from accidents.constants import ARTIFACT_BENTO_EXPORT
from ops import registry

META_DEPLOYMENT = "deployment"


@step(enable_cache=False)
def export_to_bento(version: str | None = None, build: bool = True,
                    serving: dict | None = None) -> Annotated[dict, ARTIFACT_BENTO_EXPORT]:
    """Save the version's model into the BentoML store (labels + metadata) and build the Bento.

    ``serving``: the profile's serving section (prediction log, its rotation, body limit),
    baked into the Bento by ops/bento_export.py.
    """
    from ops import bento_export

    mv = registry.resolve_version(version, purpose="deploy")
    stage = registry.stage_of(mv)
    exported = bento_export.export(
        registry.load_model(mv), zenml_version=str(mv.number), threshold=registry.threshold(mv),
        metrics=registry.json_safe(registry.metrics(mv)), data_years=registry.data_years(mv),
        stage=stage, zenml_model=mv.model.name, build=build, serving=serving,
        extra_metadata={"zenml_model_version_id": str(mv.id)},
    )
    result = {"model_version": str(mv.number), "stage": stage, "model_tag": exported.model_tag,
              "bento_tag": exported.bento_tag,
              "prediction_log": bento_export.serving_args(serving)["prediction_log"] if serving else None}
    registry.log_on_version(mv, {META_DEPLOYMENT: result})
    return result
