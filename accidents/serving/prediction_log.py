"""The service's prediction log: JSON Lines, one record per answered batch (docs/CONTRACTS.md).

Record: ``{"ts", "request_id", "model_version", "inputs": {field: [value per row]},
"probability": [...], "severe": [...]}``; row ``i`` of a record is the prediction
``<request_id>-<i>`` (the id the service returned). The service appends, the monitoring
pipeline reads it back as "current" data with ``read_prediction_log``, one row per
prediction. Logs written before this layout (one record per prediction: scalar ``inputs``,
``probability``, ``severe``, the prediction id as ``request_id``) are read too.

Why one record per batch, column-wise: the writer runs beside the requests in the worker,
so its cost is taken from the answers. A 1,000-row batch is 127 KB as one record against
545 KB as 1,000 row records (every field name repeated per row), and encoding it costs
~0.5 ms (mostly ``tolist``) against ~1.3 ms plus ~0.3 ms more to move the larger text;
in the server, the row records took ~27 % of a worker's time on 1,000-row batches
(docs/serving.md, "Where the time goes"). The bytes go out with one ``write`` on a file
opened in append mode (several worker processes share the file; on a local filesystem one
``O_APPEND`` write is not interleaved with another).
"""

from __future__ import annotations

import glob
import gzip
import json
import logging
import os
import queue
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
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
except ImportError:  # pragma: no cover - the json encoder below takes over
    msgspec = None


def _logged(values: Any) -> Any:
    """A column as the record holds it: the request's own JSON text when given (``msgspec.Raw``,
    written as it is), else the values as a list."""
    if msgspec is not None and isinstance(values, msgspec.Raw):
        return values
    return np.asarray(values).tolist()


def _record(inputs: Inputs, probabilities: np.ndarray, severe: np.ndarray, request_id: str,
            model_version: str, stamp: str) -> dict[str, Any]:
    return {"ts": stamp, "request_id": request_id, "model_version": model_version,
            "inputs": {c: _logged(inputs[c]) for c in MODEL_INPUT_COLUMNS},
            "probability": np.asarray(probabilities, dtype=float).tolist(),
            "severe": np.asarray(severe, dtype=bool).tolist()}


if msgspec is not None:
    _ENCODER = msgspec.json.Encoder()

    def encode_msgspec(inputs: Inputs, probabilities: np.ndarray, severe: np.ndarray,
                       request_id: str, model_version: str, stamp: str) -> bytes:
        """One JSON line for a batch (msgspec: NaN -> null in C, no per-value Python)."""
        return _ENCODER.encode(_record(inputs, probabilities, severe, request_id, model_version, stamp)) + b"\n"


def encode_json(inputs: Inputs, probabilities: np.ndarray, severe: np.ndarray,
                request_id: str, model_version: str, stamp: str) -> bytes:
    """The same line with the standard library (fallback without msgspec; NaN -> null here)."""
    record = _record(inputs, probabilities, severe, request_id, model_version, stamp)
    for name, values in record["inputs"].items():
        if msgspec is not None and isinstance(values, msgspec.Raw):
            record["inputs"][name] = json.loads(bytes(values))
    for name in FLOAT_INPUTS:
        record["inputs"][name] = [None if v != v else v for v in record["inputs"][name]]
    return json.dumps(record, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n"


ENCODERS = {"json": encode_json, **({"msgspec": encode_msgspec} if msgspec is not None else {})}


def default_log_path() -> Path:
    """``$BENTOML_HOME/prediction_logs/predictions.jsonl`` (BentoML's own default home when unset)."""
    home = os.environ.get("BENTOML_HOME") or str(Path.home() / "bentoml")
    return Path(home).expanduser().resolve() / DEFAULT_LOG_NAME


@dataclass(frozen=True)
class LogSettings:
    """Where the log goes and how it is rotated (size and time) and pruned (retention).

    Why these defaults: a prediction takes ~130 bytes in a batch of 1,000, ~500 alone
    (docs/serving.md, "Prediction log"), so a 100 MB file holds 200k to 800k predictions; a new file starts every day at midnight UTC or at
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
            ENCODERS[encoder or ("msgspec" if "msgspec" in ENCODERS else "json")]))
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._listener = _Passthrough(self._queue, self._handler, linger)
        self._listener.start()
        self._closed = False

    def write(self, inputs: Inputs, probabilities: np.ndarray, severe: np.ndarray,
              request_id: str, model_version: str, ts: datetime | None = None,
              raw_inputs: Mapping[str, Any] | None = None) -> int:
        """Queue one record for a batch (its rows are predictions ``<request_id>-<i>``); returns the rows.

        ``raw_inputs``: for some columns, the request's own JSON list (``msgspec.Raw``, single
        line, values as validated into ``inputs``), written as it is instead of re-encoding
        ``inputs``: on a 1,000-row columnar request that is most of the log's encoding work.
        """
        n = len(probabilities)
        if n == 0:
            return 0
        if not (len(inputs[MODEL_INPUT_COLUMNS[0]]) == len(severe) == n):
            raise ValueError("inputs, probabilities and severe differ in length")
        if raw_inputs:
            inputs = {c: raw_inputs[c] if c in raw_inputs else inputs[c] for c in MODEL_INPUT_COLUMNS}
        stamp = (ts or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        record = logging.LogRecord("accidents.predictions", logging.INFO, "", 0, "", None, None)
        record.batch = (inputs, probabilities, severe, request_id, model_version, stamp)
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


def _value_problem(col: str, value: Any) -> str | None:
    """Why an input value cannot be a model input of ``col`` (None: it can)."""
    if col == "hrmn" or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            col not in FLOAT_INPUTS and value != int(value)):
        return f"value {value!r} is not {'a number' if col in FLOAT_INPUTS else 'an integer code'}"
    return None


def _probability_problem(prob: Any) -> str | None:
    if isinstance(prob, bool) or not isinstance(prob, int | float) or not 0.0 <= prob <= 1.0:
        return f"probability {prob!r} is not a number in [0, 1]"
    return None


class _Rows:
    """The log's rows, column-wise, as records are read (one row per prediction)."""

    def __init__(self) -> None:
        self.inputs: dict[str, list[Any]] = {c: [] for c in MODEL_INPUT_COLUMNS}
        self.meta: dict[str, list[Any]] = {k: [] for k in ("probability", "severe", "model_version", "ts",
                                                           "request_id")}

    def add(self, line: bytes) -> str | None:
        """Add the line's rows; returns why the line is unusable instead (nothing added)."""
        try:
            rec = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return f"not UTF-8 text (byte 0x{line[exc.start]:02x} at column {exc.start + 1})"
        except json.JSONDecodeError as exc:
            return f"not valid JSON ({exc.msg} at column {exc.colno})"
        if not isinstance(rec, dict):
            return f"expected a JSON object, got {type(rec).__name__}"
        missing = [k for k in RECORD_KEYS if k not in rec]
        if missing:
            return f"record lacks key(s) {missing}; expected {list(RECORD_KEYS)}"
        inputs = rec["inputs"]
        if not isinstance(inputs, dict):
            return "'inputs' must be an object of model inputs"
        absent = [c for c in MODEL_INPUT_COLUMNS if c not in inputs]
        if absent:
            return f"'inputs' lacks column(s) {absent}"
        if isinstance(rec["probability"], list):
            return self._add_batch(rec, inputs)
        return self._add_row(rec, inputs)

    def _add_row(self, rec: dict, inputs: dict) -> str | None:
        """A record of one prediction (the layout before batch records)."""
        if (why := _probability_problem(rec["probability"])) is not None:
            return why
        for col in MODEL_INPUT_COLUMNS:
            if (why := _value_problem(col, inputs[col])) is not None:
                return f"inputs column {col!r}: {why}"
        for col in MODEL_INPUT_COLUMNS:
            self.inputs[col].append(inputs[col])
        self._add_meta([float(rec["probability"])], [bool(rec["severe"])], rec, [str(rec["request_id"])])
        return None

    def _add_batch(self, rec: dict, inputs: dict) -> str | None:
        """A record of a batch: every list one value per row."""
        probs, severe = rec["probability"], rec["severe"]
        n = len(probs)
        uneven = [(name, len(v) if isinstance(v, list) else type(v).__name__)
                  for name, v in (("severe", severe), *((c, inputs[c]) for c in MODEL_INPUT_COLUMNS))
                  if not isinstance(v, list) or len(v) != n]
        if uneven:
            name, size = uneven[0]
            return f"batch record: {name!r} has {size} values but 'probability' has {n}"
        for i, prob in enumerate(probs):
            if (why := _probability_problem(prob)) is not None:
                return f"row {i}: {why}"
        for col in MODEL_INPUT_COLUMNS:
            for i, value in enumerate(inputs[col]):
                if (why := _value_problem(col, value)) is not None:
                    return f"inputs column {col!r}, row {i}: {why}"
        for col in MODEL_INPUT_COLUMNS:
            self.inputs[col].extend(inputs[col])
        rid = str(rec["request_id"])
        self._add_meta([float(p) for p in probs], [bool(v) for v in severe], rec, [f"{rid}-{i}" for i in range(n)])
        return None

    def _add_meta(self, probs: list[float], severe: list[bool], rec: dict, ids: list[str]) -> None:
        n = len(probs)
        self.meta["probability"] += probs
        self.meta["severe"] += severe
        self.meta["model_version"] += [str(rec["model_version"])] * n
        self.meta["ts"] += [rec["ts"]] * n
        self.meta["request_id"] += ids


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
    rows = _Rows()
    corrupt: list[tuple[str, str]] = []
    total, lone_cut_last = 0, False
    for file in files:
        lineno, cut_last = 0, False
        with _open_binary(file) as handle:
            for lineno, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                total += 1
                problem = rows.add(line)
                if problem is not None:
                    corrupt.append((f"{file}:{lineno}", problem))
                    cut_last = not line.endswith(b"\n")
        # a write cut by a crash or still in progress: the live file's last line, no line end
        lone_cut_last = (file == files[-1] and len(corrupt) == 1 and cut_last
                         and corrupt[0][0] == f"{file}:{lineno}")
    if corrupt and not lone_cut_last and len(corrupt) > MAX_CORRUPT_SHARE * total:
        first, why = corrupt[0]
        raise DataError(f"{first}: {why} ({len(corrupt)} of {total} lines unusable, above "
                        f"the {MAX_CORRUPT_SHARE:.0%} that may be skipped)")
    frame = pd.DataFrame(rows.inputs, columns=list(MODEL_INPUT_COLUMNS))
    for col in MODEL_INPUT_COLUMNS:
        if col == "hrmn":
            frame[col] = frame[col].astype(str)
        elif col in FLOAT_INPUTS:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
        else:
            frame[col] = pd.to_numeric(frame[col]).astype("int64")  # checked per record above
    extra = pd.DataFrame(rows.meta)
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
