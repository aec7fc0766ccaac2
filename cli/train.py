"""``run.py train`` (the default command): run the training pipeline on a config profile.

``run_training(profile, **overrides)`` is the same thing as a function (the monitoring
area's continuous-training loop calls it); it returns the new model version, the promotion
decision and the metrics, and writes a human-readable copy under ``<outputs_dir>/training/``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from accidents.config import (
    DEFAULT_PROFILE,
    Config,
    list_profiles,
    load_config,
    parse_set_option,
    resolve_path,
)
from accidents.errors import UserError


class PipelineFailed(UserError):
    """A pipeline step failed (its own error and log were printed by ZenML above)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train, evaluate and promote a model (default command)",
        description="Run the ZenML training pipeline (ingest -> validate -> features -> split -> "
                    "train -> evaluate -> promote) on a config profile and print the metrics table.",
    )
    add_config_argument(parser)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a profile value, e.g. --set model.kind=random_forest "
                             "--set data.years=[2022,2023] (repeatable; validated like the file)")
    parser.add_argument("--no-cache", action="store_true", help="disable ZenML step caching for this run")
    parser.set_defaults(handler=handle)


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """``--config``: a profile name (configs/<name>.yaml) or a path to a YAML file."""
    parser.add_argument("--config", default=DEFAULT_PROFILE, metavar="PROFILE|FILE",
                        help=f"config profile name or YAML path (default: {DEFAULT_PROFILE}; "
                             f"shipped: {', '.join(list_profiles())})")


def handle(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = dict(parse_set_option(o) for o in args.overrides)
    if args.no_cache:
        overrides["pipeline.enable_cache"] = False
    result = run_training(args.config, **overrides)
    return 0 if result["status"] == "completed" else 1


def run_training(profile: str | Path = DEFAULT_PROFILE, quiet: bool = False, **overrides: Any) -> dict[str, Any]:
    """Run the training pipeline; returns version, decision, reason, metrics and paths.

    ``overrides``: ``data={"n_accidents": 500}`` (section dicts, merged) or
    ``**{"model.kind": "random_forest"}`` (dotted keys); validated like the profile.
    """
    config = load_config(profile, overrides)
    from accidents.data.preflight import preflight

    # Damaged data stops here: one error line, before ZenML starts and creates a model version.
    source, folder, load_report = preflight(config.data)
    if not quiet:
        print(load_report.summary(), flush=True)
    from ops.stacks import ensure_stack, experiment_tracker_name, prepare_zenml_env

    prepare_zenml_env()
    from accidents.data.source import data_fingerprint

    ensure_stack(config.stack)
    tracker = experiment_tracker_name() if config.stack.kind != "local" else None
    from pipelines.training import training

    started = time.perf_counter()
    sections = config.as_dict()
    from ops.stack_minio import stack_errors

    with stack_errors(config.stack):  # an unreachable S3 / MLflow server: one line naming it
        try:
            run = training.with_options(enable_cache=config.pipeline.enable_cache)(
                data=sections["data"], fingerprint=data_fingerprint(config.data),
                target=config.target, split=sections["split"], model=sections["model"],
                gates=dict(config.gates), promotion=sections["promotion"],
                experiment_tracker=tracker,
            )
        except RuntimeError as exc:
            if "failure in step" not in str(exc):
                raise
            raise PipelineFailed(f"{exc}. The step's error is printed above; step logs are in the "
                                 "ZenML dashboard (python run.py dashboard)") from None
    seconds = time.perf_counter() - started
    result = collect_result(run, config, source, folder, seconds)
    write_outputs(result, run, config)
    if not quiet:
        print_summary(result)
    return result


def collect_result(run: Any, config: Config, source: str, folder: Path, seconds: float) -> dict[str, Any]:
    """Read back what the run produced (from the ZenML store, not from memory)."""
    from zenml.client import Client

    from accidents.constants import META_METRICS, META_PROMOTION, META_THRESHOLD, MODEL_NAME

    run = Client().get_pipeline_run(run.id)
    version = run.model_version
    meta = dict(version.run_metadata) if version is not None else {}
    decision = meta.get(META_PROMOTION, {}) or {}
    if version is not None:
        version = Client().get_model_version(MODEL_NAME, version.id)
    return {
        "status": str(getattr(run.status, "value", run.status)),
        "run_id": str(run.id), "run_name": run.name, "profile": config.profile,
        "model_name": MODEL_NAME,
        "model_version": version.number if version is not None else None,
        "model_version_name": version.name if version is not None else None,
        "stage": str(getattr(version.stage, "value", version.stage)) if version is not None and version.stage else "none",
        "decision": decision.get("stage", "none"), "reason": decision.get("reason", ""),
        "promotion": decision,
        "metrics": meta.get(META_METRICS, {}), "validation_metrics": meta.get("validation_metrics", {}),
        "threshold": meta.get(META_THRESHOLD),
        "data_source": source, "data_folder": str(folder), "synthetic": source == "synthetic",
        "model_kind": config.model.kind, "target": config.target, "seconds": round(seconds, 1),
    }


def write_outputs(result: dict[str, Any], run: Any, config: Config) -> None:
    """outputs/training/v<N>/: result.json, metrics.txt, evaluation.html (copies for humans)."""
    from zenml.client import Client

    from accidents.learning.evaluation import metrics_table
    from ops.stacks import zenml_locations

    out = resolve_path(config.pipeline.outputs_dir) / "training" / f"v{result['model_version']}"
    out.mkdir(parents=True, exist_ok=True)
    result.update(zenml_locations())
    result["outputs"] = str(out)
    rows = {"validation": result["validation_metrics"], "test": result["metrics"]}
    prod = result["promotion"].get("production_metrics_same_test")
    if prod:
        rows[f"production v{result['promotion'].get('compared_with')} (same test)"] = prod
    result["metrics_table"] = metrics_table(rows)
    (out / "metrics.txt").write_text(result["metrics_table"] + "\n", encoding="utf-8")
    try:
        step = Client().get_pipeline_run(run.id).steps["evaluate_model"]
        (out / "evaluation.html").write_text(str(step.outputs["evaluation_report"][0].load()), encoding="utf-8")
    except Exception as exc:  # noqa: BLE001 - the human copy is a convenience, the artifact is the record
        result["outputs_warning"] = f"evaluation.html not written: {exc}"
    (out / "result.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    latest = resolve_path(config.pipeline.outputs_dir) / "training" / "latest.json"
    latest.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")


def print_summary(result: dict[str, Any]) -> None:
    """The end-of-run block: metrics table, decision, where everything is."""
    line = "=" * 78
    print(f"\n{line}")
    print(f"training run {result['run_name']} ({result['status']}, {result['seconds']} s), profile "
          f"{result['profile']}, {result['model_kind']}, target per {result['target']}")
    if result["synthetic"]:
        print("DATA: SYNTHETIC (generated, not the real BAAC files) - figures say nothing about real roads")
    else:
        print(f"data: real BAAC files in {result['data_folder']}")
    print(f"\n{result['metrics_table']}\n")
    print(f"threshold (chosen on validation): {result['threshold']}")
    print(f"model {result['model_name']} version {result['model_version']}: stage {result['stage']} "
          f"- {result['reason']}")
    archived = result["promotion"].get("archived_version")
    if archived:
        print(f"former version {archived} archived")
    print(f"outputs: {result['outputs']} (metrics.txt, evaluation.html, result.json)")
    print(f"ZenML store: {result['zenml_store']}  artifacts: {result['artifact_store']}")
    print("see all versions: python run.py models   dashboard: python run.py dashboard")
    print(line)
