"""The default monitoring batch: what the deployed model served since the last monitoring run.

Why a watermark and not "the whole log": the loop is serve -> monitor -> (retrain) ->
serve; each ``run.py monitor`` should judge the traffic that arrived since the previous
judgement, not re-count old traffic forever. The watermark is the upper time bound of the
last *completed* run on that log (``until``, fixed before the run starts, so records
stamped while a run is going are left for the next one); a failed run moves nothing. It
is kept per log path in ``<monitoring.report_dir>/served-watermarks.json``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

WATERMARKS_FILE = "served-watermarks.json"


def _load(state_file: Path) -> dict[str, str]:
    if not state_file.is_file():
        return {}
    try:
        data = json.loads(state_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}  # a damaged state file: monitor everything again rather than fail
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def served_source(log_path: Path, state_dir: Path, now: datetime | None = None) -> dict[str, Any]:
    """The monitoring source for the served log: records in ``(last until, now]``."""
    state_file = Path(state_dir) / WATERMARKS_FILE
    since = _load(state_file).get(str(log_path))
    until = (now or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"kind": "prediction_log", "path": str(log_path), "served": True, "since": since,
            "until": until, "state_file": str(state_file)}


def remember_monitored(source: dict[str, Any]) -> None:
    """Move the log's watermark to the run's ``until`` (after a completed run)."""
    state_file = Path(source["state_file"])
    marks = _load(state_file)
    marks[source["path"]] = source["until"]
    state_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(marks, indent=2), encoding="utf-8")
    tmp.replace(state_file)


def parse_time(value: str | None) -> datetime | None:
    """An ISO time of the source (``...Z``) as an aware datetime; None stays None."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
