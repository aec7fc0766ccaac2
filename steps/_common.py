"""Small helpers shared by the training steps (timing, JSON-safe metadata, MLflow access).

Why: every step logs the same kind of metadata (row counts, class balance, seconds); one
helper keeps the keys consistent so `run.py models` and the dashboard read them the same way.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd


def json_safe(value: Any) -> Any:
    """Metadata values ZenML can store: NaN -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def class_balance(target: pd.Series) -> dict[str, float]:
    """Rows, severe rows and severe share of a 0/1 target."""
    return {"rows": int(len(target)), "severe": int(target.sum()),
            "severe_share": round(float(target.mean()), 4) if len(target) else None}


@contextmanager
def timed(store: dict[str, Any], key: str = "seconds") -> Iterator[None]:
    """Put the wall time of the block (rounded) into ``store[key]``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        store[key] = round(time.perf_counter() - start, 3)


def active_mlflow() -> Any | None:
    """The ``mlflow`` module when the step runs under ZenML's MLflow experiment tracker.

    The tracker imports mlflow and starts a run before the step body; on the local profile
    mlflow is never imported, so this costs nothing there.
    """
    mlflow = sys.modules.get("mlflow")
    if mlflow is None:
        return None
    try:
        return mlflow if mlflow.active_run() is not None else None
    except Exception:  # noqa: BLE001 - a broken tracker must not fail training
        return None
