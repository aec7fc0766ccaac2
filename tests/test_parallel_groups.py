"""`make test`'s two xdist workers keep modules whole and make the session Bento once.

A throw-away suite (its own folder, this repository's ``tests/fixtures/parallel.py`` as its
plugin) runs under ``-n 2 --dist loadgroup`` exactly as the Makefile runs the real one.
Every test records the worker it ran on, and the stand-in ``serving_bento`` session fixture
records each time it is made. Guards the failure met while building this: xdist's own
``xdist_group`` marks rename node ids, which pytest 9.2 ignores, so the groups silently fell
apart and the Bento, its server and the container image were built on both workers. Also
checks that the time-per-part table (tests/fixtures/timing.py) still counts each test in its
part, though under xdist only the workers collect the tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from tests.quickstart import REPO_ROOT

CONFTEST = '''
import json, os
from pathlib import Path
import pytest

pytest_plugins = ["tests.fixtures.parallel", "tests.fixtures.timing"]
LOG = Path(__file__).parent / "log.jsonl"


def record(kind, name):
    with LOG.open("a") as f:
        f.write(json.dumps({"kind": kind, "name": name,
                            "worker": os.environ.get("PYTEST_XDIST_WORKER", "")}) + "\\n")


@pytest.fixture(scope="session")
def serving_bento():
    record("bento", "made")
    return "bento"


@pytest.fixture
def here(request):
    record("test", request.node.nodeid.split("::")[0])
'''

BENTO_TEST = '''
def test_one(here, serving_bento):
    assert serving_bento == "bento"

def test_two(here):
    pass
'''

PLAIN_TEST = '''
import pytest

pytestmark = pytest.mark.pipeline  # counted as such in the time-per-part table

@pytest.mark.parametrize("n", range(4))
def test_n(here, n):
    pass
'''


def test_modules_stay_whole_and_bento_users_share_one_worker(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    bento_modules = ["test_a_bento.py", "test_m_bento.py", "test_z_bento.py"]
    plain_modules = [f"test_{c}_plain.py" for c in "bcdefg"]
    for name in bento_modules:
        (tmp_path / name).write_text(BENTO_TEST, encoding="utf-8")
    for name in plain_modules:
        (tmp_path / name).write_text(PLAIN_TEST, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("PYTEST_XDIST_WORKER", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-q",
                           "-p", "no:cacheprovider"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]

    made = [r for r in records if r["kind"] == "bento"]
    assert len(made) == 1, made  # the session Bento once, not once per worker
    workers_of: dict[str, set[str]] = defaultdict(set)
    for r in records:
        if r["kind"] == "test":
            workers_of[r["name"]].add(r["worker"])
    assert set(workers_of) == set(bento_modules + plain_modules), workers_of
    assert all(len(w) == 1 for w in workers_of.values()), workers_of  # no module split
    assert len(set().union(*(workers_of[m] for m in bento_modules))) == 1, workers_of
    assert set().union(*workers_of.values()) == {"gw0", "gw1"}, workers_of  # both workers used
    # the per-part table still sees the markers, though only the workers collected the tests
    table = proc.stdout.split("time per part", 1)[1]
    counts = dict(line.split()[:2] for line in table.splitlines() if line.startswith(("pipeline", "unit")))
    assert counts == {"pipeline": "24", "unit": "6"}, table
