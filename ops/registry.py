"""The Model Control Plane in one place: which version serves, its threshold, stages, promotion.

Why one module: "which version is in production", "what is this version's threshold" and
"may this version be promoted" were answered in six places with four different contracts
(None, KeyError, a step-local error, a silent 0.5). Every step and every command now asks
here. No CLI parsing and no environment set-up: callers prepare ZenML first
(``ops.runner.prepare``); steps call it from inside a run.

Contracts:
- ``find_production()`` returns None when there is no production version;
  ``production_version()`` raises ``NoProductionVersion`` (a UserError saying how to get one).
- ``named_version()`` / ``resolve_version()`` raise ``UnknownModelVersion``.
- ``threshold()`` raises ``MissingThreshold``: a version without its threshold is broken,
  and scoring it at an invented 0.5 would compare or serve the wrong model silently.
- ``promote()`` is THE promotion flow (the ``promote_model`` step and ``run.py promote``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from zenml import log_metadata
from zenml.client import Client
from zenml.enums import ModelStages

from accidents.config import PromotionConfig
from accidents.constants import (
    ARTIFACT_MODEL,
    ARTIFACT_TEST_FEATURES,
    META_DATA,
    META_METRICS,
    META_MONITORING,
    META_PROMOTION,
    META_THRESHOLD,
    MODEL_NAME,
)
from accidents.errors import UserError
from accidents.learning import evaluation as ev
from accidents.learning.features import TARGET
from accidents.learning.model import predict_proba
from accidents.learning.promotion import (
    STAGE_ARCHIVED,
    STAGE_NONE,
    STAGE_PRODUCTION,
    STAGE_STAGING,
    Decision,
    decide,
)

#: Metadata key of a manual stage change (the pipeline's decision stays under META_PROMOTION).
META_PROMOTION_MANUAL = f"{META_PROMOTION}_manual"


class UnknownModelVersion(UserError):
    """The model, or the named version of it, does not exist in the ZenML store."""


class NoProductionVersion(UnknownModelVersion):
    """No version of the model is in production (nothing to deploy or monitor)."""


class MissingThreshold(UserError):
    """A model version carries no decision threshold (it was not made by a complete run)."""


class PromotionRefused(UserError):
    """A manual stage change that the safety checks refuse (``--force`` overrides)."""


# --------------------------------------------------------------------------- look-ups


def model_exists(model_name: str = MODEL_NAME) -> bool:
    """Whether the ZenML model has been created (by a first training run)."""
    try:
        Client().get_model(model_name)
    except KeyError:
        return False
    return True


def find_production(model_name: str = MODEL_NAME) -> Any | None:
    """The production ModelVersionResponse, or None when no version is in production."""
    try:
        return Client().get_model_version(model_name, ModelStages.PRODUCTION)
    except KeyError:
        return None


def production_version(model_name: str = MODEL_NAME, purpose: str = "use") -> Any:
    """The production version; ``NoProductionVersion`` saying how to get one otherwise.

    ``purpose`` completes the message ("no production version to deploy").
    """
    if not model_exists(model_name):
        raise NoProductionVersion(f"no ZenML model {model_name!r} yet: train one first "
                                  "(.venv/bin/python run.py train)")
    production = find_production(model_name)
    if production is None:
        raise NoProductionVersion(
            f"model {model_name!r} has no production version to {purpose}: promote one "
            "(.venv/bin/python run.py promote VERSION --stage production) or train one that passes the "
            "gates (.venv/bin/python run.py --config <profile>); .venv/bin/python run.py models lists the versions")
    return production


def named_version(version: str | int, model_name: str = MODEL_NAME) -> Any:
    """A version by number or name; ``UnknownModelVersion`` when there is no such version."""
    if not model_exists(model_name):
        raise UnknownModelVersion(f"no ZenML model {model_name!r} yet: train one first "
                                  "(.venv/bin/python run.py train)")
    try:
        return Client().get_model_version(model_name, str(version))
    except KeyError:
        raise UnknownModelVersion(f"model {model_name!r} has no version {str(version)!r} "
                                  "(.venv/bin/python run.py models lists them)") from None


def resolve_version(version: str | int | None, model_name: str = MODEL_NAME,
                    purpose: str = "use") -> Any:
    """The named version, or the production one when ``version`` is None."""
    if version is None:
        return production_version(model_name, purpose)
    return named_version(version, model_name)


def stage_of(version: Any) -> str:
    """The version's stage as plain text (``none`` when it has none)."""
    stage = getattr(version, "stage", None)
    return str(getattr(stage, "value", stage) or STAGE_NONE)


def _meta(version: Any, key: str) -> Any:
    value = (getattr(version, "run_metadata", None) or {}).get(key)
    return getattr(value, "value", value)  # older stores wrap values


def threshold(version: Any) -> float:
    """The decision threshold chosen on validation when the version was trained.

    ``version``: a ModelVersionResponse or a ``zenml.Model`` (a step's context model).
    """
    value = _meta(version, META_THRESHOLD)
    if value is None:
        name = getattr(version, "number", None) or getattr(version, "name", "?")
        raise MissingThreshold(
            f"model version {name} has no {META_THRESHOLD!r} metadata (its training run did not "
            "reach the promote step); retrain, or pick another version (.venv/bin/python run.py models)")
    return float(value)


def metrics(version: Any) -> dict[str, Any]:
    """The version's test metrics as logged at training (empty when none)."""
    return dict(_meta(version, META_METRICS) or {})


def data_years(version: Any) -> list[int]:
    """The BAAC years the version was trained on (empty when unknown)."""
    return list((_meta(version, META_DATA) or {}).get("years") or [])


def load_model(version: Any) -> Any:
    """The version's fitted sklearn Pipeline."""
    return version.get_artifact(ARTIFACT_MODEL).load()


def score_version(version: Any, frame: pd.DataFrame) -> dict[str, float]:
    """Metrics of a stored version on a labelled frame, at that version's own threshold."""
    cut = threshold(version)
    return ev.compute_metrics(frame[TARGET], predict_proba(load_model(version), frame), cut)


def list_versions(limit: int = 30, model_name: str = MODEL_NAME) -> list[dict[str, Any]]:
    """Newest first: number, stage, metrics, threshold, decision (plain dicts; empty when no model)."""
    if not model_exists(model_name):
        return []
    page = Client().list_model_versions(model=model_name, sort_by="desc:number", size=limit,
                                        hydrate=True)
    rows = []
    for version in page.items:
        scores = metrics(version)
        decision = _meta(version, META_PROMOTION) or {}
        rows.append({
            "version": version.number, "name": version.name,
            "stage": stage_of(version) if version.stage else "-",
            "created": version.created.strftime("%Y-%m-%d %H:%M"),
            "roc_auc": scores.get("roc_auc"), "pr_auc": scores.get("pr_auc"),
            "f1_severe": scores.get("f1_severe"), "threshold": _meta(version, META_THRESHOLD),
            "decision": decision.get("stage"), "reason": decision.get("reason", ""),
            "data": (_meta(version, META_DATA) or {}).get("source"),
            "monitoring": _meta(version, META_MONITORING),  # the last run.py monitor on it
        })
    return rows


# --------------------------------------------------------------------------- stages


def set_stage(version: Any, stage: str) -> str | None:
    """Move ``version`` to ``stage``; returns the name of the version it displaced, if any.

    ``force=True``: the former holder of production/staging becomes archived (ZenML's rule).
    """
    target = ModelStages(stage)
    previous = None
    if stage != STAGE_ARCHIVED:
        try:
            previous = Client().get_model_version(version.model.name, target)
        except KeyError:
            previous = None
    version.set_stage(target, force=True)
    return previous.name if previous is not None and previous.id != version.id else None


def json_safe(value: Any) -> Any:
    """Metadata values ZenML can store: NaN -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def log_on_version(version: Any, metadata: dict[str, Any]) -> None:
    """Metadata on a model version (works inside a step and from a command)."""
    log_metadata(metadata=metadata, model_version_id=version.id)


# --------------------------------------------------------------------------- promotion


def decide_promotion(candidate: Any, candidate_metrics: Mapping[str, float],
                     test_features: pd.DataFrame, gates: Mapping[str, float],
                     promotion: PromotionConfig) -> tuple[Decision, dict | None]:
    """The candidate's stage by ``accidents.learning.promotion.decide``, against production.

    Production is scored *here*, on the candidate's own test frame and at production's own
    threshold, so both are measured on the same rows. Returns the decision and production's
    metrics on that frame (None when there is no other production version).
    """
    rules = promotion
    production = find_production(candidate.model.name)
    if production is not None and production.id == candidate.id:
        production = None
    if production is not None and (production.get_artifact(ARTIFACT_MODEL).id
                                   == candidate.get_artifact(ARTIFACT_MODEL).id):
        return Decision(STAGE_NONE, f"same model artifact as production version {production.name} "
                        "(unchanged, cached re-run): nothing to promote",
                        compared_with=production.name, metric=rules.metric), None
    production_metrics, note = None, ""
    if production is not None:
        try:
            production_metrics = score_version(production, test_features)
        except Exception as exc:  # noqa: BLE001 - an unreadable production model must not promote blindly
            production_metrics = {}
            note = f" (production version {production.name} could not be scored: {exc})"
    decision = decide(candidate_metrics, gates, production_metrics,
                      production.name if production is not None else None,
                      metric=rules.metric, margin=float(rules.margin),
                      guard_metrics=rules.guard_metrics, guard_tolerance=float(rules.guard_tolerance))
    if note:
        decision = Decision(**{**decision.__dict__, "reason": decision.reason + note})
    return decision, production_metrics


def promote(candidate: Any, gates: Mapping[str, float], promotion: PromotionConfig,
            *, test_features: pd.DataFrame | None = None,
            candidate_metrics: Mapping[str, float] | None = None,
            wanted: str | None = None, force: bool = False) -> dict[str, Any]:
    """THE promotion flow: decide, change the stage, record the decision on the version.

    Pipeline (``wanted`` None): the candidate goes where the rules put it (production,
    staging, or nowhere) and the record is logged under ``META_PROMOTION``.
    Manual (``wanted`` a stage): the rules must reach ``wanted`` (staging is reached by a
    production decision too) or ``PromotionRefused`` is raised; ``force`` skips the rules;
    archiving the production version needs ``force``. Logged under ``META_PROMOTION_MANUAL``.
    ``test_features`` default: the candidate's own test split artifact.
    """
    manual = wanted is not None
    production_metrics = None
    if wanted == STAGE_ARCHIVED:
        production = find_production(candidate.model.name)
        if production is not None and production.id == candidate.id and not force:
            raise PromotionRefused(f"version {candidate.name} is in production; archiving it leaves "
                                   "nothing to serve. Promote another version instead, or use --force")
        decision = Decision(STAGE_ARCHIVED, "archived manually")
    elif manual and force:
        decision = Decision(wanted, f"forced manually to {wanted} (safety checks skipped)")
    else:
        if test_features is None:
            try:
                test_features = candidate.get_artifact(ARTIFACT_TEST_FEATURES).load()
            except Exception as exc:  # noqa: BLE001 - any unreadable artifact: same advice
                raise PromotionRefused(f"version {candidate.name} has no readable {ARTIFACT_TEST_FEATURES} "
                                       f"artifact ({exc}); use --force to promote it without checks") from None
        if candidate_metrics is None:
            candidate_metrics = score_version(candidate, test_features)
        decision, production_metrics = decide_promotion(candidate, candidate_metrics, test_features,
                                                        gates, promotion)
        if manual:
            reached = decision.stage == wanted or (wanted == STAGE_STAGING
                                                   and decision.stage == STAGE_PRODUCTION)
            if not reached:
                raise PromotionRefused(f"refused to move version {candidate.name} to {wanted}: "
                                       f"{decision.reason} (--force to override)")
            decision = Decision(**{**decision.__dict__, "stage": wanted,
                                   "reason": f"manual: {decision.reason}"})
    archived = set_stage(candidate, decision.stage) if decision.stage != STAGE_NONE else None
    record: dict[str, Any] = {**decision.as_metadata(), "candidate_version": candidate.name,
                              "archived_version": archived,
                              "production_metrics_same_test": production_metrics}
    if manual:
        record.update(manual=True, forced=bool(force))
    record = json_safe({k: v for k, v in record.items() if v is not None})
    log_on_version(candidate, {META_PROMOTION_MANUAL if manual else META_PROMOTION: record})
    return record
