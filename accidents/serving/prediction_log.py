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

import json
import os
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from accidents.errors import DataError
from accidents.learning.features import FLOAT_INPUTS, MODEL_INPUT_COLUMNS

LOG_ENV = "ACCIDENTS_PREDICTION_LOG"
DEFAULT_LOG_PATH = Path("outputs/predictions/predictions.jsonl")
#: A batch's model inputs: a DataFrame or the service's validated numpy columns (both index by name).
Inputs = pd.DataFrame | Mapping[str, np.ndarray]
RECORD_KEYS = ("ts", "request_id", "model_version", "inputs", "probability", "severe")

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


def log_path() -> Path:
    """Where predictions are logged: ``$ACCIDENTS_PREDICTION_LOG`` or the default path."""
    return Path(os.environ.get(LOG_ENV) or DEFAULT_LOG_PATH)


class PredictionLogWriter:
    """Appends prediction records to a JSON Lines file (thread- and process-safe appends)."""

    def __init__(self, path: Path | str | None = None, encoder: str | None = None) -> None:
        self.path = Path(path) if path is not None else log_path()
        self._encode = ENCODERS[encoder or ("msgspec" if "msgspec" in ENCODERS else "pandas")]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def write(self, inputs: Inputs, probabilities: np.ndarray, severe: np.ndarray,
              request_ids: Sequence[str], model_version: str, ts: datetime | None = None) -> int:
        """Append one record per row of ``inputs``; returns the number of records written."""
        n = len(probabilities)
        if n == 0:
            return 0
        if not (len(inputs[MODEL_INPUT_COLUMNS[0]]) == len(severe) == len(request_ids) == n):
            raise ValueError("inputs, probabilities, severe and request_ids differ in length")
        stamp = (ts or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        data = self._encode(inputs, probabilities, severe, request_ids, model_version, stamp)
        with self._lock:
            written = 0
            while written < len(data):  # a regular file takes it in one go; loop for safety
                written += os.write(self._fd, data[written:])
        return n

    def close(self) -> None:
        """Close the file (the service calls this on shutdown)."""
        os.close(self._fd)


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


def read_prediction_log(path: Path | str) -> pd.DataFrame:
    """The log as a frame: ``MODEL_INPUT_COLUMNS`` + probability, severe, model_version, ts, request_id.

    Dtypes follow the feature table (int64 codes, float64 ``an_nais``/``vma``/``nbv`` with
    NaN, str ``hrmn``) so monitoring compares it with training features directly.
    Corrupt lines (not UTF-8, not JSON, missing keys, ill-typed inputs) are skipped and
    counted in ``frame.attrs["corrupt_lines"]`` (first one in ``attrs["first_corrupt"]``)
    while they are at most ``MAX_CORRUPT_SHARE`` of the lines; beyond that, or for a
    missing file, ``DataError`` names the file, the first corrupt line and why.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"prediction log {path} does not exist (set {LOG_ENV} or serve the model first)")
    inputs: list[dict] = []
    meta: list[tuple] = []
    corrupt: list[tuple[int, str]] = []
    total, cut_last = 0, False
    with path.open("rb") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            total += 1
            problem, rec = _record_problem(line, lineno)
            if problem is not None or rec is None:
                corrupt.append((lineno, problem or "unreadable"))
                cut_last = not line.endswith(b"\n")
                continue
            inputs.append(rec["inputs"])
            meta.append((float(rec["probability"]), bool(rec["severe"]), str(rec["model_version"]),
                         rec["ts"], str(rec["request_id"])))
    if corrupt:
        lone_last = len(corrupt) == 1 and corrupt[0][0] == lineno and cut_last
        if not lone_last and len(corrupt) > MAX_CORRUPT_SHARE * total:
            first, why = corrupt[0]
            raise DataError(f"{path}:{first}: {why} ({len(corrupt)} of {total} lines unusable, above "
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
    out.attrs["corrupt_lines"] = len(corrupt)
    out.attrs["lines"] = total
    out.attrs["first_corrupt"] = f"{path}:{corrupt[0][0]}: {corrupt[0][1]}" if corrupt else ""
    return out
