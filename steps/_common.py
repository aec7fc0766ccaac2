"""Small helpers shared by the training steps (timing, JSON-safe metadata, MLflow access).

Why: every step logs the same kind of metadata (row counts, class balance, seconds); one
helper keeps the keys consistent so `run.py models` and the dashboard read them the same way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

from ops.registry import json_safe  # noqa: F401 - re-exported for the steps


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
