"""Monitoring inputs get the loader's care (issue 9 item 7): a corrupt prediction-log line,
a current-batch file with wrong columns or bad cells -> skipped and counted, or one clear
DataError naming file/line/column/value; never a crash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from accidents.errors import DataError
from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.monitoring.drift import check_batch_columns
from accidents.monitoring.sources import batch_from_file, batch_from_prediction_log
from accidents.serving.prediction_log import PredictionLogWriter, read_prediction_log
from tests.training_frames import fabricated_users


def _log(path: Path, n: int) -> Path:
    """``n`` single-row requests: ``n`` lines of one prediction each."""
    inputs = fabricated_users(max(n, 40))[list(MODEL_INPUT_COLUMNS)].head(n).reset_index(drop=True)
    writer = PredictionLogWriter(path)
    proba = np.linspace(0.05, 0.95, n)
    for i in range(n):
        writer.write(inputs.iloc[[i]], proba[i:i + 1], proba[i:i + 1] >= 0.5, f"r{i}", "1")
    writer.close()
    return path


def test_a_write_cut_mid_line_is_skipped_and_counted(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = _log(tmp_path / "p.jsonl", 20)
    with path.open("ab") as fh:
        fh.write(b'{"ts": "2024-01-01T00:00:00Z", "request_id": "r-x", "inp')  # no line end
    frame = batch_from_prediction_log(path)
    assert len(frame) == 20
    err = capsys.readouterr().err
    assert f"warning: {path}: skipped 1 unusable line(s) of 21 (first: {path}:21: not valid JSON" in err


@pytest.mark.parametrize(("bad", "why"), [
    (b"\xff\xfe garbage\n", "not UTF-8 text"),
    (b'{"ts": "x", "request_id": "r", "model_version": "1", "inputs": {}, "probability": 0.2, '
     b'"severe": false}\n', "'inputs' lacks column(s)"),
])
def test_a_corrupt_line_in_a_large_log_is_skipped_and_counted(tmp_path: Path, bad: bytes, why: str) -> None:
    path = _log(tmp_path / "p.jsonl", 150)
    with path.open("ab") as fh:
        fh.write(bad)
    _log(path, 10)  # more records after the corrupt one
    frame = read_prediction_log(path)
    assert len(frame) == 160 and frame.attrs["corrupt_lines"] == 1
    assert frame.attrs["first_corrupt"].startswith(f"{path}:151: {why}")


def test_too_many_corrupt_lines_stop_with_the_first(tmp_path: Path) -> None:
    path = _log(tmp_path / "p.jsonl", 5)
    with path.open("ab") as fh:
        fh.write(b'{"ts": "2024-01-01T00:00:00Z", "request_id": "r", "model_version": "1", "inputs": '
                 + b'{' + ", ".join(f'"{c}": "x"' for c in MODEL_INPUT_COLUMNS).encode() + b'}, '
                 + b'"probability": 0.3, "severe": false}\n')
        fh.write(b"{broken\n")
    with pytest.raises(DataError, match=r"p.jsonl:6: inputs column '\w+': value 'x' is not (a number|an "
                                        r"integer code) \(2 of 7 lines unusable"):
        read_prediction_log(path)


def _feature_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, sep=";", index=False)
    return path


def test_batch_file_with_wrong_columns_names_them(tmp_path: Path) -> None:
    frame = fabricated_users(60)[list(MODEL_INPUT_COLUMNS)].rename(columns={"vma": "speed"})
    batch = batch_from_file(_feature_csv(tmp_path / "b.csv", frame))
    with pytest.raises(DataError, match=r"b.csv: missing column\(s\) vma; unexpected column\(s\) speed"):
        check_batch_columns(batch, MODEL_INPUT_COLUMNS, str(tmp_path / "b.csv"))


def test_batch_file_bad_cell_names_line_column_value(tmp_path: Path) -> None:
    frame = fabricated_users(60)[list(MODEL_INPUT_COLUMNS)].astype(object)
    frame.iloc[6, list(frame.columns).index("catv")] = "voiture"
    with pytest.raises(DataError, match=r"b.csv: line 8, column 'catv': value 'voiture' is not a number"):
        batch_from_file(_feature_csv(tmp_path / "b.csv", frame))


@pytest.mark.parametrize(("content", "why"), [
    (b"", "b.csv: line 1: empty file"),
    (b"\x1f\x8b\x08\x00binary", "b.csv: line 1, column 1: the file is gzip-compressed"),
    (b"a;b\n1;2;3;4\n", "b.csv: line 2, column #3 .*4 fields where the header has 2"),
    (b"a;b\n\"1;2\n3;4\n", "b.csv: line 2, column 'a': a quote opens"),
    (b"a;a\n1;2\n", "b.csv: line 1, column 'a': the header names this column twice"),
])
def test_unreadable_batch_file_is_one_error(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=why):
        batch_from_file(path)
