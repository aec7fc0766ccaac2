#!/usr/bin/env python
"""Training benchmark: model quality on a temporal and an accident-level split, and wall time of `run.py`.

    python bench/bench_training.py                      # real files if found, else synthetic
    python bench/bench_training.py --data-dir ~/baac --years 2021 2022 2023
    python bench/bench_training.py --skip-walltime      # (a) and (b) only

Data: ``--data-dir`` if given; else the download cache (data/cache/baac) or data/baac when
they hold every requested year; else synthetic data (printed loudly) with ``--n-accidents``
accidents per year (55,000 ~ 125k road users, one real year).

Prints:
 (a) per-user target, temporal: train on all years but the newest (threshold chosen on a
     validation slice of those years), test on the newest: ROC-AUC, PR-AUC, severe F1 for
     RandomForest and XGBoost with the profile defaults (balanced class weights);
 (b) accident-level target, one random 70/30 split of accidents: the older projects' set-up
     (scikit-learn's default RandomForestClassifier on the worst-hurt user's row, threshold
     0.5) beside ours (XGBoost on the leak-free accident row, threshold chosen on validation);
 (c) wall time of `.venv/bin/python run.py` on the newest year alone in a fresh, private ZenML store,
     and of the unchanged re-run (ZenML step cache).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from accidents.config import load_config  # noqa: E402
from accidents.data.loader import load_years  # noqa: E402
from accidents.data.source import has_years  # noqa: E402
from accidents.learning import evaluation as ev  # noqa: E402
from accidents.learning.features import MODEL_INPUT_COLUMNS, accident_level_table, build_user_table  # noqa: E402
from accidents.learning.model import BaacFeatureDeriver, build_model, fit_model, predict_proba  # noqa: E402
from accidents.learning.split import grouped_stratified_split, temporal_split  # noqa: E402

GRAV_RANK = {1: 0, 4: 1, 3: 2, 2: 3}  # unharmed < light < hospitalised < killed


def find_data(args: argparse.Namespace) -> tuple[Path, bool]:
    """(folder, synthetic?) following the order in the module docstring."""
    if args.data_dir:
        folder = Path(args.data_dir).expanduser()
        if not has_years(folder, args.years):
            sys.exit(f"error: {folder} does not hold the four BAAC tables for years {args.years}")
        return folder, False
    for folder in (REPO_ROOT / "data" / "cache" / "baac", REPO_ROOT / "data" / "baac"):
        if has_years(folder, args.years):
            return folder, False
    from accidents.synthetic import SYNTHETIC_NOTICE, write_synthetic

    print(SYNTHETIC_NOTICE)
    folder = Path(args.work) / f"synthetic-n{args.n_accidents}"
    if not has_years(folder, args.years):
        folder.mkdir(parents=True, exist_ok=True)
        write_synthetic(folder, args.years, args.n_accidents, seed=0)
    return folder, True


def metrics_row(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    return ev.compute_metrics(y, p, threshold)


def part_a(users: pd.DataFrame) -> dict[str, dict[str, float]]:
    labels = temporal_split(users, (0.8, 0.2, 0.0), seed=42)
    train, val, test = (users[labels == s] for s in ("train", "validation", "test"))
    rows = {}
    for kind in ("random_forest", "xgboost"):
        cfg = load_config("rf" if kind == "random_forest" else "local").model
        started = time.perf_counter()
        model = fit_model(build_model(kind, cfg.params), train, train["severe"], cfg.class_weight)
        threshold = ev.choose_threshold(val["severe"], predict_proba(model, val))
        rows[kind] = {**metrics_row(test["severe"].to_numpy(), predict_proba(model, test), threshold),
                      "fit_seconds": time.perf_counter() - started}
    return rows


def worst_hurt_rows(users: pd.DataFrame) -> pd.DataFrame:
    """The older projects' accident row: the worst-hurt user's own row (leaks the outcome)."""
    rank = users["grav"].map(GRAV_RANK)
    order = users.assign(_rank=rank).sort_values(["Num_Acc", "_rank"], ascending=[True, False], kind="stable")
    rows = order.drop_duplicates("Num_Acc", keep="first").drop(columns="_rank")
    return rows.set_index("Num_Acc")


def part_b(users: pd.DataFrame, seed: int = 0) -> dict[str, dict[str, float]]:
    ours = accident_level_table(users).set_index("Num_Acc")
    old = worst_hurt_rows(users).loc[ours.index]
    rng = np.random.default_rng(seed)
    is_test = pd.Series(rng.random(len(ours)) < 0.3, index=ours.index)
    y_train, y_test = ours.loc[~is_test, "severe"], ours.loc[is_test, "severe"].to_numpy()
    rows = {}
    # Older projects: default RandomForest, raw codes as numbers, NaN -> -1, threshold 0.5.
    from sklearn.ensemble import RandomForestClassifier

    for label, table in (("older RF, worst-hurt row", old), ("older RF, leak-free row", ours)):
        features = BaacFeatureDeriver().fit(table).transform(table[list(MODEL_INPUT_COLUMNS)]).fillna(-1)
        rf = RandomForestClassifier(random_state=0, n_jobs=2).fit(features[~is_test.to_numpy()], y_train)
        rows[label] = metrics_row(y_test, rf.predict_proba(features[is_test.to_numpy()])[:, 1], 0.5)
    # Ours: the pipeline's XGBoost on the leak-free row; threshold on a validation slice of the 70%.
    train_part = ours.loc[~is_test].reset_index()
    inner = grouped_stratified_split(train_part, (0.75, 0.25, 0.0), seed=42)
    fit_rows, val_rows = train_part[inner == "train"], train_part[inner == "validation"]
    cfg = load_config("local").model
    model = fit_model(build_model("xgboost", cfg.params), fit_rows, fit_rows["severe"], cfg.class_weight)
    threshold = ev.choose_threshold(val_rows["severe"], predict_proba(model, val_rows))
    rows["ours: XGBoost, leak-free row"] = metrics_row(y_test, predict_proba(model, ours.loc[is_test]), threshold)
    return rows


def part_c(folder: Path, year: int, work: Path) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="bench-zenml-", dir=work))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENML_", "ACCIDENTS_"))}
    env.update({"ZENML_CONFIG_PATH": str(root / "zenml-home"), "ZENML_REPOSITORY_PATH": str(root / "repo"),
                "ZENML_ANALYTICS_OPT_IN": "false", "ACCIDENTS_OUTPUTS_DIR": str(root / "outputs"),
                "ACCIDENTS_CACHE_DIR": str(root / "cache")})
    (root / "repo").mkdir(parents=True)
    cmd = [sys.executable, str(REPO_ROOT / "run.py"), "--set", "data.source=dir", "--set", f"data.dir={folder}",
           "--set", f"data.years=[{year}]"]
    times = {}
    for label in ("first run (fresh store)", "unchanged re-run (cached)"):
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
        times[label] = time.perf_counter() - started
        if proc.returncode != 0:
            sys.exit(f"run.py failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    result = json.loads((root / "outputs" / "training" / "latest.json").read_text())
    times["rows"] = result.get("metrics", {}).get("n", float("nan"))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="folder with real BAAC files (<table>-<year>.csv)")
    parser.add_argument("--years", type=int, nargs="+", default=[2022, 2023])
    parser.add_argument("--n-accidents", type=int, default=55_000, help="synthetic accidents per year")
    parser.add_argument("--work", default=str(REPO_ROOT / "outputs" / "bench"), help="scratch folder")
    parser.add_argument("--skip-walltime", action="store_true", help="skip (c)")
    args = parser.parse_args()
    Path(args.work).mkdir(parents=True, exist_ok=True)
    folder, synthetic = find_data(args)
    users, _ = build_user_table(load_years(folder, args.years))
    per_year = users.groupby("year").size().to_dict()
    print(f"data: {'SYNTHETIC' if synthetic else 'real BAAC'} files in {folder}; road users per year {per_year}; "
          f"severe share {users['severe'].mean():.3f}")

    print(f"\n(a) per-user target, temporal: train {args.years[:-1]}, test {args.years[-1]}")
    a = part_a(users)
    print(ev.metrics_table(a, ("roc_auc", "pr_auc", "f1_severe", "fit_seconds")))

    print(f"\n(b) accident-level target, random 70/30 of {users['Num_Acc'].nunique()} accidents")
    print(ev.metrics_table(part_b(users), ("roc_auc", "pr_auc", "f1_severe", "accuracy")))

    if not args.skip_walltime:
        newest = args.years[-1]
        print(f"\n(c) wall time of `.venv/bin/python run.py` on {newest} alone ({per_year[newest]} road users), private ZenML store")
        for label, value in part_c(folder, newest, Path(args.work)).items():
            print(f"  {label:<28} {value:10.1f}" + (" s" if label != "rows" else " test rows"))
    print(f"\nmachine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
