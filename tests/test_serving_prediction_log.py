"""Prediction log writer and reader (the contract the monitoring pipeline reads)."""

from __future__ import annotations

import json
import logging
import multiprocessing
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from accidents.errors import ConfigError, DataError
from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.serving.prediction_log import (
    ENCODERS,
    LogSettings,
    PredictionLogWriter,
    log_files,
    read_prediction_log,
)
from tests.training_frames import fabricated_users


def _inputs(n: int) -> pd.DataFrame:
    return fabricated_users(40)[list(MODEL_INPUT_COLUMNS)].head(n).reset_index(drop=True)


@pytest.mark.parametrize("encoder", sorted(ENCODERS))
def test_written_records_read_back_exactly(tmp_path: Path, encoder: str) -> None:
    path = tmp_path / "log" / "p.jsonl"
    writer = PredictionLogWriter(path, encoder=encoder)
    inputs = _inputs(12)
    proba = np.linspace(0.01, 0.99, 12)
    assert writer.write(inputs, proba, proba >= 0.5, "r", "3") == 12
    writer.write(inputs.head(2), proba[:2], proba[:2] >= 0.5, "x", "4")
    writer.close()

    lines = path.read_text().splitlines()
    assert len(lines) == 2  # one record per batch
    first = json.loads(lines[0])
    assert set(first) == {"ts", "request_id", "model_version", "inputs", "probability", "severe"}
    assert first["ts"].endswith("Z") and first["request_id"] == "r" and first["model_version"] == "3"
    assert first["inputs"]["an"] == inputs["an"].tolist() and first["probability"] == proba.tolist()

    frame = read_prediction_log(path)
    pd.testing.assert_frame_equal(frame[list(MODEL_INPUT_COLUMNS)].head(12), inputs, check_dtype=True)
    np.testing.assert_array_equal(frame["probability"].head(12), proba)
    assert frame["model_version"].tolist() == ["3"] * 12 + ["4"] * 2
    assert frame["severe"].tolist()[:12] == (proba >= 0.5).tolist()
    assert frame["request_id"].tolist() == [f"r-{i}" for i in range(12)] + ["x-0", "x-1"]
    assert str(frame["ts"].dtype).startswith("datetime64")


def test_encoders_write_the_same_records(tmp_path: Path) -> None:
    """The msgspec fast path and the standard-library fallback agree (NaN -> null)."""
    assert "msgspec" in ENCODERS, "msgspec is installed in the project venv: the fast path must be used"
    inputs = _inputs(20)
    inputs.loc[[0, 3], "an_nais"] = np.nan
    inputs.loc[5, "vma"] = np.nan
    proba = np.random.default_rng(0).random(20)
    out = {name: encode(inputs, proba, proba >= 0.4, 'r"1', 'v"7', "2026-01-01T00:00:00.000Z")
           for name, encode in ENCODERS.items()}
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in out.values())
    records = {name: json.loads(line) for name, line in out.items()}
    assert records["msgspec"] == records["json"]
    record = records["msgspec"]
    assert record["request_id"] == 'r"1' and record["model_version"] == 'v"7'
    assert record["inputs"]["an_nais"][0] is None and record["inputs"]["vma"][5] is None
    assert record["probability"] == proba.tolist()


def test_logs_of_one_record_per_prediction_are_still_read(tmp_path: Path) -> None:
    """The layout before batch records (scalar fields, the prediction id as request_id)."""
    path = tmp_path / "p.jsonl"
    rows = _inputs(3)
    with path.open("w") as fh:
        for i, row in enumerate(rows.to_dict(orient="records")):
            row = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
            fh.write(json.dumps({"ts": f"2026-01-01T00:00:0{i}Z", "request_id": f"old-{i}", "model_version": "2",
                                 "inputs": row, "probability": 0.25 * i, "severe": i == 2}) + "\n")
    writer = PredictionLogWriter(path)
    writer.write(_inputs(2), np.array([0.1, 0.9]), np.array([False, True]), "new", "3",
                 ts=datetime(2026, 1, 1, 0, 1, tzinfo=UTC))
    writer.close()
    frame = read_prediction_log(path)
    assert frame["request_id"].tolist() == ["old-0", "old-1", "old-2", "new-0", "new-1"]
    assert frame["probability"].tolist() == [0.0, 0.25, 0.5, 0.1, 0.9]
    assert frame["severe"].tolist() == [False, False, True, False, True]
    pd.testing.assert_frame_equal(frame[list(MODEL_INPUT_COLUMNS)].head(3), rows, check_dtype=True)


@pytest.mark.parametrize(("line", "expected"), [
    ("{not json", "p.jsonl:2: not valid JSON"),
    ('{"ts": "2024-01-01T00:00:00Z"}', "p.jsonl:2: record lacks key(s)"),
    ('[1, 2]', "p.jsonl:2: expected a JSON object"),
])
def test_malformed_lines_are_named(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "p.jsonl"
    writer = PredictionLogWriter(path)
    writer.write(_inputs(1), np.array([0.2]), np.array([False]), "a", "1")
    writer.close()
    with path.open("a") as fh:
        fh.write(line + "\n")
    with pytest.raises(DataError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        read_prediction_log(path)


def _batch_line(**changes: object) -> str:
    rows = _inputs(3)
    record = {"ts": "2026-01-01T00:00:00Z", "request_id": "b", "model_version": "1",
              "inputs": {c: [None if isinstance(v, float) and v != v else v for v in rows[c].tolist()]
                         for c in MODEL_INPUT_COLUMNS},
              "probability": [0.1, 0.2, 0.3], "severe": [False, False, False]}
    for key, value in changes.items():
        if key in record:
            record[key] = value
        else:
            record["inputs"][key] = value
    return json.dumps(record)


@pytest.mark.parametrize(("changes", "expected"), [
    ({"severe": [False]}, "p.jsonl:2: batch record: 'severe' has 1 values but 'probability' has 3"),
    ({"catv": [7, 7]}, "p.jsonl:2: batch record: 'catv' has 2 values but 'probability' has 3"),
    ({"probability": [0.1, 1.5, 0.3]}, "p.jsonl:2: row 1: probability 1.5 is not a number in [0, 1]"),
    ({"catv": [7, "car", 7]}, "p.jsonl:2: inputs column 'catv', row 1: value 'car' is not an integer code"),
])
def test_malformed_batch_records_name_the_field_and_row(tmp_path: Path, changes: dict, expected: str) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(_batch_line() + "\n" + _batch_line(**changes) + "\n")
    with pytest.raises(DataError, match=expected.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        read_prediction_log(path)


def test_missing_log_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_prediction_log(tmp_path / "none.jsonl")


# ----------------------------------------------------------------- rotation and retention

def _write_batches(writer: PredictionLogWriter, batches: int, rows: int, tag: str) -> None:
    inputs = _inputs(rows)
    proba = np.linspace(0.1, 0.9, rows)
    for b in range(batches):
        writer.write(inputs, proba, proba >= 0.5, f"{tag}-{b}", "1")


def test_rotation_by_size_keeps_the_newest_files_and_reads_across_them(tmp_path: Path) -> None:
    """A file at most max_mb, `keep` rotated files: the disk use is bounded; reading spans them."""
    path = tmp_path / "p.jsonl"
    settings = LogSettings(path=path, max_mb=0.004, rotate="midnight", keep=3)  # ~4 KB files
    writer = PredictionLogWriter(settings=settings, linger=0)  # one write per batch
    _write_batches(writer, 60, 4, "a")  # 60 records of 4 rows, ~650 bytes each: ~39 KB
    writer.close()
    files = log_files(path)
    assert len(files) == 4, files  # 3 rotated + the current one, older ones deleted
    batch = len(files[-1].read_text().splitlines()[0])
    assert all(f.stat().st_size <= 4 * 1024 + batch for f in files)  # over by one batch at most
    frame = read_prediction_log(path)
    lines = sum(len(f.read_text().splitlines()) for f in files)
    assert len(frame) == 4 * lines < 240  # what retention kept, read across every file
    assert frame["request_id"].iloc[-1] == "a-59-3"  # the newest record survives, last


def test_rotation_by_time(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    writer = PredictionLogWriter(settings=LogSettings(path=path, max_mb=100, rotate="s", keep=5), linger=0)
    _write_batches(writer, 1, 3, "first")
    writer.flush()
    time.sleep(1.1)
    _write_batches(writer, 1, 2, "second")
    writer.close()
    files = log_files(path)
    assert len(files) == 2 and files[-1] == path, files
    assert len(files[0].read_text().splitlines()) == 1 and len(path.read_text().splitlines()) == 1
    assert len(read_prediction_log(path)) == 5


def test_compressed_rotated_files_are_read(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    writer = PredictionLogWriter(settings=LogSettings(path=path, max_mb=0.004, keep=10, compress=True), linger=0)
    _write_batches(writer, 20, 4, "z")  # ~13 KB in 4 KB files
    writer.close()
    assert sum(f.suffix == ".gz" for f in log_files(path)) >= 2
    assert len(read_prediction_log(path)) == 80


def test_batches_queued_within_the_linger_go_out_in_one_write_in_order(tmp_path: Path) -> None:
    """The service's default: the writer thread waits, then writes what queued meanwhile at once."""
    path = tmp_path / "p.jsonl"
    writer = PredictionLogWriter(path, linger=0.3)
    emits: list[int] = []
    emit = writer._handler.emit
    writer._handler.emit = lambda record: (emits.append(len(record.batches)), emit(record))  # type: ignore[method-assign]
    _write_batches(writer, 25, 2, "m")  # well within 0.3 s
    writer.flush()
    assert sum(emits) == 25 and len(emits) <= 2, emits  # 25 batches, one or two writes
    _write_batches(writer, 1, 2, "last")
    writer.close()  # the shutdown drains what is queued
    ids = [json.loads(line)["request_id"] for line in path.read_text().splitlines()]
    assert ids == [f"m-{b}" for b in range(25)] + ["last-0"]  # one record per batch, in order
    assert read_prediction_log(path)["request_id"].tolist() == (
        [f"m-{b}-{i}" for b in range(25) for i in range(2)] + ["last-0-0", "last-0-1"])


def _write_in_child(path: Path, tag: str) -> None:
    writer = PredictionLogWriter(settings=LogSettings(path=path, max_mb=0.02, keep=1000), linger=0)
    _write_batches(writer, 60, 3, tag)
    writer.close()


def test_two_processes_write_and_rotate_one_log_without_losing_records(tmp_path: Path) -> None:
    """The service's workers share the file: rotations by one must not lose the other's records."""
    path = tmp_path / "p.jsonl"
    fork = multiprocessing.get_context("fork")  # the children start from this process' imports
    procs = [fork.Process(target=_write_in_child, args=(path, tag)) for tag in ("p1", "p2")]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    frame = read_prediction_log(path)
    assert len(log_files(path)) > 3  # it did rotate, several times
    assert sorted(frame["request_id"]) == sorted(f"{t}-{b}-{i}" for t in ("p1", "p2")
                                                 for b in range(60) for i in range(3))


def _block_file_handler(writer: PredictionLogWriter) -> threading.Event:
    """Make the writer thread's file handler wait until the returned event is set."""
    gate = threading.Event()
    emit = writer._handler.emit

    def slow_emit(record: logging.LogRecord) -> None:
        gate.wait(10)
        emit(record)

    writer._handler.emit = slow_emit  # type: ignore[method-assign]
    return gate


def test_write_is_off_the_request_path(tmp_path: Path) -> None:
    """write() only queues: it returns while the file handler is blocked."""
    path = tmp_path / "p.jsonl"
    writer = PredictionLogWriter(settings=LogSettings(path=path))
    gate = _block_file_handler(writer)
    started = time.perf_counter()
    _write_batches(writer, 5, 2, "q")
    assert time.perf_counter() - started < 1.0
    assert not path.exists() or path.read_text() == ""
    gate.set()
    writer.close()
    assert len(read_prediction_log(path)) == 10


def test_since_until_select_records_by_time(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    writer = PredictionLogWriter(settings=LogSettings(path=path))
    inputs = _inputs(1)
    for minute in range(5):
        writer.write(inputs, np.array([0.5]), np.array([True]), f"m{minute}", "1",
                     ts=datetime(2026, 1, 1, 0, minute, tzinfo=UTC))
    writer.close()
    frame = read_prediction_log(path, since=datetime(2026, 1, 1, 0, 1, tzinfo=UTC),
                                until=datetime(2026, 1, 1, 0, 3, tzinfo=UTC))
    assert frame["request_id"].tolist() == ["m2-0", "m3-0"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"path": Path("relative/p.jsonl")}, "must be absolute"),
    ({"keep": 0}, "keep all"),
    ({"rotate": "fortnight"}, "rotation 'fortnight'"),
    ({"max_mb": 0}, "max size"),
])
def test_bad_log_settings_are_config_errors(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        LogSettings(**{"path": tmp_path / "p.jsonl", **kwargs})


def test_environment_overrides_the_bentos_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCIDENTS_PREDICTION_LOG", str(tmp_path / "env.jsonl"))
    monkeypatch.setenv("ACCIDENTS_PREDICTION_LOG_KEEP", "3")
    chosen = LogSettings.resolve(str(tmp_path / "baked.jsonl"), 50, "h", 7, False)
    assert (chosen.path, chosen.keep, chosen.max_mb, chosen.rotate) == (tmp_path / "env.jsonl", 3, 50, "h")
    monkeypatch.delenv("ACCIDENTS_PREDICTION_LOG")
    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "home"))
    assert LogSettings.resolve().path == tmp_path / "home" / "prediction_logs" / "predictions.jsonl"


def test_close_waits_for_a_full_queue(tmp_path: Path) -> None:
    """Shutdown with the queue full (a burst faster than the disk) writes every record."""
    path = tmp_path / "p.jsonl"
    writer = PredictionLogWriter(settings=LogSettings(path=path), queue_size=4)
    gate = _block_file_handler(writer)
    _write_batches(writer, 5, 1, "f")  # one held by the blocked thread, four fill the queue
    assert writer._queue.full()
    threading.Timer(0.5, gate.set).start()
    writer.close()
    assert len(read_prediction_log(path)) == 5
