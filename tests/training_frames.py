"""A small fabricated per-user frame with MODEL_INPUT_COLUMNS (unit tests of the training area).

Why fabricated and not synthetic: the model/split/evaluation/promotion code must be testable
without the data layer; the signal is planted (severe depends on a few codes) so a test can
check that a model learns it and a shuffled-label model does not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accidents.learning.features import MODEL_INPUT_COLUMNS


def fabricated_users(n_accidents: int = 600, seed: int = 0, years: tuple[int, ...] = (2022, 2023)) -> pd.DataFrame:
    """Users grouped in accidents, ID columns + inputs + grav/severe; severe driven by catv/secu1/age."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 4, n_accidents)
    acc = np.repeat(np.arange(n_accidents), sizes)
    n = len(acc)
    year = np.asarray(years)[acc % len(years)]
    frame = pd.DataFrame({"Num_Acc": year * 100000 + acc, "year": year,
                          "id_vehicule": np.arange(n) + 1, "num_veh": "A01"})
    for column in MODEL_INPUT_COLUMNS:
        frame[column] = rng.integers(-1, 6, n)
    frame["an"] = year
    frame["mois"] = rng.integers(1, 13, n)
    frame["jour"] = rng.integers(1, 29, n)
    frame["hrmn"] = [f"{h:02d}:{m:02d}" for h, m in zip(rng.integers(0, 24, n), rng.integers(0, 60, n), strict=True)]
    frame["an_nais"] = (year - rng.integers(5, 90, n)).astype(float)
    frame.loc[rng.random(n) < 0.05, "an_nais"] = np.nan
    frame["vma"] = rng.choice([30.0, 50.0, 80.0, 90.0, 110.0, np.nan], n)
    frame["nbv"] = rng.integers(1, 4, n).astype(float)
    frame["catv"] = rng.choice([2, 7, 33, 1, 99], n)
    # accident-level signal shared by the users of one accident
    acc_risk = rng.normal(0, 1, n_accidents)[acc]
    logit = (-2.0 + 1.6 * (frame["catv"].isin([2, 33, 1])) + 0.9 * (frame["secu1"] <= 0)
             + 0.02 * (frame["vma"].fillna(50) - 50) + 0.6 * acc_risk)
    severe = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame["grav"] = np.where(severe, rng.choice([2, 3], n), rng.choice([1, 4], n))
    frame["severe"] = severe.astype(int)
    return frame
