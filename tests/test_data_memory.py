"""A line of tens of MiB is refused with a named error while memory stays bounded (issue 9 item 3).

The load runs in a fresh interpreter so its peak resident memory (VmHWM) is its own; the
figure is compared with the RSS measured after the imports. Before issue 9, such a line
in an id column made the id parser ask for hundreds of GiB (a MemoryError).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.damage import DAMAGE_YEAR, make_base

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Size of the damaged line.
LONG_LINE_MIB = 40
#: Stated ceiling: the refusal may use at most this many MiB above the post-import RSS
#: (the file's bytes plus one byte per byte for the line scan, plus slack).
GROWTH_CEILING_MIB = 2.5 * LONG_LINE_MIB

_CHILD = r"""
import json, sys
sys.path.insert(0, {repo!r})
from pathlib import Path
from accidents.data.loader import load_years
from accidents.errors import DataError

def peak_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

base = peak_mib()
try:
    load_years(Path({folder!r}), [{year}])
    message = None
except DataError as exc:
    message = str(exc)
print(json.dumps({{"message": message, "base_mib": base, "peak_mib": peak_mib()}}))
"""


@pytest.mark.parametrize("column", ["Num_Acc"])  # the id column once asked for 196 GiB
def test_long_line_refused_under_memory_ceiling(column: str, tmp_path: Path,
                                                request: pytest.FixtureRequest) -> None:
    folder = make_base("synthetic", tmp_path / "data", request)
    path = folder / f"caracteristiques-{DAMAGE_YEAR}.csv"
    lines = path.read_bytes().split(b"\n")
    fields = lines[5].split(b";")
    j = lines[0].split(b";").index(f'"{column}"'.encode())
    fields[j] = b'"' + b"7" * (LONG_LINE_MIB * 1024 * 1024) + b'"'
    lines[5] = b";".join(fields)
    path.write_bytes(b"\n".join(lines))
    del lines, fields
    code = _CHILD.format(repo=str(REPO_ROOT), folder=str(folder), year=DAMAGE_YEAR)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    message = out["message"]
    assert message is not None, "the long line was accepted"
    assert str(path) in message and "line 6" in message and f"column '{column}'" in message
    assert "over the limit" in message and "7777" in message
    growth = out["peak_mib"] - out["base_mib"]
    print(f"long line {LONG_LINE_MIB} MiB in {column}: peak RSS {out['peak_mib']:.0f} MiB, "
          f"+{growth:.0f} MiB over the imports (ceiling +{GROWTH_CEILING_MIB:.0f} MiB)")
    assert growth < GROWTH_CEILING_MIB, out
