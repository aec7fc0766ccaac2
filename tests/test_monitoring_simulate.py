"""``run.py simulate`` on small synthetic data: 3 yearly periods, a strong shift in the third.

Real ZenML (isolated environment), real training/monitoring pipelines, real promotion.
Expected story: 2021 trains version 1; 2022 (realistic year-to-year change only) is
monitored without retraining; 2023 (three inputs strongly shifted) is monitored, drift is
found on exactly those inputs, a version 2 is trained on 2021-2023 and the promotion
decides on the same test data whether it replaces version 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accidents.monitoring_simulation import PeriodRecord, plot_png, records_table
from tests.fixtures.zenml import TINY_GATES, ZenmlEnv, make_zenml_env

SHIFTED = ("an_nais", "atm", "vma")


def test_plot_and_table_from_records() -> None:
    records = [
        PeriodRecord("2021", "", None, None, retrain=True, new_version="1", promoted=True),
        PeriodRecord("2022", "1", 3000, 0.0, roc_auc=0.79, reference_roc_auc=0.78),
        PeriodRecord("2023", "1", 3100, 0.08, ["vma", "atm", "an_nais"], 0.72, 0.78,
                     retrain=True, new_version="2", promoted=True),
    ]
    table = records_table(records)
    assert table["served_by"].tolist() == ["(training)", "1", "1"]
    assert table["retrain"].tolist() == [True, False, True]
    assert table.loc[2, "drifted"] == "vma, atm, an_nais"
    png = plot_png(records, retrain_share=0.05)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


@pytest.mark.pipeline
def test_simulate_retrains_at_the_shift(tmp_path_factory: pytest.TempPathFactory) -> None:
    env: ZenmlEnv = make_zenml_env(tmp_path_factory.mktemp("simulate"),
                                   extra={"ACCIDENTS_N_ACCIDENTS": "2000"})
    shift = [arg for c in SHIFTED for arg in ("--shift", f"{c}=0.8")]
    proc = env.run("simulate", "--years", "2021", "2022", "2023", "--shift-from", "2023", *shift,
                   *TINY_GATES, "--set", "model.params={n_estimators: 60, max_depth: 4}",
                   timeout=1200)
    out = env.root / "outputs" / "simulation"
    result = json.loads((out / "simulation.json").read_text())
    first, stable, shifted = result["records"]
    assert [r["period"] for r in result["records"]] == ["2021", "2022", "2023"]
    assert first["new_version"] == "1" and first["promoted"] is True
    # realistic year-to-year change: monitored by version 1, no retraining
    assert stable["serving_version"] == "1"
    assert stable["retrain"] is False and stable["drifted_columns"] == []
    assert stable["roc_auc"] is not None
    # the shift: found on exactly the shifted inputs, retraining on 2021-2023
    assert shifted["serving_version"] == "1"
    assert sorted(shifted["drifted_columns"]) == sorted(SHIFTED)
    assert shifted["retrain"] is True and shifted["new_version"] == "2"
    # promotion happened (or not) by the training pipeline's same-test-data rule
    assert ("beats production version 1 on the same test data" in shifted["promotion_reason"]) \
        == shifted["promoted"]
    plot = Path(result["plot"])
    assert plot.is_file() and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "2023" in result["table"] and "served_by" in result["table"]
    assert "plot:" in proc.stdout
    artifacts = env.python_json(
        "import json\nfrom zenml.client import Client\n"
        "a = Client().get_artifact_version('simulation_plot')\n"
        "t = Client().get_artifact_version('simulation_table').load()\n"
        "print(json.dumps({'plot': type(a.load()).__name__, 'periods': t['period'].tolist()}))")
    assert artifacts["periods"] == ["2021", "2022", "2023"]
    assert "Image" in artifacts["plot"]
