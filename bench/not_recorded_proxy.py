#!/usr/bin/env python
"""Does "not recorded" (-1) act as an outcome proxy? Figures for docs/FEATURES.md.

    .venv/bin/python bench/not_recorded_proxy.py            # synthetic 2022+2023, 6,000 accidents a year

Prints, on SYNTHETIC data (the real 2021+ files are not on this machine; their crosstab is
in ../shared/data/BAAC-FACTS.md 4c): the share of each optional code at -1 and the severe
rate with and without it, the severe rate by number of -1 codes per user, then an XGBoost
(the default profile's parameters) trained on 70 % of users and its probability for the
service's realistic car driver fully described and with only the required fields.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

REQUIRED = ("an", "mois", "jour", "hrmn", "catu", "catv", "n_vehicles", "n_users")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--n-accidents", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from sklearn.metrics import roc_auc_score

    from accidents.data.loader import load_years
    from accidents.learning.features import MODEL_INPUT_COLUMNS, build_user_table
    from accidents.learning.model import build_model, fit_model
    from accidents.serving.examples import CAR_DRIVER
    from accidents.serving.fields import FIELD_SPECS
    from accidents.serving.schema import RoadUser, rows_to_frame
    from accidents.synthetic import SYNTHETIC_NOTICE, write_synthetic

    print(SYNTHETIC_NOTICE, file=sys.stderr)
    folder = Path(tempfile.mkdtemp(prefix="not-recorded-"))
    write_synthetic(folder, [2022, 2023], n_accidents=args.n_accidents, seed=args.seed)
    users, _ = build_user_table(load_years(folder, [2022, 2023]))
    print(f"SYNTHETIC users {len(users)}, severe {users.severe.mean():.3f}")
    codes = [c for c in MODEL_INPUT_COLUMNS if FIELD_SPECS[c].kind == "code" and c not in REQUIRED]
    for col in codes:
        missing = users[col] == -1
        if missing.any():
            print(f"{col:<20} -1 share {missing.mean():.3f}  severe when -1 {users.severe[missing].mean():.3f}"
                  f"  otherwise {users.severe[~missing].mean():.3f}")
    count = (users[codes] == -1).sum(axis=1)
    print(users.groupby(pd.cut(count, [-1, 2, 4, 8, len(codes)]), observed=False)["severe"]
          .agg(["mean", "size"]).to_string())
    order = np.random.default_rng(args.seed).permutation(len(users))
    train, test = order[: int(0.7 * len(order))], order[int(0.7 * len(order)):]
    model = fit_model(build_model("xgboost", {"n_estimators": 300, "max_depth": 6, "learning_rate": 0.08}),
                      users.iloc[train], users.severe.iloc[train])
    print(f"test roc_auc {roc_auc_score(users.severe.iloc[test], model.predict_proba(users.iloc[test])[:, 1]):.3f}")

    def probability(values: dict) -> float:
        return float(model.predict_proba(rows_to_frame([RoadUser.model_validate(values)]))[:, 1][0])

    print(f"car driver fully described {probability(CAR_DRIVER):.4f}; required fields only "
          f"{probability({k: CAR_DRIVER[k] for k in REQUIRED}):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
