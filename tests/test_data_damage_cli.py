"""End to end: ``run.py train`` / ``run.py monitor`` on every damaged copy (issue 9 "Must show").

One trained ZenML environment per module (model version 1 in production, tiny synthetic
data); then, for every damage class of tests/fixtures/damage.py built on a synthetic and
on the real 2023 base, the command must exit 2 with exactly one ``error:`` line in
stdout+stderr naming file/line/column/value, print no traceback, and leave the model
versions and their stages untouched (read straight from the ZenML SQLite store). The data
gate runs in the command before any pipeline starts, so each case costs seconds.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.fixtures.damage import BASES, DAMAGE_YEAR, DAMAGES, Damage, assert_names, make_base
from tests.fixtures.zenml import TINY_GATES, ZenmlEnv

pytestmark = pytest.mark.pipeline


@pytest.fixture(scope="module")
def trained(zenml_env: ZenmlEnv) -> tuple[ZenmlEnv, str]:
    """One training run (version 1 -> production) and its printed output."""
    proc = zenml_env.run("train", *TINY_GATES)
    return zenml_env, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def trained_zenml_env(trained: tuple[ZenmlEnv, str]) -> ZenmlEnv:
    return trained[0]


def _versions(env: ZenmlEnv) -> list[tuple[int, str, str]]:
    """(number, stage, updated) of every model version, and the number of pipeline runs."""
    db = env.root / "zenml-home" / "local_stores" / "default_zen_store" / "zenml.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute("select number, coalesce(stage, ''), updated from model_version "
                           "order by number").fetchall()
        runs = con.execute("select count(*) from pipeline_run").fetchone()[0]
    return [*rows, ("runs", runs, "")]


def _assert_one_error_line(proc_out: str, proc_err: str) -> str:
    text = proc_out + proc_err
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, text[-4000:]
    assert "Traceback" not in text, text[-4000:]
    return errors[0]


def _base_marks(base: str) -> list[pytest.MarkDecorator]:
    return [pytest.mark.real_data] if base == "real" else []


@pytest.mark.parametrize("base", [pytest.param(b, marks=_base_marks(b)) for b in BASES])
@pytest.mark.parametrize("damage", DAMAGES, ids=[d.name for d in DAMAGES])
def test_train_refuses_damaged_data_without_touching_models(
        trained_zenml_env: ZenmlEnv, damage: Damage, base: str, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    folder = make_base(base, tmp_path / "data", request)
    expect = damage.apply(folder)
    before = _versions(trained_zenml_env)
    assert before[0][1] == "production"
    proc = trained_zenml_env.run("train", "--set", "data.source=dir", "--set", f"data.dir={folder}",
                                 "--set", f"data.years=[{DAMAGE_YEAR}]", check=False, timeout=300)
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert_names(_assert_one_error_line(proc.stdout, proc.stderr), expect)
    assert _versions(trained_zenml_env) == before  # no version created, no stage changed, no run


@pytest.mark.parametrize("damage", [d for d in DAMAGES if d.item in (2, 4)][:6], ids=lambda d: d.name)
def test_monitor_refuses_damaged_current_files(trained_zenml_env: ZenmlEnv, damage: Damage,
                                               tmp_path: Path, request: pytest.FixtureRequest) -> None:
    folder = make_base("synthetic", tmp_path / "data", request)
    expect = damage.apply(folder)
    before = _versions(trained_zenml_env)
    proc = trained_zenml_env.run("monitor", "--current-dir", str(folder), "--years", str(DAMAGE_YEAR),
                                 check=False, timeout=300)
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert_names(_assert_one_error_line(proc.stdout, proc.stderr), expect)
    assert _versions(trained_zenml_env) == before


def test_train_prints_the_load_report_and_keeps_it_on_the_version(trained: tuple[ZenmlEnv, str]) -> None:
    env, output = trained
    assert "load report: rows per table and year" in output, output[-3000:]
    assert "encodings: utf-8 (8); separators: ';' (8)" in output
    summary = env.python_json(
        "import json\nfrom zenml.client import Client\n"
        "from accidents.constants import META_DATA, MODEL_NAME\n"
        "v = Client().get_model_version(MODEL_NAME, 1)\n"
        "print(json.dumps(v.run_metadata[META_DATA]['load_report']))")
    assert set(summary["rows_by_year"]) == {"caracteristiques", "lieux", "vehicules", "usagers"}
    assert "load report: rows per table and year" in summary["summary"]
    assert summary["synthetic"] is True


def test_monitor_prints_counts_of_what_it_dropped_and_counted(
        trained_zenml_env: ZenmlEnv, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    folder = make_base("synthetic", tmp_path / "data", request)
    path = folder / f"caracteristiques-{DAMAGE_YEAR}.csv"
    lines = path.read_bytes().split(b"\n")
    fields = lines[4].split(b";")
    fields[1], fields[2] = b'"31"', b'"04"'  # 31 April on line 5: counted, below the tolerance
    lines[4] = b";".join(fields)
    lines.insert(8, b"    ")  # a whitespace-only line: dropped and counted
    path.write_bytes(b"\n".join(lines))
    proc = trained_zenml_env.run("monitor", "--current-dir", str(folder), "--years", str(DAMAGE_YEAR),
                                 "--set", "monitoring.min_rows=10", check=False, timeout=600)
    text = proc.stdout + proc.stderr
    assert proc.returncode in (0, 1), text[-4000:]
    assert "Traceback" not in text
    assert f"blank lines in {path.name}: 1" in text, text[-4000:]
    assert f"caracteristiques {DAMAGE_YEAR}: impossible date (day does not exist in that month): 1" in text
