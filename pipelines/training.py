"""The training pipeline: ingest -> validate -> features -> split -> train -> evaluate -> promote.

Every output is an artifact of the run and, through the pipeline's ZenML ``Model``, is
linked to the new model version (Model Control Plane). The experiment tracker name, when
given, is attached to the train and evaluate steps (MLflow profile).
"""

from __future__ import annotations

from zenml import Model, pipeline

from accidents import constants
from accidents.config import DataConfig, ModelConfig, PromotionConfig, SplitConfig
from accidents.data.source import ResolvedData
from steps.evaluate import evaluate_model
from steps.features import build_features
from steps.ingest import ingest_data
from steps.promote import promote_model
from steps.split import split_data
from steps.train import train_model
from steps.validate import validate_data

PIPELINE_NAME = "training"
#: Step names, for reading outputs back (ops.runner.output).
STEP_EVALUATE = evaluate_model.name
STEP_PROMOTE = promote_model.name


def severity_model(description_suffix: str = "") -> Model:
    """The one ZenML Model of the project (a new version per run)."""
    return Model(
        name=constants.MODEL_NAME,
        license=constants.MODEL_LICENSE,
        description=constants.MODEL_DESCRIPTION + description_suffix,
        tags=list(constants.MODEL_TAGS),
    )


@pipeline(name=PIPELINE_NAME, model=severity_model())
def training(
    data: DataConfig,
    resolved: ResolvedData,
    fingerprint: str,
    target: str,
    split: SplitConfig,
    model: ModelConfig,
    gates: dict[str, float],
    promotion: PromotionConfig,
    experiment_tracker: str | None = None,
) -> None:
    """Train, evaluate and promote one model version from one profile's typed sections.

    The sections are the validated ``accidents.config`` dataclasses; ZenML stores them as
    JSON parameters and hands each step the same dataclass back. ``resolved`` is the data
    source the command decided once for this run, ``fingerprint`` hashes its files.
    """
    caracteristiques, lieux, vehicules, usagers, load_report = ingest_data(
        data=data, resolved=resolved, fingerprint=fingerprint)
    validate_data(caracteristiques, lieux, vehicules, usagers, years=list(data.years))
    table, data_summary = build_features(caracteristiques, lieux, vehicules, usagers, load_report, target=target,
                           after="validate_data")
    train, validation, test, _assignment = split_data(table, split=split)
    trainer, evaluator = train_model, evaluate_model
    if experiment_tracker:
        trainer = train_model.with_options(experiment_tracker=experiment_tracker)
        evaluator = evaluate_model.with_options(experiment_tracker=experiment_tracker)
    fitted = trainer(train, model=model)
    threshold, test_metrics, validation_metrics, *_plots = evaluator(fitted, validation, test)
    promote_model(test, test_metrics, validation_metrics, threshold, data_summary, gates=gates,
                  promotion=promotion)
