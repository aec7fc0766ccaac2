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

from accidents.config import DEFAULT_PROFILE, Config, load_config, resolve_path
from cli.common import add_config_argument, add_set_argument, overrides_of


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train, evaluate and promote a model (default command)",
        description="Run the ZenML training pipeline (ingest -> validate -> features -> split -> "
                    "train -> evaluate -> promote) on a config profile and print the metrics table.",
    )
    add_config_argument(parser)
    add_set_argument(parser, "--set model.kind=random_forest --set data.years=[2022,2023]")
    parser.add_argument("--no-cache", action="store_true", help="disable ZenML step caching for this run")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    overrides = overrides_of(args)
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
    from accidents.data.source import data_fingerprint, resolve

    resolved = resolve(config.data)  # the one decision of this run: the step reads exactly this
    # Damaged data stops here: one error line, before ZenML starts and creates a model version.
    source, folder, load_report = preflight(config.data, resolved)
    if not quiet:
        print(load_report.summary(), flush=True)
    from ops import runner

    runner.prepare(config.stack)
    from ops.stacks import experiment_tracker_name
    from pipelines.training import training

    tracker = experiment_tracker_name() if config.stack.kind != "local" else None
    started = time.perf_counter()
    run = runner.run_pipeline(
        training, config.stack, enable_cache=config.pipeline.enable_cache,
        data=config.data, resolved=resolved, fingerprint=data_fingerprint(resolved),
        target=config.target, split=config.split,
        model=config.model, gates=dict(config.gates), promotion=config.promotion,
        experiment_tracker=tracker,
    )
    seconds = time.perf_counter() - started
    result = collect_result(run, config, source, folder, seconds)
    if tracker is not None and result["model_version"] is not None:
        try:
            result["mlflow"] = mirror_to_mlflow(config, result)
        except Exception as exc:  # noqa: BLE001 - the model is trained and recorded in ZenML; say what failed
            print(f"warning: model version {result['model_version']} not mirrored into MLflow "
                  f"({type(exc).__name__}: {str(exc)[:300]})", flush=True)
    write_outputs(result, run, config)
    if not quiet:
        print_summary(result)
    return result


def collect_result(run: Any, config: Config, source: str, folder: Path, seconds: float) -> dict[str, Any]:
    """Read back what the run produced (from the ZenML store, not from memory)."""
    from zenml.client import Client

    from accidents.constants import META_METRICS, META_PROMOTION, META_THRESHOLD, MODEL_NAME
    from accidents.data.source import is_synthetic
    from ops.runner import run_status

    version = run.model_version
    meta = dict(version.run_metadata) if version is not None else {}
    decision = meta.get(META_PROMOTION, {}) or {}
    if version is not None:
        version = Client().get_model_version(MODEL_NAME, version.id)
    return {
        "status": run_status(run),
        "run_id": str(run.id), "run_name": run.name, "profile": config.profile,
        "model_name": MODEL_NAME,
        "model_version": version.number if version is not None else None,
        "model_version_name": version.name if version is not None else None,
        "stage": str(getattr(version.stage, "value", version.stage)) if version is not None and version.stage else "none",
        "decision": decision.get("stage", "none"), "reason": decision.get("reason", ""),
        "promotion": decision,
        "metrics": meta.get(META_METRICS, {}), "validation_metrics": meta.get("validation_metrics", {}),
        "threshold": meta.get(META_THRESHOLD),
        "data_source": source, "data_folder": str(folder),
        "synthetic": is_synthetic(config.data, source, folder),
        "model_kind": config.model.kind, "target": config.target, "seconds": round(seconds, 1),
    }


def mirror_to_mlflow(config: Config, result: dict[str, Any]) -> dict[str, Any]:
    """The version as an MLflow run (tagged; created when the steps came from the cache) and
    as a version of the MLflow registered model with its stage alias (ops/mlflow_registry.py)."""
    from zenml.client import Client

    from accidents.constants import ARTIFACT_MODEL, MODEL_NAME
    from ops.mlflow_registry import mirror_stage_holders, mirror_version
    from ops.stacks import absolute_tracking_uri

    client = Client()
    uri = absolute_tracking_uri(config.stack.mlflow_tracking_uri)
    version = client.get_model_version(MODEL_NAME, result["model_version"])
    meta = dict(version.run_metadata or {})
    mirrored = mirror_version(uri, config.stack.mlflow_experiment, result, list(config.data.years),
                              meta.get("mlflow"), lambda: version.get_artifact(ARTIFACT_MODEL).load())
    # the versions holding production / staging (e.g. made on the local profile) get their alias too
    mirror_stage_holders(uri, config.stack.mlflow_experiment, list(config.data.years),
                         config.model.kind, skip=result["model_version"])
    return mirrored


def write_outputs(result: dict[str, Any], run: Any, config: Config) -> None:
    """outputs/training/v<N>/: result.json, metrics.txt, evaluation.html (copies for humans)."""
    from accidents.constants import ARTIFACT_EVALUATION_REPORT
    from accidents.learning.evaluation import metrics_table
    from ops.runner import output
    from ops.stacks import zenml_locations
    from pipelines.training import STEP_EVALUATE

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
        report = output(run, STEP_EVALUATE, ARTIFACT_EVALUATION_REPORT)
        (out / "evaluation.html").write_text(str(report), encoding="utf-8")
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
    if result.get("mlflow"):
        m = result["mlflow"]
        print(f"MLflow: run {m['run_id']}{' (steps from the ZenML cache: metrics copied)' if m['cached'] else ''}; "
              f"registered model {m['registered_model']} version {m['registry_version']} ({m['tracking_uri']})")
    print("see all versions: .venv/bin/python run.py models   dashboard: .venv/bin/python run.py dashboard")
    print(line)
