"""Step ``split_data``: grouped, stratified train/validation/test frames + the assignment artifact."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from zenml import log_metadata, step

from accidents.config import SplitConfig
from accidents.constants import ARTIFACT_SPLIT, ARTIFACT_TEST_FEATURES, ARTIFACT_TRAIN_FEATURES
from accidents.learning.features import MODEL_INPUT_COLUMNS, TARGET
from accidents.learning.split import SPLIT_COLUMN, split_assignment, split_summary
from steps._common import json_safe, timed

#: Columns of the train/validation/test frames: the model inputs and the target
#: (plus ``year``, which the monitoring and temporal benchmarks use; the model ignores it).
FRAME_COLUMNS = [*MODEL_INPUT_COLUMNS, "year", TARGET]


@step
def split_data(feature_table: pd.DataFrame, split: SplitConfig) -> tuple[
    Annotated[pd.DataFrame, ARTIFACT_TRAIN_FEATURES],
    Annotated[pd.DataFrame, "validation_features"],
    Annotated[pd.DataFrame, ARTIFACT_TEST_FEATURES],
    Annotated[pd.DataFrame, ARTIFACT_SPLIT],
]:
    """Split by accident (no accident on two sides), stratified on the target, fixed seed."""
    cfg = split
    meta: dict[str, Any] = {}
    with timed(meta):
        assignment = split_assignment(feature_table, cfg.method, (cfg.train, cfg.validation, cfg.test),
                                      cfg.seed)
    labels = assignment[SPLIT_COLUMN]
    frames = {name: feature_table.loc[labels == name, FRAME_COLUMNS].reset_index(drop=True)
              for name in ("train", "validation", "test")}
    overlap = len(set(feature_table.loc[labels == "train", "Num_Acc"])
                  & set(feature_table.loc[labels == "test", "Num_Acc"]))
    log_metadata(metadata={"split": json_safe({
        "method": cfg.method, "seed": cfg.seed, "fractions": [cfg.train, cfg.validation, cfg.test],
        "per_split": split_summary(assignment, feature_table[TARGET]),
        "accidents_in_train_and_test": overlap, **meta})})
    return frames["train"], frames["validation"], frames["test"], assignment
