"""The mlflow profile after a cached local run: an MLflow run with the version's tags, and
the version in the MLflow Model Registry under its stage alias (issue 10 items 3 and 4).

Then the two places a user looks, driven in headless Chromium on that same state (no
further training): the ZenML dashboard along the click path of docs/dashboard.md, and the
MLflow UI's registered model with its ``production`` alias. Screenshots go to
``test-artifacts/``; with ``ACCIDENTS_DOCS_SCREENSHOTS=1`` to ``docs/img/`` (commit them
deliberately, after looking at them).
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.serving import free_port
from tests.fixtures.zenml import PYTHON, REPO_ROOT, TINY_GATES, ZenmlEnv

pytestmark = pytest.mark.pipeline

SHOTS = REPO_ROOT / ("docs/img" if os.environ.get("ACCIDENTS_DOCS_SCREENSHOTS") == "1" else "test-artifacts")


@pytest.fixture(scope="module")
def mlflow_run(trained_zenml_env: ZenmlEnv) -> dict[str, Any]:
    """``run.py --config mlflow`` right after the local training: served from ZenML's cache."""
    return trained_zenml_env.train("--config", "mlflow", *TINY_GATES)


def test_mlflow_profile_after_cached_local_run(trained_zenml_env: ZenmlEnv, mlflow_run: dict[str, Any]) -> None:
    env = trained_zenml_env
    result = mlflow_run
    version = str(result["model_version"])
    assert version == "2" and result["mlflow"]["cached"], result  # same data: steps from the cache
    query = (
        "import json, os, mlflow\n"
        "from mlflow.tracking import MlflowClient\n"
        "c = MlflowClient(os.environ['MLFLOW_TRACKING_URI'])\n"
        "exp = c.get_experiment_by_name('road_accident_severity')\n"
        "runs = c.search_runs([exp.experiment_id])\n"
        "mv = c.search_model_versions(\"name = 'road_accident_severity'\")\n"
        "aliases = {}\n"
        "for a in ('production', 'staging'):  # search results do not carry aliases\n"
        "    try:\n"
        "        aliases[a] = c.get_model_version_by_alias('road_accident_severity', a).version\n"
        "    except mlflow.exceptions.MlflowException:\n"
        "        pass\n"
        "print(json.dumps({'runs': [dict(r.data.tags) | {'metrics': r.data.metrics} for r in runs],\n"
        "                  'versions': [dict(m.tags) | {'version': m.version} for m in mv],\n"
        "                  'aliases': aliases}))\n")
    found = env.python_json(query)
    (run,) = [r for r in found["runs"] if r.get("zenml.model_version") == version]
    assert run["data.synthetic"] == "true" and run["zenml.cache_hit"] == "true", run
    assert run["metrics"]["test_roc_auc"] == pytest.approx(result["metrics"]["roc_auc"]), run
    registered = {v["zenml.model_version"]: v for v in found["versions"]}
    assert registered[version]["data.years"] == "2022,2023"
    assert registered[version]["zenml.run_name"] == result["run_name"]
    # v1 (trained on the local profile, still in production) is mirrored with its alias
    assert found["aliases"]["production"] == registered["1"]["version"], found["aliases"]
    if result["stage"] in ("production", "staging"):
        assert found["aliases"][result["stage"]] == registered[version]["version"]

    again = env.train("--config", "mlflow", *TINY_GATES)  # one registry version per ZenML version
    found = env.python_json(query)
    numbers = [v["zenml.model_version"] for v in found["versions"]]
    assert sorted(numbers) == sorted({"1", version, str(again["model_version"])}), numbers
    assert [r.get("zenml.model_version") for r in found["runs"]].count("1") == 1  # not re-logged


def _screenshot(page: Any, name: str) -> bytes:
    """PNG of the viewport through CDP (Playwright's own screenshot waits for web fonts the
    offline pages never get), written to SHOTS/name."""
    cdp = page.context.new_cdp_session(page)
    png = base64.b64decode(cdp.send("Page.captureScreenshot", {"format": "png"})["data"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / name).write_bytes(png)
    return png


@pytest.mark.browser
def test_zenml_dashboard_click_path(trained_zenml_env: ZenmlEnv, mlflow_run: dict[str, Any],
                                    browser: Any) -> None:
    """docs/dashboard.md's click path: no survey, Projects -> default -> training -> the run's
    DAG; the MLflow registry's run link opens the same run. Cost: one dashboard start."""
    env = trained_zenml_env
    port = free_port()
    started = env.run("dashboard", "--port", str(port), timeout=600)
    url = f"http://127.0.0.1:{port}"
    assert url in started.stdout, started.stdout
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url, wait_until="load", timeout=90_000)
        page.get_by_text("Welcome back").first.wait_for(timeout=90_000)  # the overview, not the survey
        assert "survey" not in page.url
        page.get_by_role("button", name="Dismiss local-server notice").click()  # the ZenML Pro banner
        page.get_by_role("tab", name="Projects").or_(page.get_by_role("link", name="Projects")).first.click()
        page.get_by_label("Open project default").click()
        page.get_by_role("link", name="training", exact=True).first.click()
        page.get_by_text(mlflow_run["run_name"]).first.click()
        page.locator('[data-id="step/ingest_data"]').wait_for(timeout=90_000)
        assert mlflow_run["run_id"] in page.url, page.url
        # React Flow draws only the nodes in view: fit the whole DAG, then every step is there
        page.get_by_role("button", name="Fit view").click()
        for step in ("validate_data", "build_features", "split_data", "train_model", "evaluate_model",
                     "promote_model"):
            page.locator(f'[data-id="step/{step}"]').wait_for(timeout=30_000)
        time.sleep(2)  # let the DAG settle before the picture
        png = _screenshot(page, "zenml-dashboard-run.png")
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000

        # the link the MLflow registry version carries (default port 8237) opens the same run
        from ops.mlflow_registry import DASHBOARD_URL, run_url

        page.goto(run_url(mlflow_run["run_id"]).replace(DASHBOARD_URL, url), timeout=90_000)
        page.locator('[data-id="step/ingest_data"]').wait_for(timeout=90_000)
        assert mlflow_run["run_name"] in page.inner_text("body")
    finally:
        env.run("dashboard", "--stop", check=False, timeout=300)


@pytest.mark.browser
def test_mlflow_ui_shows_versions_and_the_production_alias(trained_zenml_env: ZenmlEnv,
                                                           mlflow_run: dict[str, Any], browser: Any) -> None:
    """The registered model page lists the mirrored versions, the one holding ZenML's
    production stage marked ``@ production``; its version page carries the run link and the
    data years. Cost: one `mlflow ui` start."""
    env = trained_zenml_env
    found = env.python_json(
        "import json, os\nfrom mlflow.tracking import MlflowClient\n"
        "c = MlflowClient(os.environ['MLFLOW_TRACKING_URI'])\n"
        "p = c.get_model_version_by_alias('road_accident_severity', 'production')\n"
        "n = len(c.search_model_versions(\"name = 'road_accident_severity'\"))\n"
        "print(json.dumps({'version': p.version, 'zenml': p.tags['zenml.model_version'],"
        " 'run_id': p.tags['zenml.run_id'], 'n': n}))")
    assert found["zenml"] == "1" and found["n"] >= 2, found  # v1 (local profile) holds production
    assert found["run_id"] == env.trained["run_id"], found  # mirrored later, linked to its own run
    port = free_port()
    log = env.root / "mlflow-ui.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(Path(PYTHON).parent / "mlflow"), "ui", "--backend-store-uri",
                                 env.env["MLFLOW_TRACKING_URI"], "--host", "127.0.0.1", "--port", str(port)],
                                env=env.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url + "/health", proc, log)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "/#/models/road_accident_severity", timeout=90_000)
        page.get_by_role("heading", name="road_accident_severity").first.wait_for(timeout=90_000)
        close = page.get_by_role("button", name=re.compile("close", re.I))
        if close.count():  # the "MLflow Assistant" side panel covers the table
            close.first.click()
        version_link = page.get_by_role("link", name=f"Version {found['version']}", exact=True)
        version_link.wait_for(timeout=60_000)
        row = page.get_by_role("row").filter(has=version_link)
        assert "production" in row.inner_text(), row.inner_text()
        any_version = page.get_by_role("link", name=re.compile(r"^Version \d+$"))
        assert page.get_by_role("row").filter(has=any_version).count() == found["n"]
        time.sleep(1)
        png = _screenshot(page, "mlflow-registry.png")
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000

        page.goto(f"{url}/#/models/road_accident_severity/versions/{found['version']}", timeout=90_000)
        page.get_by_text("zenml.run_url").first.wait_for(timeout=90_000)
        body = page.inner_text("body")
        assert found["run_id"] in body and "2022,2023" in body and "production" in body
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"mlflow ui exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=3):
                return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"{url} did not answer within {timeout} s:\n{log.read_text()[-3000:]}")
