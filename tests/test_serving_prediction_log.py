"""Prediction log writer and reader (the contract the monitoring pipeline reads)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from accidents.errors import DataError
from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.serving.prediction_log import ENCODERS, PredictionLogWriter, read_prediction_log
from tests.training_frames import fabricated_users


def _inputs(n: int) -> pd.DataFrame:
    return fabricated_users(40)[list(MODEL_INPUT_COLUMNS)].head(n).reset_index(drop=True)


@pytest.mark.parametrize("encoder", sorted(ENCODERS))
def test_written_records_read_back_exactly(tmp_path: Path, encoder: str) -> None:
    path = tmp_path / "log" / "p.jsonl"
    writer = PredictionLogWriter(path, encoder=encoder)
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


def test_encoders_write_the_same_records(tmp_path: Path) -> None:
    """The msgspec fast path and the pandas fallback agree record for record (NaN -> null)."""
    assert "msgspec" in ENCODERS, "msgspec is installed in the project venv: the fast path must be used"
    inputs = _inputs(20)
    inputs.loc[[0, 3], "an_nais"] = np.nan
    inputs.loc[5, "vma"] = np.nan
    proba = np.random.default_rng(0).random(20)
    out = {}
    for name, encode in ENCODERS.items():
        data = encode(inputs, proba, proba >= 0.4, [f"r\"{i}" for i in range(20)], "v\"7", "2026-01-01T00:00:00.000Z")
        out[name] = [json.loads(line) for line in data.decode().splitlines()]
    assert len(out["msgspec"]) == 20
    assert out["msgspec"] == out["pandas"]
    assert out["msgspec"][0]["request_id"] == 'r"0' and out["msgspec"][0]["model_version"] == 'v"7'
    assert out["msgspec"][0]["inputs"]["an_nais"] is None and out["msgspec"][5]["inputs"]["vma"] is None
    assert [r["probability"] for r in out["msgspec"]] == proba.tolist()


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
