"""Pipeline ``deployment``: a model version (production by default) -> BentoML model + Bento.

Why a pipeline for one step: the run is recorded in ZenML next to the training runs (who
exported which version, when), and the export's result is logged on the model version as
``deployment`` metadata. No model context on the pipeline itself: the version to deploy
may be a named one, resolved inside the step.
"""

from __future__ import annotations

from zenml import pipeline

from steps.deploy import export_to_bento

PIPELINE_NAME = "deployment"
#: Step names, for reading outputs back (ops.runner.output).
STEP_EXPORT = export_to_bento.name


@pipeline(name=PIPELINE_NAME, enable_cache=False)
def deployment_pipeline(version: str | None = None, build: bool = True,
                        serving: dict | None = None) -> dict:
    """Export ``version`` (or the production version) and build its Bento (``serving``: the
    profile's serving section, baked into the Bento)."""
    return export_to_bento(version=version, build=build, serving=serving)
