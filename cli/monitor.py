"""``run.py monitor`` and ``run.py simulate``: drift monitoring and continuous training.

``monitor`` compares the production model version's training features with a new batch
(BAAC files of another period, the service's prediction log, a feature file, or a
synthetic year with a chosen shift), writes the Evidently reports (ZenML artifacts and
HTML files whose paths are printed), logs the figures on the production version and ends
with the retrain decision and its reason.

``run_monitoring(profile, source, **overrides)`` is the same as a function (the
simulation and the tests call it). ``simulate`` lives in cli/monitor_simulate.py.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from accidents.config import DEFAULT_PROFILE, Config, load_config, resolve_path
from accidents.errors import ConfigError, DataError
from cli.common import add_config_argument, add_set_argument, overrides_of


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "monitor", help="drift + performance of the production model on a new batch (Evidently)",
        description="Run the ZenML monitoring pipeline: reference = the production model version's "
                    "training features; current = one of the sources below. Writes the Evidently "
                    "HTML reports, logs the figures on the production version and prints the "
                    "retrain decision.",
    )
    add_config_argument(parser)
    parser.epilog = ("With no source option: the profile's monitoring.source; by default "
                     "'served' = what the deployed model logged (serving.prediction_log, across "
                     "rotated files) since the last monitoring run of that log.")
    source = parser.add_mutually_exclusive_group(required=False)
    source.add_argument("--current-dir", type=Path, metavar="DIR",
                        help="BAAC files of another period (<table>-<year>.csv); needs --years")
    source.add_argument("--prediction-log", type=Path, metavar="PATH",
                        help="the service's prediction log (JSON Lines; no labels)")
    source.add_argument("--current-file", type=Path, metavar="PATH",
                        help="a feature table (.csv or .parquet) with the model input columns "
                             "(and optionally severe)")
    source.add_argument("--synthetic-year", type=int, metavar="YEAR",
                        help="generate a SYNTHETIC year as the batch (see --shift)")
    parser.add_argument("--years", type=int, nargs="+", metavar="YEAR",
                        help="years to read from --current-dir")
    parser.add_argument("--months", type=int, nargs="+", metavar="MONTH",
                        help="only these months (1-12) of --current-dir / --synthetic-year")
    parser.add_argument("--shift", action="append", default=[], metavar="COLUMN=STRENGTH",
                        help="with --synthetic-year: move STRENGTH (0-1] of the rows of COLUMN to "
                             "an unusual distribution (repeatable)")
    parser.add_argument("--retrain", action="store_true",
                        help="when the decision is RETRAIN, run the training pipeline on the "
                             "profile's data.years plus this batch (labelled: --current-dir or "
                             "--synthetic-year); the new version replaces production only if it "
                             "beats it on the same test data")
    add_set_argument(parser, "--set monitoring.drift_share_threshold=0.1")
    parser.set_defaults(handler=handle)


def parse_shift(items: list[str]) -> dict[str, float]:
    """``["vma=0.8", "atm=0.5"]`` -> ``{"vma": 0.8, "atm": 0.5}`` (ConfigError naming the bad item)."""
    shift: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            shift[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"--shift expects COLUMN=STRENGTH (e.g. vma=0.8), got {item!r}") from None
    return shift


def source_from_args(args: argparse.Namespace, config: Config) -> dict[str, Any]:
    """The pipeline's ``source`` parameter from the command-line options."""
    if args.shift and args.synthetic_year is None:
        raise ConfigError("--shift only applies to --synthetic-year")
    if args.current_dir is not None:
        if not args.years:
            raise ConfigError("--current-dir needs --years (which years' files to read)")
        return baac_source(args.current_dir, args.years, args.months, config.target)
    if args.years:
        raise ConfigError("--years only applies to --current-dir")
    if args.prediction_log is not None:
        return {"kind": "prediction_log", "path": str(existing_file(args.prediction_log, "--prediction-log"))}
    if args.current_file is not None:
        return {"kind": "file", "path": str(existing_file(args.current_file, "--current-file"))}
    if args.synthetic_year is not None:
        return synthetic_source(config, args.synthetic_year, parse_shift(args.shift), args.months)
    if args.months:
        raise ConfigError("--months only applies to --current-dir or --synthetic-year")
    return profile_source(config)


def profile_source(config: Config) -> dict[str, Any]:
    """The profile's ``monitoring.source``: ``served`` (the default) or a file path."""
    choice = (config.monitoring.source or "served").strip()
    if choice == "served":
        from accidents.monitoring.served import served_source

        return served_source(resolve_path(config.serving.prediction_log).resolve(),
                             resolve_path(config.monitoring.report_dir))
    path = resolve_path(choice)
    if path.suffix.lower() in (".jsonl", ".json"):
        return {"kind": "prediction_log", "path": str(path.resolve())}
    if path.suffix.lower() in (".csv", ".parquet", ".txt"):
        return {"kind": "file", "path": str(path.resolve())}
    raise ConfigError(f"monitoring.source {choice!r}: expected 'served', a prediction log (.jsonl) "
                      "or a feature file (.csv/.parquet)")


def existing_file(path: Path, option: str) -> Path:
    """``path`` resolved, or a DataError naming the option and the missing file."""
    path = Path(path).resolve()
    if not path.is_file():
        raise DataError(f"{option} {path}: file not found")
    return path


def baac_source(folder: Path, years: list[int], months: list[int] | None, target: str) -> dict[str, Any]:
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: directory of current BAAC files not found")
    return {"kind": "baac", "dir": str(folder.resolve()), "years": [int(y) for y in years],
            "months": [int(m) for m in months] if months else None, "target": target}


def synthetic_source(config: Config, year: int, shift: dict[str, float],
                     months: list[int] | None = None, quiet: bool = False) -> dict[str, Any]:
    """Write (once) a synthetic year with ``shift`` and return it as a BAAC source."""
    from accidents.data.source import write_synthetic_years
    from accidents.synthetic import SYNTHETIC_NOTICE
    from accidents.synthetic.generator import FIRST_YEAR
    from accidents.synthetic.shift import validate_shift

    try:
        validate_shift(shift)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if not FIRST_YEAR <= year <= 2100:
        raise ConfigError(f"--synthetic-year {year}: the synthetic generator writes the BAAC format of "
                          f"{FIRST_YEAR} onwards (a year from {FIRST_YEAR} to 2100)")
    folder = write_synthetic_years(config.data, [year], shift)
    if not quiet:
        print(SYNTHETIC_NOTICE, flush=True)
    source = baac_source(folder, [year], months, config.target)
    source["synthetic_shift"] = shift
    return source


def handle(args: argparse.Namespace) -> int:
    overrides = overrides_of(args)
    config = load_config(args.config, overrides)
    source = source_from_args(args, config)
    if args.retrain and source["kind"] != "baac":
        raise ConfigError("--retrain needs a labelled batch to learn from (--current-dir or "
                          "--synthetic-year); served predictions and feature files have no outcomes")
    result = run_monitoring(args.config, source, **overrides)
    if result["status"] != "completed":
        return 1
    if args.retrain:
        if not result["retrain"]:
            print("--retrain: the decision is no retrain, so no training run", flush=True)
            return 0
        trained = retrain_on_batch(args.config, config, source, overrides)
        return 0 if trained["status"] == "completed" else 1
    return 0


def retrain_on_batch(profile: str | Path, config: Config, source: dict[str, Any],
                     overrides: dict[str, Any]) -> dict[str, Any]:
    """The training pipeline on the profile's years plus the monitored batch (one folder of
    links, accidents/monitoring/retraining.py); its promotion step decides production."""
    from accidents.data.source import materialise
    from accidents.monitoring.retraining import retraining_folder
    from cli.train import run_training

    _, training_dir = materialise(config.data)
    folder, years = retraining_folder(
        training_dir, config.data.years, Path(source["dir"]), source["years"],
        resolve_path(config.monitoring.report_dir) / "retraining-data", source.get("months"))
    print(f"\nretrain: decision RETRAIN -> training on years {years} (profile years "
          f"{list(config.data.years)} + the monitored batch) from {folder}", flush=True)
    trained = run_training(profile, **{**overrides, "data.source": "dir", "data.dir": str(folder),
                                       "data.years": years})
    print(f"retrain: model version {trained['model_version']} -> {trained['stage']}: "
          f"{trained['reason']}", flush=True)
    return trained


def source_label(source: dict[str, Any]) -> str:
    """Short human description of a source (shown in reports, metadata and tables)."""
    kind = source["kind"]
    if kind == "baac":
        months = f" months {source['months']}" if source.get("months") else ""
        shift = source.get("synthetic_shift")
        extra = f" (synthetic, shift {shift})" if shift else ""
        return f"BAAC {source['dir']} years {source['years']}{months}{extra}"
    if kind == "prediction_log":
        if source.get("served"):
            since = source.get("since") or "the first one"
            return f"served predictions in {source['path']} since {since} (up to {source['until']})"
        return f"prediction log {source['path']}"
    return f"feature file {source['path']}"


def run_monitoring(profile: str | Path = DEFAULT_PROFILE, source: dict[str, Any] | None = None,
                   quiet: bool = False, **overrides: Any) -> dict[str, Any]:
    """Run the monitoring pipeline on ``source``; returns figures, decision and file paths."""
    if source is None:
        raise ConfigError("run_monitoring needs a source (baac, prediction_log or file)")
    config = load_config(profile, overrides)
    if source["kind"] == "baac":  # the loader's gate and report, before ZenML starts (docs/data.md)
        from accidents.data.preflight import load_configured

        report = load_configured(config.data, Path(source["dir"]), source["years"])
        if not quiet:
            print(report.summary(), flush=True)
        source = {**source, "tolerance": config.data.tolerance,
                  "validity_tolerance": config.data.validity_tolerance}
    from accidents.monitoring.settings import MonitoringSettings
    from ops import registry, runner
    from pipelines.monitoring import monitoring_pipeline

    runner.prepare(config.stack)
    settings = MonitoringSettings.from_config(config.monitoring)
    production = registry.production_version(purpose="monitor")
    run = runner.run_pipeline(monitoring_pipeline, config.stack, source=source,
                              settings=settings, source_label=source_label(source))
    result = collect(run, production, settings)
    if source.get("served") and result["status"] == "completed":
        from accidents.monitoring.served import remember_monitored

        remember_monitored(source)
    if not quiet:
        print_summary(result)
    return result


def collect(run: Any, production: Any, settings: Any) -> dict[str, Any]:
    """Read the run's outputs back from the ZenML store and write the HTML files."""
    from accidents.constants import (
        ARTIFACT_MONITORING_DECISION,
        ARTIFACT_MONITORING_DRIFT_REPORT,
        ARTIFACT_MONITORING_PERFORMANCE_REPORT,
        ARTIFACT_MONITORING_SUMMARY,
    )
    from ops.runner import output, run_status
    from pipelines.monitoring import STEP_LOG, STEP_MONITOR

    summary = output(run, STEP_MONITOR, ARTIFACT_MONITORING_SUMMARY)
    decision = output(run, STEP_LOG, ARTIFACT_MONITORING_DECISION)
    folder = resolve_path(settings.report_dir) / _safe(run.name)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, file_name in ((ARTIFACT_MONITORING_DRIFT_REPORT, "drift_report.html"),
                            (ARTIFACT_MONITORING_PERFORMANCE_REPORT, "performance_report.html")):
        path = folder / file_name
        path.write_text(str(output(run, STEP_MONITOR, name)), encoding="utf-8")
        paths[name] = str(path)
    result = {
        "status": run_status(run),
        "run_id": str(run.id), "run_name": run.name,
        "model_version": production.name, "model_version_number": production.number,
        "source": summary["source"], "drift": summary["drift"],
        "performance": summary.get("performance"), "decision": decision,
        "retrain": bool(decision["retrain"]), "reason": decision["reason"],
        "drift_report": paths[ARTIFACT_MONITORING_DRIFT_REPORT],
        "performance_report": paths[ARTIFACT_MONITORING_PERFORMANCE_REPORT],
        "seconds": summary.get("seconds"), "outputs": str(folder),
    }
    (folder / "summary.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    latest = resolve_path(settings.report_dir) / "latest.json"
    latest.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return result


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def print_summary(result: dict[str, Any]) -> None:
    """The end-of-run block: drift figures, performance, decision, where the reports are."""
    line = "=" * 78
    drift = result["drift"]
    print(f"\n{line}")
    print(f"monitoring run {result['run_name']} ({result['status']}): production model version "
          f"{result['model_version']} vs {result['source']}")
    print(f"rows: reference {drift['n_reference']}, current {drift['n_current']}; tests: "
          f"{', '.join(drift['methods'])}")
    for column, why in (drift.get("skipped_columns") or {}).items():
        print(f"skipped {column}: {why}")
    print(f"drift: {drift['n_drifted']} of {drift['n_monitored']} monitored features "
          f"(share {drift['drift_share']:.3f})" + (f": {', '.join(drift['drifted_columns'])}"
                                                    if drift["drifted_columns"] else ""))
    top = sorted(drift["scores"].items(), key=lambda kv: -kv[1])[:5]
    print("largest drift scores: " + ", ".join(f"{k} {v:.3f}" for k, v in top))
    if drift.get("prediction_drift"):
        p = drift["prediction_drift"]
        print(f"model output drift: {p['method']} {p['score']:.3f} "
              f"({'drifted' if p['drifted'] else 'stable'})")
    perf = result.get("performance")
    if perf:
        cur, ref = perf["current"], perf["reference_test"]
        print("performance (threshold {:.3f}):".format(perf["threshold"]))
        for metric in ("roc_auc", "pr_auc", "f1_severe", "recall", "precision"):
            a, b = cur.get(metric), ref.get(metric)
            if a is not None and b is not None:
                print(f"  {metric:<10} batch {a:.4f}   production test set {b:.4f}")
    else:
        print("performance: not measured (no labels in this batch)")
    print(f"decision: {'RETRAIN' if result['retrain'] else 'no retrain'} - {result['reason']}")
    print(f"drift report: {result['drift_report']}")
    print(f"performance report: {result['performance_report']}")
    print(f"figures logged on model version {result['model_version']} (metadata 'monitoring')")
    print(line)
