"""``run.py models`` (list versions with stage and key metrics) and ``run.py promote``.

Why a CLI view: the open-source ZenML dashboard has no Model Control Plane page, so this is
where a user sees which version serves and why. ``promote`` applies the same rules as the
pipeline's promote step (gates, and beating production on the *candidate's* test data by the
profile's margin) unless ``--force``; every manual decision is logged on the version.
"""

from __future__ import annotations

import argparse
from typing import Any

from accidents.errors import UserError

STAGES = ("production", "staging", "archived")


def register(subparsers: argparse._SubParsersAction) -> None:
    from cli.train import add_config_argument

    listing = subparsers.add_parser(
        "models", help="list model versions with stage and key metrics",
        description="List the versions of the ZenML model with their stage, test metrics and the "
                    "promotion decision of the run that made them.")
    listing.add_argument("--limit", type=int, default=30, help="newest N versions (default 30)")
    listing.set_defaults(handler=handle_models)

    promote = subparsers.add_parser(
        "promote", help="set the stage of a model version (with the pipeline's safety checks)",
        description="Move VERSION to a stage. production: the version must pass the profile's gates "
                    "and beat the current production version on VERSION's own test data by the "
                    "profile's margin (the former production version is archived). staging: gates "
                    "only. archived: refused for the production version. --force skips the checks.")
    promote.add_argument("version", help="model version number (or name)")
    promote.add_argument("--stage", required=True, choices=STAGES, help="target stage")
    promote.add_argument("--force", action="store_true", help="skip the safety checks (logged as forced)")
    add_config_argument(promote)
    promote.set_defaults(handler=handle_promote)


def _client() -> Any:
    from ops.stacks import prepare_zenml_env

    prepare_zenml_env()
    from zenml.client import Client

    return Client()


def list_versions(limit: int = 30) -> list[dict[str, Any]]:
    """Newest first: number, stage, kind, metrics, decision (plain dicts; also used by tests)."""
    from accidents.constants import META_METRICS, META_PROMOTION, META_THRESHOLD, MODEL_NAME

    client = _client()
    try:
        client.get_model(MODEL_NAME)
    except KeyError:
        return []
    page = client.list_model_versions(model=MODEL_NAME, sort_by="desc:number", size=limit,
                                      hydrate=True)
    rows = []
    for version in page.items:
        meta = version.run_metadata or {}
        metrics = meta.get(META_METRICS) or {}
        decision = meta.get(META_PROMOTION) or {}
        rows.append({
            "version": version.number, "name": version.name,
            "stage": str(getattr(version.stage, "value", version.stage) or "-"),
            "created": version.created.strftime("%Y-%m-%d %H:%M"),
            "roc_auc": metrics.get("roc_auc"), "pr_auc": metrics.get("pr_auc"),
            "f1_severe": metrics.get("f1_severe"), "threshold": meta.get(META_THRESHOLD),
            "decision": decision.get("stage"), "reason": decision.get("reason", ""),
            "data": (meta.get("data_summary") or {}).get("source"),
        })
    return rows


def handle_models(args: argparse.Namespace) -> int:
    rows = list_versions(args.limit)
    if not rows:
        print("no model versions yet: run `python run.py` to train one")
        return 0

    def num(value: Any) -> str:
        return f"{value:.4f}" if isinstance(value, (int, float)) else "-"

    print(f"{'version':>7}  {'stage':<10} {'created':<16} {'roc_auc':>8} {'pr_auc':>8} {'f1_sev':>8} "
          f"{'thresh':>7} {'data':<9}  decision at training")
    for r in rows:
        print(f"{r['version']:>7}  {r['stage']:<10} {r['created']:<16} {num(r['roc_auc']):>8} "
              f"{num(r['pr_auc']):>8} {num(r['f1_severe']):>8} {num(r['threshold'])[:7]:>7} "
              f"{(r['data'] or '-'):<9}  {r['reason'][:90]}")
    return 0


def handle_promote(args: argparse.Namespace) -> int:
    result = promote_version(args.version, args.stage, args.force, args.config)
    print(f"model version {result['candidate_version']} -> {result['stage']}: {result['reason']}")
    if result.get("archived_version"):
        print(f"former {args.stage} version {result['archived_version']} archived")
    return 0


def promote_version(version: str, stage: str, force: bool = False, profile: str = "local") -> dict[str, Any]:
    """Manual stage change with the pipeline's checks; raises UserError when refused."""
    from zenml.enums import ModelStages

    from accidents.config import load_config
    from accidents.constants import ARTIFACT_TEST_FEATURES, META_PROMOTION, MODEL_NAME
    from accidents.learning.promotion import STAGE_PRODUCTION, STAGE_STAGING, Decision, decide
    from steps.promote import current_production, score_version_on

    client = _client()
    try:
        candidate = client.get_model_version(MODEL_NAME, version)
    except KeyError:
        raise UserError(f"model {MODEL_NAME} has no version {version!r} (see `python run.py models`)") from None
    config = load_config(profile)
    production = current_production()
    if stage == "archived":
        if production is not None and production.id == candidate.id and not force:
            raise UserError(f"version {candidate.name} is in production; archiving it leaves nothing to "
                            "serve. Promote another version instead, or use --force")
        decision = Decision("archived", "archived manually")
    elif force:
        decision = Decision(stage, f"forced manually to {stage} (safety checks skipped)")
    else:
        try:
            test = candidate.get_artifact(ARTIFACT_TEST_FEATURES).load()
        except Exception as exc:  # noqa: BLE001
            raise UserError(f"version {candidate.name} has no readable {ARTIFACT_TEST_FEATURES} artifact "
                            f"({exc}); use --force to promote it without checks") from None
        cand_metrics = score_version_on(candidate, test)
        prod_metrics = None
        if stage == "production" and production is not None and production.id != candidate.id:
            prod_metrics = score_version_on(production, test)
        decision = decide(cand_metrics, config.gates, prod_metrics,
                          production.name if prod_metrics is not None else None,
                          config.promotion.metric, config.promotion.margin,
                          config.promotion.guard_metrics, config.promotion.guard_tolerance)
        wanted = STAGE_PRODUCTION if stage == "production" else STAGE_STAGING
        reached = decision.stage == wanted or (wanted == STAGE_STAGING and decision.stage == STAGE_PRODUCTION)
        if not reached:
            raise UserError(f"refused to move version {candidate.name} to {stage}: {decision.reason} "
                            "(--force to override)")
        decision = Decision(stage, f"manual: {decision.reason}", compared_with=decision.compared_with,
                            candidate_score=decision.candidate_score,
                            production_score=decision.production_score, metric=decision.metric)
    target = ModelStages(stage)
    try:
        previous = client.get_model_version(MODEL_NAME, target)
    except KeyError:
        previous = None
    if stage == "archived":
        candidate.set_stage(target, force=True)
        previous = None
    else:
        candidate.set_stage(target, force=True)
    archived = previous.name if previous is not None and previous.id != candidate.id else None
    record = {**decision.as_metadata(), "manual": True, "forced": bool(force),
              "candidate_version": candidate.name}
    if archived:
        record["archived_version"] = archived
    from zenml import log_metadata

    log_metadata(metadata={f"{META_PROMOTION}_manual": record}, model_name=MODEL_NAME,
                 model_version=candidate.name)
    return record
