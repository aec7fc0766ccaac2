"""Prediction log: bytes per prediction (plain and gzipped), rows written per second, time to read.

    python bench/bench_prediction_log.py [--accidents 6000]

Synthetic road users (announced: the sizes of real rows differ by a few bytes per field)
go through the service's own ``PredictionLogWriter`` one row per call (like single-row
requests) and 1,000 rows per call (batches); prints one line per case. The figures feed
docs/serving.md ("Prediction log", disk use per million predictions).
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accidents.data.loader import load_years  # noqa: E402
from accidents.learning.features import MODEL_INPUT_COLUMNS, build_user_table  # noqa: E402
from accidents.serving.prediction_log import (  # noqa: E402
    LogSettings,
    PredictionLogWriter,
    read_prediction_log,
)
from accidents.synthetic import SYNTHETIC_NOTICE, write_synthetic  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accidents", type=int, default=6000, help="synthetic accidents (one year)")
    args = parser.parse_args()
    print(SYNTHETIC_NOTICE)
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_synthetic(work / "baac", [2023], n_accidents=args.accidents, seed=1)
        users, _ = build_user_table(load_years(work / "baac", [2023]))
        inputs = users[list(MODEL_INPUT_COLUMNS)].reset_index(drop=True)
        proba = np.random.default_rng(0).random(len(inputs))
        for batch in (1, 1000):
            path = work / f"log-{batch}" / "predictions.jsonl"
            writer = PredictionLogWriter(settings=LogSettings(path=path, max_mb=1000))
            parts = [(inputs.iloc[s:s + batch], proba[s:s + batch]) for s in range(0, len(inputs), batch)]
            started = time.perf_counter()
            for part, p in parts:
                writer.write(part, p, p >= 0.5, uuid.uuid4().hex, "3")
            writer.close()  # drains the queue: every record is on disk
            elapsed = time.perf_counter() - started
            size = path.stat().st_size
            zipped = len(gzip.compress(path.read_bytes()))
            started = time.perf_counter()
            rows = len(read_prediction_log(path))
            read = time.perf_counter() - started
            n = len(inputs)
            print(f"rows per write {batch}: {n} rows, {size / n:.0f} bytes/row "
                  f"({size / n:.0f} MB per million), gzip {zipped / n:.0f} bytes/row; "
                  f"{n / elapsed:,.0f} rows/s written end to end; "
                  f"read {rows} rows in {read:.2f} s")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
