"""Prediction log writer and reader (the contract the monitoring pipeline reads)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from accidents.errors import DataError
from accidents.features import MODEL_INPUT_COLUMNS
from accidents.prediction_log import PredictionLogWriter, read_prediction_log
from tests.training_frames import fabricated_users


def _inputs(n: int) -> pd.DataFrame:
    return fabricated_users(40)[list(MODEL_INPUT_COLUMNS)].head(n).reset_index(drop=True)


def test_written_records_read_back_exactly(tmp_path: Path) -> None:
    path = tmp_path / "log" / "p.jsonl"
    writer = PredictionLogWriter(path)
    inputs = _inputs(12)
    proba = np.linspace(0.01, 0.99, 12)
    assert writer.write(inputs, proba, proba >= 0.5, [f"r-{i}" for i in range(12)], "3") == 12
    writer.write(inputs.head(2), proba[:2], proba[:2] >= 0.5, ["x-0", "x-1"], "4")
    writer.close()

    lines = path.read_text().splitlines()
    assert len(lines) == 14
    first = json.loads(lines[0])
    assert set(first) == {"ts", "request_id", "model_version", "inputs", "probability", "severe"}
    assert first["ts"].endswith("Z") and first["request_id"] == "r-0" and first["model_version"] == "3"

    frame = read_prediction_log(path)
    pd.testing.assert_frame_equal(frame[list(MODEL_INPUT_COLUMNS)].head(12), inputs, check_dtype=True)
    np.testing.assert_array_equal(frame["probability"].head(12), proba)
    assert frame["model_version"].tolist() == ["3"] * 12 + ["4"] * 2
    assert frame["severe"].tolist()[:12] == (proba >= 0.5).tolist()
    assert str(frame["ts"].dtype).startswith("datetime64")


@pytest.mark.parametrize(("line", "expected"), [
    ("{not json", "p.jsonl:2: not valid JSON"),
    ('{"ts": "2024-01-01T00:00:00Z"}', "p.jsonl:2: record lacks key(s)"),
    ('[1, 2]', "p.jsonl:2: expected a JSON object"),
])
def test_malformed_lines_are_named(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "p.jsonl"
    writer = PredictionLogWriter(path)
    writer.write(_inputs(1), np.array([0.2]), np.array([False]), ["a"], "1")
    writer.close()
    with path.open("a") as fh:
        fh.write(line + "\n")
    with pytest.raises(DataError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        read_prediction_log(path)


def test_missing_log_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_prediction_log(tmp_path / "none.jsonl")
