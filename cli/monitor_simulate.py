"""``run.py simulate``: continuous training over successive periods.

For the first period a model is trained (and promoted when it passes the gates); then for
each next period: monitor the period's data against the production version -> when the
decision says so, retrain on all the data so far -> the training pipeline's promotion
replaces production only if the new version beats it on the same test data. At the end:
a table and a PNG plot (also ZenML artifacts) of drift share and model quality per period
and which version served each period.

Periods are years (one BAAC year each) or, with ``--period month``, the months of one
year: "data so far" for a month period is then written as month-filtered BAAC files of that
year (same on-disk format), so training and monitoring keep reading files through the same
loader.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from accidents.config import DEFAULT_PROFILE, Config, load_config, parse_set_option, resolve_path
from accidents.errors import ConfigError, UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    from cli.train import add_config_argument

    parser = subparsers.add_parser(
        "simulate", help="continuous training over successive periods (monitor -> retrain -> promote)",
        description="Simulate the life of the model over periods: monitor each new period "
                    "against production, retrain on the data so far when drift (or a quality "
                    "drop) says so, promote only if better on the same test data. Prints a "
                    "table and writes a PNG plot.",
    )
    add_config_argument(parser)
    parser.add_argument("--years", type=int, nargs="+", metavar="YEAR",
                        help="periods (year mode) or the one year whose months are the periods "
                             "(default: the profile's data.years)")
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
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a profile value for every training/monitoring run")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from cli.monitor import parse_shift

    overrides: dict[str, Any] = dict(parse_set_option(o) for o in args.overrides)
    result = run_simulation(
        args.config, years=args.years, period=args.period, months=args.months,
        data_dir=args.data_dir, shift=parse_shift(args.shift), shift_from=args.shift_from,
        **overrides,
    )
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
    from cli.monitor import baac_source, production_version, run_monitoring
    from cli.train import run_training

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
    production_version()  # a UserError here says how to get a production version
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
    import io

    from PIL import Image
    from zenml import save_artifact

    image = Image.open(io.BytesIO(png))
    image.load()
    plot = save_artifact(image, name="simulation_plot", tags=["simulation"])
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
    if period == "year":
        folder = data_dir if data_dir is not None else _synthetic_years(config, out, years, shift, shift_from)
        ordered = sorted(years)
        return {"train": [(folder, ordered[: i + 1]) for i in range(len(ordered))],
                "current": [(folder, [y], None) for y in ordered]}
    year = years[0]
    month_list = [int(p) for p in periods]
    if data_dir is not None:
        source = data_dir
    else:
        shifted = [m for m in month_list if shift_from is not None and m >= int(shift_from)]
        source = _synthetic_months(config, out, year, shift, shifted)
    train = []
    for i in range(len(month_list)):
        target = out / "data" / f"{year}-months-1-{month_list[i]}"
        _filter_months(source, year, set(month_list[: i + 1]), target)
        train.append((target, [year]))
    return {"train": train, "current": [(source, [year], m) for m in month_list]}


def _synthetic_years(config: Config, out: Path, years: list[int], shift: dict[str, float],
                     shift_from: str | None) -> Path:
    from accidents.synthetic import SYNTHETIC_NOTICE, write_synthetic

    slug = "-".join(f"{k}{v:g}" for k, v in sorted(shift.items())) or "noshift"
    folder = out / "data" / (f"years-n{config.data.n_accidents}-s{config.data.seed}-"
                             f"d{config.data.year_drift:g}-{slug}-from{shift_from}")
    for year in sorted(years):
        if (folder / f"usagers-{year}.csv").is_file():
            continue
        shifted = shift_from is not None and year >= int(shift_from)
        write_synthetic(folder, [year], config.data.n_accidents, seed=config.data.seed,
                        year_drift=config.data.year_drift, shift=shift if shifted else None)
    print(SYNTHETIC_NOTICE, flush=True)
    return folder


def _synthetic_months(config: Config, out: Path, year: int, shift: dict[str, float],
                      shifted_months: list[int]) -> Path:
    """One synthetic year; with a shift, the shifted months' accidents come from a shifted copy."""
    from accidents.synthetic import SYNTHETIC_NOTICE, write_synthetic

    print(SYNTHETIC_NOTICE, flush=True)
    base = out / "data" / f"{year}-n{config.data.n_accidents}-s{config.data.seed}"
    if not (base / f"usagers-{year}.csv").is_file():
        write_synthetic(base, [year], config.data.n_accidents, seed=config.data.seed,
                        year_drift=config.data.year_drift)
    if not shift or not shifted_months:
        return base
    slug = "-".join(f"{k}{v:g}" for k, v in sorted(shift.items()))
    shifted = out / "data" / f"{year}-n{config.data.n_accidents}-s{config.data.seed}-{slug}"
    if not (shifted / f"usagers-{year}.csv").is_file():
        write_synthetic(shifted, [year], config.data.n_accidents, seed=config.data.seed,
                        year_drift=config.data.year_drift, shift=shift)
    mixed = out / "data" / f"{year}-{slug}-from{min(shifted_months)}"
    _merge_months(base, shifted, year, set(shifted_months), mixed)
    return mixed


def _read_table(folder: Path, table: str, year: int) -> Any:
    import pandas as pd

    return pd.read_csv(folder / f"{table}-{year}.csv", sep=";", dtype=str, keep_default_na=False)


def _write_table(frame: Any, folder: Path, table: str, year: int) -> None:
    import csv

    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / f"{table}-{year}.csv", sep=";", index=False, quoting=csv.QUOTE_ALL)


def _filter_months(source: Path, year: int, months: set[int], target: Path) -> None:
    """Copy ``year``'s four tables keeping only accidents of ``months`` (same format)."""
    from accidents.data.csv_formats import find_table_file

    if (target / f"usagers-{year}.csv").is_file():
        return
    car = _read_table_any(find_table_file(source, "caracteristiques", year))
    key = _key_column(car)
    keep = set(car.loc[car["mois"].str.strip().astype(int).isin(months), key])
    for table in ("caracteristiques", "lieux", "vehicules", "usagers"):
        frame = car if table == "caracteristiques" else _read_table_any(find_table_file(source, table, year))
        _write_table(frame[frame[_key_column(frame)].isin(keep)], target, table, year)


def _merge_months(base: Path, shifted: Path, year: int, months: set[int], target: Path) -> None:
    """Accidents of ``months`` from ``shifted``, the others from ``base`` (same year)."""
    if (target / f"usagers-{year}.csv").is_file():
        return
    car_base, car_shift = _read_table(base, "caracteristiques", year), _read_table(shifted, "caracteristiques", year)
    key = _key_column(car_base)
    from_base = set(car_base.loc[~car_base["mois"].astype(int).isin(months), key])
    from_shift = set(car_shift.loc[car_shift["mois"].astype(int).isin(months), key])
    if from_base & from_shift:
        raise UserError("internal: synthetic accident ids collide between shifted and base data")
    import pandas as pd

    for table in ("caracteristiques", "lieux", "vehicules", "usagers"):
        a, b = _read_table(base, table, year), _read_table(shifted, table, year)
        merged = pd.concat([a[a[key].isin(from_base)], b[b[key].isin(from_shift)]], ignore_index=True)
        _write_table(merged, target, table, year)


def _read_table_any(path: Path) -> Any:
    import pandas as pd

    return pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False,
                       encoding_errors="replace")


def _key_column(frame: Any) -> str:
    for name in frame.columns:
        if name.strip().lower() in ("num_acc", "accident_id"):
            return name
    raise UserError(f"no accident key column (Num_Acc) in columns {list(frame.columns)[:6]}...")
