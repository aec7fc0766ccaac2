"""``run.py models`` (list versions with stage and key metrics) and ``run.py promote``.

Why a CLI view: the open-source ZenML dashboard has no Model Control Plane page, so this is
where a user sees which version serves and why. ``promote`` applies the same rules as the
pipeline's promote step (gates, and beating production on the *candidate's* test data by the
profile's margin) unless ``--force``; every manual decision is logged on the version.
"""

from __future__ import annotations

import argparse
from typing import Any

from accidents.constants import MANUAL_STAGES
from cli.common import add_config_argument


def register(subparsers: argparse._SubParsersAction) -> None:
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
    promote.add_argument("--stage", required=True, choices=MANUAL_STAGES, help="target stage")
    promote.add_argument("--force", action="store_true", help="skip the safety checks (logged as forced)")
    add_config_argument(promote)
    promote.set_defaults(handler=handle_promote)


def list_versions(limit: int = 30) -> list[dict[str, Any]]:
    """Newest first: number, stage, metrics, decision (plain dicts; also used by tests)."""
    from ops import registry, runner

    runner.prepare()
    return registry.list_versions(limit)


def handle_models(args: argparse.Namespace) -> int:
    rows = list_versions(args.limit)
    if not rows:
        print("no model versions yet: run `.venv/bin/python run.py` to train one")
        return 0

    def num(value: Any) -> str:
        return f"{value:.4f}" if isinstance(value, (int, float)) else "-"

    bentos = deployed_bentos()
    print(f"{'version':>7}  {'stage':<10} {'created':<16} {'roc_auc':>8} {'pr_auc':>8} {'f1_sev':>8} "
          f"{'thresh':>7} {'data':<9}  decision at training")
    for r in rows:
        print(f"{r['version']:>7}  {r['stage']:<10} {r['created']:<16} {num(r['roc_auc']):>8} "
              f"{num(r['pr_auc']):>8} {num(r['f1_severe']):>8} {num(r['threshold'])[:7]:>7} "
              f"{(r['data'] or '-'):<9}  {r['reason'][:90]}")
        extra = [f"Bento {', '.join(bentos[str(r['version'])])}"] if str(r["version"]) in bentos else []
        if r.get("monitoring"):
            extra.append(f"last monitoring: {monitoring_text(r['monitoring'])}")
        if extra:
            print(f"{'':>9}{'; '.join(extra)}")
    return 0


def monitoring_text(figures: dict[str, Any]) -> str:
    """One line for the last monitoring run logged on a version (steps/monitoring.py)."""
    verdict = "RETRAIN" if figures.get("retrain") else "no retrain"
    return (f"{figures.get('run', '?')}: drift {figures.get('n_drifted', '?')}/{figures.get('n_monitored', '?')} "
            f"inputs on {figures.get('rows_current', '?')} rows, {verdict}")


def deployed_bentos() -> dict[str, list[str]]:
    """ZenML version -> tags of the Bentos built from it in this clone's BentoML store."""
    try:
        import bentoml

        from accidents.constants import BENTO_SERVICE_NAME

        found: dict[str, list[str]] = {}
        for bento in bentoml.list(BENTO_SERVICE_NAME):
            version = bento.info.labels.get("zenml_version")
            if version is not None:
                found.setdefault(str(version), []).append(str(bento.tag))
        return found
    except Exception:  # noqa: BLE001 - no store yet / BentoML missing: the table stays useful
        return {}


def handle_promote(args: argparse.Namespace) -> int:
    result = promote_version(args.version, args.stage, args.force, args.config)
    print(f"model version {result['candidate_version']} -> {result['stage']}: {result['reason']}")
    if result.get("archived_version"):
        print(f"former {args.stage} version {result['archived_version']} archived")
    return 0


def promote_version(version: str, stage: str, force: bool = False, profile: str = "local") -> dict[str, Any]:
    """Manual stage change with the pipeline's checks (ops.registry.promote); UserError when refused."""
    from accidents.config import load_config
    from ops import registry, runner

    config = load_config(profile)
    runner.prepare()
    candidate = registry.named_version(version)
    result = registry.promote(candidate, config.gates, config.promotion, wanted=stage, force=force)
    if config.stack.kind != "local":  # the MLflow Model Registry mirror follows (mlflow, minio)
        try:
            result["mlflow_aliases"] = sync_mlflow_mirror(config)
        except Exception as exc:  # noqa: BLE001 - the stage changed in ZenML (the record); say what failed
            print(f"warning: MLflow registry aliases not updated ({type(exc).__name__}: {str(exc)[:300]})")
    return result


def sync_mlflow_mirror(config: Any) -> dict[str, str]:
    """Mirror the stage holders if needed, then move the registry's aliases and stage tags."""
    from accidents.constants import MODEL_NAME
    from ops import registry
    from ops.mlflow_registry import mirror_stage_holders, sync_stages
    from ops.stacks import absolute_tracking_uri

    uri = absolute_tracking_uri(config.stack.mlflow_tracking_uri)
    mirror_stage_holders(uri, config.stack.mlflow_experiment, list(config.data.years), config.model.kind)
    stages = {str(v["version"]): str(v["stage"]) for v in registry.list_versions(1000)}
    aliases = sync_stages(uri, stages)
    print(f"MLflow registered model {MODEL_NAME}: aliases {aliases or 'none'} ({uri})")
    return aliases
