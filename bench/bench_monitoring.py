#!/usr/bin/env python
"""Benchmark of the monitoring: Evidently report time on ~100k rows, and the pipeline's wall time.

    .venv/bin/python bench/bench_monitoring.py                  # both parts
    .venv/bin/python bench/bench_monitoring.py --rows 100000 --skip-pipeline
    .venv/bin/python bench/bench_monitoring.py --pipeline-accidents 6000

Part 1 (report): reference and current feature tables of about ``--rows`` road users each
(all MODEL_INPUT_COLUMNS), built from BAAC files by the same loader/feature code as the
pipeline: the real files in ``--data-dir`` when given (e.g. two full real years), else
SYNTHETIC years. Times: the data-drift + data-summary report (the target: <= 30 s for
100k rows x all model features), its HTML rendering, and the model report (output drift +
classification) with a real fitted model.

Part 2 (pipeline): in a private ZenML environment (temp dir, never the user's), train a
small model then time ``run.py monitor --synthetic-year`` end to end (subprocess: imports,
pipeline compilation, steps, artifact storage, HTML files).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

USERS_PER_ACCIDENT = 2.25  # synthetic (and real) BAAC: ~2.2-2.3 road users per accident


def feature_tables(rows: int, data_dir: Path | None, years: list[int], workdir: Path):
    """(reference, current) feature tables of about ``rows`` users each."""
    from accidents.monitoring.sources import batch_from_baac

    if data_dir is None:
        from accidents.synthetic import write_synthetic

        n_accidents = int(rows / USERS_PER_ACCIDENT)
        started = time.perf_counter()
        write_synthetic(workdir / "baac", years, n_accidents, seed=0)
        print(f"synthetic data: {n_accidents} accidents/year x {years} written in "
              f"{time.perf_counter() - started:.1f} s (SYNTHETIC, not the real BAAC files)")
        data_dir = workdir / "baac"
    started = time.perf_counter()
    reference = batch_from_baac(data_dir, [years[0]])
    current = batch_from_baac(data_dir, [years[1]])
    print(f"load + features: {len(reference)} + {len(current)} rows in "
          f"{time.perf_counter() - started:.1f} s")
    return reference.head(rows).reset_index(drop=True), current.head(rows).reset_index(drop=True)


def bench_report(rows: int, data_dir: Path | None, years: list[int]) -> dict[str, float]:
    from accidents.learning.evaluation import choose_threshold
    from accidents.learning.features import MODEL_INPUT_COLUMNS, TARGET
    from accidents.learning.model import build_model, fit_model, predict_proba
    from accidents.monitoring.batch import monitor_batch
    from accidents.monitoring.settings import MonitoringSettings

    with tempfile.TemporaryDirectory() as tmp:
        reference, current = feature_tables(rows, data_dir, years, Path(tmp))
    settings = MonitoringSettings()
    figures: dict[str, float] = {"rows_reference": len(reference), "rows_current": len(current),
                                 "columns": len(MODEL_INPUT_COLUMNS)}
    model = build_model("xgboost", {"n_estimators": 100, "max_depth": 6})
    fit_model(model, reference, reference[TARGET], "balanced")
    threshold = choose_threshold(reference[TARGET], predict_proba(model, reference))
    # the same pass as the pipeline's monitor_batch step (the reference stands in for the test set)
    result = monitor_batch(reference, current, model, reference, threshold, settings)
    figures["drift_report_s"] = result.seconds["drift_report"]
    figures["drift_share"] = result.drift.drift_share
    started = time.perf_counter()
    html = result.drift_html()
    figures["drift_html_s"] = time.perf_counter() - started
    figures["drift_html_mb"] = len(html) / 1e6
    started = time.perf_counter()
    result.model_html()
    figures["model_report_s"] = result.seconds["model_report"] + time.perf_counter() - started
    return figures


def bench_pipeline(n_accidents: int) -> dict[str, float]:
    """Train once (small), then time `run.py monitor` in a private ZenML environment."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for sub in ("zenml-home", "repo", "cache", "outputs", "none"):
            (root / sub).mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENML_", "ACCIDENTS_"))}
        env.update({
            "ZENML_CONFIG_PATH": str(root / "zenml-home"), "ZENML_REPOSITORY_PATH": str(root / "repo"),
            "ZENML_ANALYTICS_OPT_IN": "false", "ZENML_ENABLE_RICH_TRACEBACK": "false",
            "AUTO_OPEN_DASHBOARD": "false", "ACCIDENTS_DATA_SOURCE": "synthetic",
            "ACCIDENTS_DATA_DIR": str(root / "none"), "ACCIDENTS_CACHE_DIR": str(root / "cache"),
            "ACCIDENTS_OUTPUTS_DIR": str(root / "outputs"), "ACCIDENTS_N_ACCIDENTS": str(n_accidents),
        })
        run = [sys.executable, str(REPO_ROOT / "run.py")]
        started = time.perf_counter()
        subprocess.run([*run, "train", "--set", "gates={roc_auc: 0.55}"], cwd=REPO_ROOT, env=env,
                       check=True, capture_output=True, text=True)
        train_s = time.perf_counter() - started
        started = time.perf_counter()
        proc = subprocess.run([*run, "monitor", "--synthetic-year", "2024"], cwd=REPO_ROOT,
                              env=env, check=True, capture_output=True, text=True)
        monitor_s = time.perf_counter() - started
        import json

        result = json.loads((root / "outputs" / "monitoring" / "latest.json").read_text())
        del proc
        return {"train_s": train_s, "monitor_wall_s": monitor_s,
                "monitor_batch_step_s": result["seconds"]["total"],
                "drift_report_in_step_s": result["seconds"]["drift_report"],
                "rows_reference": result["drift"]["n_reference"],
                "rows_current": result["drift"]["n_current"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="road users per side (default 100000)")
    parser.add_argument("--data-dir", type=Path, help="real BAAC files (default: synthetic)")
    parser.add_argument("--years", type=int, nargs=2, default=[2022, 2023], metavar="YEAR")
    parser.add_argument("--pipeline-accidents", type=int, default=6000,
                        help="synthetic accidents per year for the pipeline part (default 6000)")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--skip-report", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
    print(f"machine: {os.cpu_count()} cores (shared); python {sys.version.split()[0]}")
    if not args.skip_report:
        figures = bench_report(args.rows, args.data_dir, list(args.years))
        print(f"\nEvidently report, {figures['rows_reference']:,} reference x "
              f"{figures['rows_current']:,} current rows x {figures['columns']} model inputs:")
        print(f"  data drift + summary report : {figures['drift_report_s']:6.1f} s   (target <= 30 s)")
        print(f"  its HTML ({figures['drift_html_mb']:.1f} MB)           : {figures['drift_html_s']:6.1f} s")
        print(f"  model report (output drift + classification): {figures['model_report_s']:.1f} s")
        print(f"  drift share found           : {figures['drift_share']:.3f}")
    if not args.skip_pipeline:
        figures = bench_pipeline(args.pipeline_accidents)
        print(f"\nmonitoring pipeline ({args.pipeline_accidents} synthetic accidents/year; reference "
              f"{figures['rows_reference']:,} rows, current {figures['rows_current']:,} rows):")
        print(f"  run.py monitor wall time    : {figures['monitor_wall_s']:6.1f} s")
        print(f"  monitor_batch step          : {figures['monitor_batch_step_s']:6.1f} s "
              f"(drift report {figures['drift_report_in_step_s']:.1f} s)")
        print(f"  (training run beforehand    : {figures['train_s']:6.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
