"""Where a monitoring batch comes from: BAAC files of another period, the service's
prediction log, or a ready feature file.

Every source goes through the same code as training (``load_years`` ->
``build_user_table``) or the service's own log reader, so the batch has exactly the
columns and types the model was trained on; the monitoring code then checks them
(missing / unexpected columns are an error naming them).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd

from accidents.data.csv_formats import read_table_csv
from accidents.data.loader import DEFAULT_TOLERANCE, load_years
from accidents.data.validity import DEFAULT_VALIDITY_TOLERANCE
from accidents.errors import DataError
from accidents.learning.features import (
    MODEL_INPUT_COLUMNS,
    TARGET,
    accident_level_table,
    build_user_table,
)
from accidents.monitoring.drift import PREDICTION


def batch_from_baac(
    data_dir: Path,
    years: Sequence[int],
    months: Sequence[int] | None = None,
    target: str = "user",
    tolerance: float = DEFAULT_TOLERANCE,
    validity_tolerance: float = DEFAULT_VALIDITY_TOLERANCE,
) -> pd.DataFrame:
    """Feature rows (with labels) of ``years`` (optionally only ``months``) from BAAC files,
    loaded with the profile's tolerances (``data.tolerance`` / ``data.validity_tolerance``)."""
    tables = load_years(Path(data_dir), list(years), tolerance=tolerance,
                        validity_tolerance=validity_tolerance)
    users, _ = build_user_table(tables)
    frame = accident_level_table(users) if target == "accident" else users
    if months:
        wanted = sorted({int(m) for m in months})
        bad = [m for m in wanted if not 1 <= m <= 12]
        if bad:
            raise DataError(f"months must be 1-12, got {bad}")
        frame = frame[frame["mois"].isin(wanted)].reset_index(drop=True)
        if frame.empty:
            raise DataError(f"{data_dir}: no accident in months {wanted} of {list(years)}")
    return frame


def batch_from_prediction_log(path: Path, since: datetime | None = None,
                              until: datetime | None = None) -> pd.DataFrame:
    """The service's logged inputs (the log and its rotated files, records stamped in
    ``(since, until]`` when given), with the logged probability as the prediction column.

    No labels: the log records what was asked, not what happened, so only data drift and
    the drift of the model's output can be measured.
    """
    from accidents.serving.prediction_log import log_files, read_prediction_log

    path = Path(path)
    if not log_files(path):
        raise DataError(f"{path}: prediction log not found: serve the deployed model first (the "
                        "path is the profile's serving.prediction_log, baked into the Bento by "
                        "run.py deploy; $ACCIDENTS_PREDICTION_LOG overrides both)")
    frame = read_prediction_log(path, since=since, until=until)
    if frame.attrs.get("corrupt_lines"):
        print(f"warning: {path}: skipped {frame.attrs['corrupt_lines']} unusable line(s) of "
              f"{frame.attrs['lines']} (first: {frame.attrs['first_corrupt']})", file=sys.stderr, flush=True)
    if frame.empty:
        if since is not None:
            raise DataError(f"{path}: no prediction served since the last monitoring run "
                            f"({since.isoformat()}): serve some, or monitor the whole log with "
                            f"--prediction-log {path}")
        raise DataError(f"{path}: the prediction log has no usable record")
    # the log's "severe" is the service's *predicted* class, not the outcome: never a label
    frame = frame.rename(columns={"probability": PREDICTION, TARGET: "severe_predicted"})
    return frame.drop(columns=[c for c in ("ts", "request_id") if c in frame.columns])


def _typed_feature_csv(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Model inputs of a CSV batch as numbers (``hrmn`` stays text), naming the first bad cell."""
    for col in frame.columns:
        if col == "hrmn" or col not in MODEL_INPUT_COLUMNS and col != TARGET:
            continue
        text = frame[col].str.strip()
        num = pd.to_numeric(text.mask(text.isin(("", "nan", "NaN"))), errors="coerce")
        bad = (num.isna() & ~text.isin(("", "nan", "NaN"))).to_numpy()
        if bad.any():
            i = int(bad.argmax())
            raise DataError(f"{path}: line {frame.index[i]}, column {col!r}: value {frame[col].iloc[i]!r} is not "
                            f"a number (model inputs are BAAC codes and measures)")
        frame[col] = num
    return frame


def batch_from_file(path: Path) -> pd.DataFrame:
    """A feature table written by a user (CSV with ``;`` or ``,``, or Parquet).

    Codes are read as numbers and ``hrmn`` as text, like the training table.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: batch file not found")
    try:
        if path.suffix.lower() == ".parquet":
            frame = pd.read_parquet(path)
        elif path.suffix.lower() in (".csv", ".txt"):
            frame = _typed_feature_csv(read_table_csv(path).frame, path)
        else:
            raise DataError(f"{path}: expected a .csv or .parquet feature table, got {path.suffix!r}")
    except (OSError, ValueError) as exc:  # parquet: not a parquet file, unreadable
        raise DataError(f"{path}: cannot read the feature table: {str(exc).strip()}") from None
    if TARGET in frame.columns:
        frame[TARGET] = pd.to_numeric(frame[TARGET], errors="coerce")
        if frame[TARGET].isna().any() or not frame[TARGET].isin((0, 1)).all():
            raise DataError(f"{path}: column {TARGET!r} must hold 0/1 labels")
        frame[TARGET] = frame[TARGET].astype("int64")
    return frame
