"""The service's prediction log: JSON Lines, one record per prediction (docs/CONTRACTS.md).

Record: ``{"ts", "request_id", "model_version", "inputs": {MODEL_INPUT_COLUMNS},
"probability", "severe"}``. The service appends, the monitoring pipeline reads it back as
"current" data with ``read_prediction_log``.

Why the writer builds the lines itself: it runs inside the batch handler, so it must cost
little per row. A batch is turned into one column list per field, the records are built by
C-level ``map``/``zip`` into msgspec Structs (no Python bytecode per row) and encoded with
one ``encode_lines`` call: ~1.5 ms per 1,000 rows against ~5.5 ms for
``DataFrame.to_json`` + per-row string formatting (kept as the fallback when msgspec is not
installed, e.g. a Bento image without it). The bytes go out with one ``write`` on a file
opened in append mode (several worker processes may share the file; on a local filesystem
one ``O_APPEND`` write is not interleaved with another).
"""

from __future__ import annotations

import glob
import gzip
import json
import logging
import os
import queue
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from logging.handlers import QueueListener
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from accidents.errors import ConfigError, DataError
from accidents.learning.features import FLOAT_INPUTS, MODEL_INPUT_COLUMNS

LOG_ENV = "ACCIDENTS_PREDICTION_LOG"
#: A batch's model inputs: a DataFrame or the service's validated numpy columns (both index by name).
Inputs = pd.DataFrame | Mapping[str, np.ndarray]
MAX_MB_ENV = "ACCIDENTS_PREDICTION_LOG_MAX_MB"
ROTATE_ENV = "ACCIDENTS_PREDICTION_LOG_ROTATE"
KEEP_ENV = "ACCIDENTS_PREDICTION_LOG_KEEP"
COMPRESS_ENV = "ACCIDENTS_PREDICTION_LOG_COMPRESS"
#: Where a service writes when neither the deploy step nor the environment said where: a
#: folder beside the BentoML store (absolute, outside every Bento, kept across redeploys).
DEFAULT_LOG_NAME = "prediction_logs/predictions.jsonl"
RECORD_KEYS = ("ts", "request_id", "model_version", "inputs", "probability", "severe")
#: ``when`` values of logging.handlers.TimedRotatingFileHandler (seconds .. weekly).
ROTATE_WHEN = ("S", "M", "H", "D", "MIDNIGHT", *(f"W{d}" for d in range(7)))

try:  # fast path; msgspec encodes NaN as null, floats shortest round-trip, like json
    import msgspec
except ImportError:  # pragma: no cover - the pandas encoder below takes over
    msgspec = None

if msgspec is not None:
    _Inputs = msgspec.defstruct("Inputs", [(c, Any) for c in MODEL_INPUT_COLUMNS])
    _Record = msgspec.defstruct("Record", [("ts", str), ("request_id", str), ("model_version", str),
                                           ("inputs", _Inputs), ("probability", float), ("severe", bool)])
    _ENCODER = msgspec.json.Encoder()


def encode_msgspec(inputs: Inputs, probabilities: np.ndarray, severe: np.ndarray,
                   request_ids: Sequence[str], model_version: str, stamp: str) -> bytes:
    """JSON Lines for a batch: one list per column, Structs built by C-level map/zip."""
    columns = [inputs[c].tolist() for c in MODEL_INPUT_COLUMNS]
    records = map(_Record, repeat(stamp), list(request_ids), repeat(model_version),
                  map(_Inputs, *columns), np.asarray(probabilities, dtype=float).tolist(),
                  np.asarray(severe, dtype=bool).tolist())
    return _ENCODER.encode_lines(list(records))


def encode_pandas(inputs: Inputs, probabilities: np.ndarray, severe: np.ndarray,
                  request_ids: Sequence[str], model_version: str, stamp: str) -> bytes:
    """The same lines with pandas' ``to_json`` for the inputs (fallback without msgspec)."""
    head = f'{{"ts":"{stamp}","request_id":'
    tail = f'"model_version":{json.dumps(model_version)},'
    input_lines = pd.DataFrame({c: inputs[c] for c in MODEL_INPUT_COLUMNS}).to_json(
        orient="records", lines=True, double_precision=15
    ).splitlines()
    parts = [
        f'{head}{json.dumps(rid)},{tail}"inputs":{inp},"probability":{p!r},"severe":{"true" if s else "false"}}}\n'
        for rid, inp, p, s in zip(request_ids, input_lines, np.asarray(probabilities, dtype=float).tolist(),
                                  np.asarray(severe, dtype=bool).tolist(), strict=True)
    ]
    return "".join(parts).encode("utf-8")


ENCODERS = {"pandas": encode_pandas, **({"msgspec": encode_msgspec} if msgspec is not None else {})}


def default_log_path() -> Path:
    """``$BENTOML_HOME/prediction_logs/predictions.jsonl`` (BentoML's own default home when unset)."""
    home = os.environ.get("BENTOML_HOME") or str(Path.home() / "bentoml")
    return Path(home).expanduser().resolve() / DEFAULT_LOG_NAME


@dataclass(frozen=True)
class LogSettings:
    """Where the log goes and how it is rotated (size and time) and pruned (retention).

    Why these defaults: a record is ~550 bytes (docs/serving.md, "Prediction log"), so a
    100 MB file holds ~190k predictions; a new file starts every day at midnight UTC or at
    100 MB, whichever comes first, and the 10 newest rotated files are kept: the log never
    takes more than ~1.1 GB (11 files of at most 100 MB), gzip (``compress``) cuts that ~8x.
    """

    path: Path
    max_mb: float = 100.0
    rotate: str = "midnight"
    keep: int = 10
    compress: bool = False

    def __post_init__(self) -> None:
        if not self.path.is_absolute():
            raise ConfigError(f"prediction log path {str(self.path)!r} must be absolute (a relative "
                              "path would follow the server's working directory, i.e. the Bento)")
        if not self.max_mb > 0:
            raise ConfigError(f"prediction log max size must be > 0 MB, got {self.max_mb!r} ({MAX_MB_ENV})")
        if self.rotate.upper() not in ROTATE_WHEN:
            raise ConfigError(f"prediction log rotation {self.rotate!r} is not one of "
                              f"{', '.join(w.lower() for w in ROTATE_WHEN)} ({ROTATE_ENV})")
        if self.keep < 1:
            raise ConfigError(f"prediction log retention must keep >= 1 rotated file, got {self.keep!r} "
                              f"({KEEP_ENV}); 0 would mean 'keep all', which can fill the disk")

    @classmethod
    def resolve(cls, path: str | Path | None = None, max_mb: float | None = None,
                rotate: str | None = None, keep: int | None = None,
                compress: bool | None = None) -> LogSettings:
        """The environment's values over the given ones (the Bento's), over the defaults."""
        env = os.environ
        chosen = env.get(LOG_ENV) or (str(path) if path else "") or str(default_log_path())
        try:
            return cls(
                path=Path(chosen).expanduser(),
                max_mb=float(env.get(MAX_MB_ENV) or max_mb or cls.max_mb),
                rotate=env.get(ROTATE_ENV) or rotate or cls.rotate,
                keep=int(env.get(KEEP_ENV) or keep or cls.keep),
                compress=(env.get(COMPRESS_ENV, "").lower() in ("1", "true", "yes")
                          if env.get(COMPRESS_ENV) else bool(compress)),
            )
        except ValueError as exc:
            raise ConfigError(f"prediction log settings: {exc} (check ${MAX_MB_ENV}, ${KEEP_ENV})") from None

    def describe(self) -> dict[str, Any]:
        """What /model_info reports."""
        return {"path": str(self.path), "max_mb": self.max_mb, "rotate": self.rotate.lower(),
                "keep": self.keep, "compress": self.compress}


class _BatchFormatter(logging.Formatter):
    """Encodes the queued batches a record carries into their JSON Lines (runs in the writer thread)."""

    def __init__(self, encode: Any) -> None:
        super().__init__()
        self._encode = encode

    def format(self, record: logging.LogRecord) -> str:
        # the handler appends the last line's "\n" itself (its terminator cannot be empty)
        lines = b"".join(self._encode(*batch) for batch in record.batches)  # type: ignore[attr-defined]
        return lines.decode("utf-8")[:-1]


#: Default wait of the writer thread after the first queued batch, before it drains the queue.
DEFAULT_LINGER_MS = 50.0
#: Queued batches are merged into one write until it holds this many rows (a write can
#: therefore hold up to twice as many, the last batch taken whole).
MAX_MERGED_ROWS = 10_000


class _Passthrough(QueueListener):
    """A QueueListener that hands records over as they are, several queued batches at a time.

    Why the linger: waking the writer thread for every batch cost the request path more than
    the write itself (at 32 concurrent single-row requests, ~15 % of a worker's GIL time sat
    in ``Queue.put`` waking the thread; docs/serving.md). After the first batch the thread
    sleeps ``linger`` seconds, during which ``put`` finds no waiter to wake, then takes
    everything queued (up to ``MAX_MERGED_ROWS``) into one record: one encode, one lock,
    one write. Records reach the file at most ``linger`` later; ``flush`` still waits for them.
    ``linger=0``: one write per batch, as queued.
    """

    def __init__(self, q: queue.Queue, handler: logging.Handler, linger: float) -> None:
        super().__init__(q, handler)
        self.linger = linger
        self._stop_next = False  # the sentinel (None) was met while draining: the next dequeue returns it

    def dequeue(self, block: bool) -> Any:
        if self._stop_next:
            self._stop_next = False
            return self._sentinel
        record = self.queue.get(block)
        if record is self._sentinel:
            return record
        record.batches = [record.batch]
        if self.linger <= 0:  # no linger: one write per batch
            return record
        time.sleep(self.linger)
        rows = len(record.batch[1])
        while rows < MAX_MERGED_ROWS:
            try:
                more = self.queue.get_nowait()
            except queue.Empty:
                break
            if more is self._sentinel:
                self._stop_next = True  # its task_done comes when the listener dequeues it
                break
            record.batches.append(more.batch)
            rows += len(more.batch[1])
            self.queue.task_done()  # the first record stays undone until all are written
        return record

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record

    def enqueue_sentinel(self) -> None:
        # wait for room: the stdlib's put_nowait raises queue.Full on a full queue at shutdown
        self.queue.put(self._sentinel)


class PredictionLogWriter:
    """Appends prediction records to a JSON Lines file, rotated by size and time, pruned.

    The request path only stamps the time and puts the batch on a queue; a thread of
    ``logging.handlers.QueueListener`` encodes it and writes it through
    ``concurrent_log_handler.ConcurrentTimedRotatingFileHandler``, which rotates at
    ``max_mb`` or at the ``rotate`` boundary, keeps ``keep`` rotated files (optionally
    gzipped) and serialises writers *and rotations* across the worker processes with a lock
    file (the stdlib rotating handlers are not safe with several processes on one file).
    The queue is bounded: if the disk cannot keep up, requests wait rather than the
    worker's memory growing or records being dropped.
    """

    def __init__(self, path: Path | str | None = None, encoder: str | None = None,
                 settings: LogSettings | None = None, queue_size: int = 10_000,
                 linger: float = DEFAULT_LINGER_MS / 1000) -> None:
        if settings is None:
            settings = LogSettings.resolve(path) if path is None else LogSettings(Path(path).resolve())
        self.settings = settings
        self.path = settings.path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        from concurrent_log_handler import ConcurrentTimedRotatingFileHandler

        self._handler = ConcurrentTimedRotatingFileHandler(
            str(self.path), when=settings.rotate, interval=1, backupCount=settings.keep,
            maxBytes=int(settings.max_mb * 1024 * 1024), utc=True, use_gzip=settings.compress,
            encoding="utf-8")
        self._handler.setFormatter(_BatchFormatter(
            ENCODERS[encoder or ("msgspec" if "msgspec" in ENCODERS else "pandas")]))
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._listener = _Passthrough(self._queue, self._handler, linger)
        self._listener.start()
        self._closed = False

    def write(self, inputs: Inputs, probabilities: np.ndarray, severe: np.ndarray,
              request_ids: Sequence[str], model_version: str, ts: datetime | None = None) -> int:
        """Queue one record per row of ``inputs``; returns the number of records queued."""
        n = len(probabilities)
        if n == 0:
            return 0
        if not (len(inputs[MODEL_INPUT_COLUMNS[0]]) == len(severe) == len(request_ids) == n):
            raise ValueError("inputs, probabilities, severe and request_ids differ in length")
        stamp = (ts or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        record = logging.LogRecord("accidents.predictions", logging.INFO, "", 0, "", None, None)
        record.batch = (inputs, probabilities, severe, request_ids, model_version, stamp)
        self._queue.put(record)
        return n

    def flush(self) -> None:
        """Wait until every queued batch is on disk (tests, shutdown)."""
        self._queue.join()

    def close(self) -> None:
        """Write what is queued, stop the thread, close the file (the service's shutdown hook)."""
        if self._closed:
            return
        self._closed = True
        self._listener.stop()
        self._handler.close()


def log_files(path: Path | str) -> list[Path]:
    """The log and its rotated files (``<name>.<time>[.<n>][.gz]``), oldest first."""
    path = Path(path)
    rotated = [p for p in path.parent.glob(glob.escape(path.name) + ".*") if p.is_file()]
    rotated.sort(key=lambda p: (p.stat().st_mtime, p.name))
    return rotated + ([path] if path.is_file() else [])


def _open_binary(path: Path) -> BinaryIO:
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


#: Share of a prediction log's lines that may be corrupt (skipped and counted) before the
#: read is refused. A lone corrupt last line without a line end (a write cut by a crash or
#: still in progress) is always skipped.
MAX_CORRUPT_SHARE = 0.01


def _record_problem(line: bytes, lineno: int) -> tuple[str | None, dict | None]:
    """(why the line is unusable, or None) and the parsed record."""
    try:
        rec = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte 0x{line[exc.start]:02x} at column {exc.start + 1})", None
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg} at column {exc.colno})", None
    if not isinstance(rec, dict):
        return f"expected a JSON object, got {type(rec).__name__}", None
    missing = [k for k in RECORD_KEYS if k not in rec]
    if missing:
        return f"record lacks key(s) {missing}; expected {list(RECORD_KEYS)}", None
    row = rec["inputs"]
    if not isinstance(row, dict):
        return "'inputs' must be an object of model inputs", None
    absent = [c for c in MODEL_INPUT_COLUMNS if c not in row]
    if absent:
        return f"'inputs' lacks column(s) {absent}", None
    prob = rec["probability"]
    if isinstance(prob, bool) or not isinstance(prob, int | float) or not 0.0 <= prob <= 1.0:
        return f"probability {prob!r} is not a number in [0, 1]", None
    for col in MODEL_INPUT_COLUMNS:
        value = row[col]
        if col == "hrmn":
            continue
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or (col not in FLOAT_INPUTS and value != int(value))):
            kind = "a number" if col in FLOAT_INPUTS else "an integer code"
            return f"inputs column {col!r}: value {value!r} is not {kind}", None
    return None, rec


def read_prediction_log(path: Path | str, since: datetime | None = None,
                        until: datetime | None = None) -> pd.DataFrame:
    """The log (with its rotated files) as a frame: ``MODEL_INPUT_COLUMNS`` + probability,
    severe, model_version, ts, request_id, sorted by ``ts``; only records with
    ``since < ts <= until`` when given.

    Dtypes follow the feature table (int64 codes, float64 ``an_nais``/``vma``/``nbv`` with
    NaN, str ``hrmn``) so monitoring compares it with training features directly. Rotated
    (and gzipped) files are read oldest first; those last written before ``since`` are not
    opened (a record is stamped before it is written, so such a file holds nothing newer).
    Corrupt lines (not UTF-8, not JSON, missing keys, ill-typed inputs) are skipped and
    counted in ``frame.attrs["corrupt_lines"]`` (first one in ``attrs["first_corrupt"]``)
    while they are at most ``MAX_CORRUPT_SHARE`` of the lines; beyond that, or for a
    missing log, ``DataError`` names the file, the first corrupt line and why.
    """
    path = Path(path)
    files = log_files(path)
    if not files:
        raise DataError(f"prediction log {path} does not exist (set {LOG_ENV} or serve the model first)")
    if since is not None:
        files = [f for f in files if f.stat().st_mtime >= since.timestamp()]
    inputs: list[dict] = []
    meta: list[tuple] = []
    corrupt: list[tuple[str, str]] = []
    total, lone_cut_last = 0, False
    for file in files:
        lineno, cut_last = 0, False
        with _open_binary(file) as handle:
            for lineno, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                total += 1
                problem, rec = _record_problem(line, lineno)
                if problem is not None or rec is None:
                    corrupt.append((f"{file}:{lineno}", problem or "unreadable"))
                    cut_last = not line.endswith(b"\n")
                    continue
                inputs.append(rec["inputs"])
                meta.append((float(rec["probability"]), bool(rec["severe"]), str(rec["model_version"]),
                             rec["ts"], str(rec["request_id"])))
        # a write cut by a crash or still in progress: the live file's last line, no line end
        lone_cut_last = (file == files[-1] and len(corrupt) == 1 and cut_last
                         and corrupt[0][0] == f"{file}:{lineno}")
    if corrupt and not lone_cut_last and len(corrupt) > MAX_CORRUPT_SHARE * total:
        first, why = corrupt[0]
        raise DataError(f"{first}: {why} ({len(corrupt)} of {total} lines unusable, above "
                        f"the {MAX_CORRUPT_SHARE:.0%} that may be skipped)")
    frame = pd.DataFrame(inputs, columns=list(MODEL_INPUT_COLUMNS))
    for col in MODEL_INPUT_COLUMNS:
        if col == "hrmn":
            frame[col] = frame[col].astype(str)
        elif col in FLOAT_INPUTS:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
        else:
            frame[col] = pd.to_numeric(frame[col]).astype("int64")  # checked per record above
    extra = pd.DataFrame(meta, columns=["probability", "severe", "model_version", "ts", "request_id"])
    try:
        extra["ts"] = pd.to_datetime(extra["ts"], utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise DataError(f"{path}: a 'ts' value is not an ISO 8601 time ({exc})") from None
    out = pd.concat([frame, extra], axis=1)
    if since is not None or until is not None:
        keep = np.ones(len(out), dtype=bool)
        if since is not None:
            keep &= (out["ts"] > pd.Timestamp(since)).to_numpy()
        if until is not None:
            keep &= (out["ts"] <= pd.Timestamp(until)).to_numpy()
        out = out[keep]
    out = out.sort_values("ts", kind="stable").reset_index(drop=True)
    out.attrs["corrupt_lines"] = len(corrupt)
    out.attrs["lines"] = total
    out.attrs["first_corrupt"] = f"{corrupt[0][0]}: {corrupt[0][1]}" if corrupt else ""
    return out
