"""``run.py simulate``: continuous training over successive periods.

For the first period a model is trained (and promoted when it passes the gates); then for
each next period: monitor the period's data against the production version -> when the
decision says so, retrain on all the data so far -> the training pipeline's promotion
replaces production only if the new version beats it on the same test data. At the end:
a table and a PNG plot (also ZenML artifacts) of drift share and model quality per period
and which version served each period.

``run.py simulate`` alone tells the profile's story (``monitoring.simulate_*``: 2021 and
2022 stable, 2023 with three inputs shifted), in a ZenML store of its own so the project's
production model does not take part.

Periods are years (one BAAC year each) or, with ``--period month``, the months of one
year: "data so far" for a month period is then written as month-filtered BAAC files of that
year (same on-disk format), so training and monitoring keep reading files through the same
loader.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from accidents.config import DEFAULT_PROFILE, Config, load_config, resolve_path
from accidents.errors import ConfigError
from cli.common import add_config_argument, add_set_argument, overrides_of


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate", help="continuous training over successive periods (monitor -> retrain -> promote)",
        description="Simulate the life of the model over periods: monitor each new period "
                    "against production, retrain on the data so far when drift (or a quality "
                    "drop) says so, promote only if better on the same test data. Prints a "
                    "table and writes a PNG plot. Runs in a ZenML store of its own "
                    "(<outputs>/simulation/zenml, emptied each time): the project's models "
                    "are untouched.",
    )
    parser.epilog = ("With no story option (--years, --shift, --shift-from, --data-dir, --months, "
                     "--period month): the profile's story, monitoring.simulate_years with "
                     "monitoring.simulate_shift from monitoring.simulate_shift_from (SYNTHETIC: "
                     "stable years, then shifted inputs).")
    add_config_argument(parser)
    parser.add_argument("--years", type=int, nargs="+", metavar="YEAR",
                        help="periods (year mode) or the one year whose months are the periods")
    parser.add_argument("--period", choices=("year", "month"), default=None,
                        help="period length (default: monitoring.simulate_period of the profile)")
    parser.add_argument("--months", type=int, nargs="+", metavar="MONTH",
                        help="month mode: which months are periods (default 1-12)")
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help="real BAAC files for the periods (default: synthetic data)")
    parser.add_argument("--shift-from", metavar="PERIOD",
                        help="synthetic only: from this period on (a year, or a month number), "
                             "apply --shift")
    parser.add_argument("--shift", action="append", default=[], metavar="COLUMN=STRENGTH",
                        help="synthetic shift applied from --shift-from (repeatable)")
    add_set_argument(parser, "--set model.kind=random_forest (every training/monitoring run)")
    parser.set_defaults(handler=handle)


def own_store(profile: str | Path, overrides: dict[str, Any]) -> Path:
    """A fresh ZenML store for this simulation: ``<outputs>/simulation/zenml``.

    Why: in the project's store the first period would be compared with the production
    version ``make run`` left (trained on the very years simulated), so the story would start
    with a model that has already seen the future. Set before ZenML is imported; emptied at
    every ``simulate`` so each one starts from the same clean baseline, whatever store
    (``ZENML_CONFIG_PATH``) the project uses.
    """
    import shutil

    config = load_config(profile, overrides)
    root = resolve_path(config.pipeline.outputs_dir) / "simulation" / "zenml"
    shutil.rmtree(root, ignore_errors=True)
    (root / "repo").mkdir(parents=True)
    os.environ["ZENML_CONFIG_PATH"] = str(root / "config")
    os.environ["ZENML_REPOSITORY_PATH"] = str(root / "repo")
    return root


def story(args: argparse.Namespace, config: Config) -> dict[str, Any]:
    """The periods and shift: the command line's when it names any, else the profile's
    ``monitoring.simulate_*`` story (stable years, then a synthetic shift from one year)."""
    from cli.monitor import parse_shift

    given = (args.years, args.shift, args.shift_from, args.data_dir, args.months, args.period == "month")
    if any(given):
        return {"years": args.years, "period": args.period, "months": args.months,
                "data_dir": args.data_dir, "shift": parse_shift(args.shift), "shift_from": args.shift_from}
    monitoring = config.monitoring
    return {"years": list(monitoring.simulate_years), "period": "year", "months": None, "data_dir": None,
            "shift": dict(monitoring.simulate_shift) if monitoring.simulate_shift_from else {},
            "shift_from": monitoring.simulate_shift_from}


def handle(args: argparse.Namespace) -> int:
    overrides = overrides_of(args)
    config = load_config(args.config, overrides)
    chosen = story(args, config)
    store = own_store(args.config, overrides)
    print(f"simulate: own ZenML store {store} (the project's models are untouched; "
          f"dashboard of it: ZENML_CONFIG_PATH={store / 'config'} "
          f"ZENML_REPOSITORY_PATH={store / 'repo'} .venv/bin/python run.py dashboard)",
          flush=True)
    result = run_simulation(args.config, **chosen, **overrides)
    return 0 if result["records"] else 1


def run_simulation(
    profile: str | Path = DEFAULT_PROFILE,
    years: list[int] | None = None,
    period: str | None = None,
    months: list[int] | None = None,
    data_dir: Path | None = None,
    shift: dict[str, float] | None = None,
    shift_from: str | int | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Run the loop; returns the per-period records, the table text and the plot path."""
    from accidents.monitoring.simulation import PeriodRecord, format_table, plot_png, records_table
    from cli.monitor import baac_source, run_monitoring
    from cli.train import run_training
    from ops import registry

    config = load_config(profile, overrides)
    period = period or config.monitoring.simulate_period
    years = [int(y) for y in (years or config.data.years)]
    shift = dict(shift or {})
    if shift and data_dir is not None:
        raise ConfigError("--shift only applies to synthetic data (no --data-dir)")
    if shift and shift_from is None:
        raise ConfigError("--shift needs --shift-from (the first period that is shifted)")
    if period == "year":
        if len(years) < 2:
            raise ConfigError(f"simulate by year needs at least two years, got {years}")
        periods = [str(y) for y in sorted(years)]
    else:
        if len(years) != 1:
            raise ConfigError(f"simulate by month takes exactly one year, got {years}")
        periods = [str(m) for m in (months or list(range(1, 13)))]
        if len(periods) < 2:
            raise ConfigError("simulate by month needs at least two months")
    if shift_from is not None and str(shift_from) not in periods:
        raise ConfigError(f"--shift-from {shift_from} is not one of the periods {periods}")

    out = resolve_path(config.pipeline.outputs_dir) / "simulation"
    out.mkdir(parents=True, exist_ok=True)
    folders = _period_folders(config, out, period, years, periods, data_dir, shift,
                              None if shift_from is None else str(shift_from))

    def train_on(upto: int) -> dict[str, Any]:
        folder, data_years = folders["train"][upto]
        return run_training(profile, quiet=False, **{
            **overrides, "data.source": "dir", "data.dir": str(folder), "data.years": data_years})

    first = train_on(0)
    print(f"simulate: period {periods[0]}: trained version {first['model_version']} "
          f"({first['stage']}): {first['reason']}", flush=True)
    records: list[PeriodRecord] = [PeriodRecord(
        period=periods[0], serving_version="", rows=None, drift_share=None, retrain=True,
        reason="first period: initial training", new_version=str(first["model_version"]),
        promoted=first["stage"] == "production", promotion_reason=first["reason"])]
    registry.production_version(purpose="monitor")  # a UserError here says how to get one
    for i in range(1, len(periods)):
        folder, data_years, month = folders["current"][i]
        source = baac_source(folder, data_years, [month] if month else None, config.target)
        monitored = run_monitoring(profile, source, quiet=False, **overrides)
        perf = monitored.get("performance") or {}
        record = PeriodRecord(
            period=periods[i], serving_version=str(monitored["model_version"]),
            rows=int(monitored["drift"]["n_current"]), drift_share=float(monitored["drift"]["drift_share"]),
            drifted_columns=list(monitored["drift"]["drifted_columns"]),
            roc_auc=(perf.get("current") or {}).get("roc_auc"),
            reference_roc_auc=(perf.get("reference_test") or {}).get("roc_auc"),
            retrain=bool(monitored["retrain"]), reason=monitored["reason"],
            monitoring_run=monitored["run_name"], drift_report=monitored["drift_report"],
            performance_report=monitored["performance_report"],
        )
        if record.retrain:
            trained = train_on(i)
            record.new_version = str(trained["model_version"])
            record.promoted = trained["stage"] == "production"
            record.promotion_reason = trained["reason"]
        records.append(record)
        print(f"simulate: period {periods[i]} served by v{record.serving_version}: drift share "
              f"{record.drift_share:.3f}, retrain {record.retrain}"
              + (f" -> v{record.new_version} ({'promoted' if record.promoted else 'not promoted'})"
                 if record.retrain else ""), flush=True)

    table = records_table(records)
    png = plot_png(records, title=f"Continuous training by {period} ({config.profile} profile)",
                   retrain_share=config.monitoring.drift_share_threshold)
    plot_path = out / "simulation.png"
    plot_path.write_bytes(png)
    (out / "simulation.csv").write_text(table.to_csv(index=False), encoding="utf-8")
    artifacts = _save_artifacts(table, png)
    result = {"period": period, "periods": periods,
              "records": [r.as_dict() for r in records], "table": format_table(table),
              "plot": str(plot_path), "csv": str(out / "simulation.csv"), "artifacts": artifacts}
    (out / "simulation.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print("\n" + "=" * 78)
    print(f"continuous training by {period} (profile {config.profile})")
    print(result["table"])
    print(f"plot: {plot_path}\ntable: {out / 'simulation.csv'}\nartifacts: {artifacts}")
    print("=" * 78)
    return result


def _save_artifacts(table: Any, png: bytes) -> dict[str, str]:
    """The table and the plot as ZenML artifacts (the plot renders in the dashboard)."""
    from zenml import save_artifact

    from accidents.figures import png_image

    plot = save_artifact(png_image(png), name="simulation_plot", tags=["simulation"])
    frame = save_artifact(table, name="simulation_table", tags=["simulation"])
    return {"simulation_plot": f"{plot.name}:{plot.version}",
            "simulation_table": f"{frame.name}:{frame.version}"}


def _period_folders(config: Config, out: Path, period: str, years: list[int], periods: list[str],
                    data_dir: Path | None, shift: dict[str, float], shift_from: str | None
                    ) -> dict[str, Any]:
    """Where each period's current data and each "data so far" training set live.

    ``train[i]`` = (folder, years) holding periods 0..i; ``current[i]`` = (folder, years,
    month or None) holding period i.
    """
    from accidents.data.source import synthetic_dir, write_synthetic_years
    from accidents.data.subsets import filter_months, merge_months
    from accidents.synthetic import SYNTHETIC_NOTICE

    if data_dir is None:
        print(SYNTHETIC_NOTICE, flush=True)
    if period == "year":
        ordered = sorted(years)
        if data_dir is not None:
            folder = Path(data_dir)
        else:
            shifted = [y for y in ordered if shift_from is not None and y >= int(shift_from)]
            folder = write_synthetic_years(config.data, ordered, shift, shifted,
                                           variant=f"from{shift_from}" if shift and shifted else "")
        return {"train": [(folder, ordered[: i + 1]) for i in range(len(ordered))],
                "current": [(folder, [y], None) for y in ordered]}
    year = years[0]
    month_list = [int(p) for p in periods]
    if data_dir is not None:
        source = Path(data_dir)
    else:
        source = write_synthetic_years(config.data, [year])
        shifted = [m for m in month_list if shift_from is not None and m >= int(shift_from)]
        if shift and shifted:
            other = write_synthetic_years(config.data, [year], shift)
            source = merge_months(source, other, year, shifted,
                                  synthetic_dir(config.data, shift, f"months-from{min(shifted)}"))
    # "data so far" folders are named after their source, so another source never reuses them
    tag = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:8]
    train = [(filter_months(source, year, month_list[: i + 1],
                            out / "data" / f"{year}-months-1-{month_list[i]}-{tag}"), [year])
             for i in range(len(month_list))]
    return {"train": train, "current": [(source, [year], m) for m in month_list]}
