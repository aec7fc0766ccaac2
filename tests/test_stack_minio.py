"""The `minio` profile against real servers: SeaweedFS S3 + MLflow server on free loopback ports.

One module, one stack (module fixture `minio_stack`: `run.py stack up minio`), one training
run (fixture `outage`): S3 is killed mid-run (clear error naming the endpoint, no
traceback), restarted, and the same command completes with cache hits; that completed run
is the profile's training run the other tests inspect (artifacts in the bucket, MLflow run
with metrics and model in S3, `run.py models`). Then switching back to `local`, and the
ZenML dashboard (headless Chromium) shows the run.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from ops import services as svc
from tests.fixtures.zenml import REPO_ROOT, TINY_GATES

# One module fixture runs S3 + MLflow and two training runs: minutes on a loaded 2-core machine.
pytestmark = [pytest.mark.stack, pytest.mark.pipeline, pytest.mark.timeout(1800)]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts"
STEPS_WITH_OUTPUTS = ("ingest_data", "build_features", "split_data", "train_model", "evaluate_model")


def test_stack_up_starts_both_services_and_is_idempotent(minio_stack):
    out = minio_stack.up_output
    assert f"S3 server (SeaweedFS) started: {minio_stack.s3_url}" in out, out
    assert f"MLflow server started: {minio_stack.mlflow_url}" in out, out
    assert f"bucket created: s3://{minio_stack.bucket}" in out, out
    status = minio_stack.zenml.run("stack", "status", "minio")
    assert status.stdout.count("answers") == 2, status.stdout
    again = minio_stack.zenml.run("stack", "up", "minio")
    assert "S3 server already running" in again.stdout and "MLflow server already running" in again.stdout
    assert minio_stack.s3().head_bucket(Bucket=minio_stack.bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert minio_stack.credentials.secret_key not in out + status.stdout + again.stdout


def test_training_on_minio_puts_artifacts_and_mlflow_run_in_s3(minio_stack, trained):
    proc, result = trained
    assert result["status"] == "completed", result
    assert result["artifact_store"] == f"s3://{minio_stack.bucket}/zenml"

    # ZenML artifacts are objects in the bucket (listed through the S3 API).
    zenml_keys = minio_stack.keys("zenml/")
    for step in STEPS_WITH_OUTPUTS:
        assert any(k.startswith(f"zenml/{step}/") for k in zenml_keys), (step, zenml_keys[:20])

    # The MLflow run has the metrics ZenML recorded, and its model artifact lives in S3.
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=minio_stack.mlflow_url)
    experiment = client.get_experiment_by_name("road_accident_severity")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], filter_string="metrics.test_roc_auc > 0")
    assert runs, "no MLflow run with test metrics"
    run = runs[0]
    assert run.data.metrics["test_roc_auc"] == pytest.approx(result["metrics"]["roc_auc"], abs=1e-9)
    mlflow_keys = minio_stack.keys("mlflow/")
    model_files = [k for k in mlflow_keys if k.endswith("/MLmodel")]
    assert model_files, mlflow_keys[:30]
    assert any(k.startswith(f"mlflow/{experiment.experiment_id}/") for k in model_files), model_files
    assert any("/artifacts/plots/" in k and run.info.run_id in k for k in mlflow_keys), mlflow_keys[:30]

    # `run.py models` lists the new version.
    models = minio_stack.zenml.run("models").stdout
    assert re.search(rf"^\s*{result['model_version']}\s+{result['stage']}\b", models, re.M), models

    # Credentials: in the ZenML secret only - never printed, never in a component config.
    secret = minio_stack.credentials.secret_key
    assert secret not in proc.stdout + proc.stderr
    configs = minio_stack.zenml.python_json(
        "import json; from zenml.client import Client; from zenml.enums import StackComponentType as T;"
        "c = Client(); s = c.get_stack('minio');"
        "print(json.dumps({t.value: [x.configuration for x in comps] for t, comps in s.components.items()}, default=str))"
    )
    assert secret not in json.dumps(configs)
    store = configs["artifact_store"][0]
    assert store["client_kwargs"]["endpoint_url"] == minio_stack.s3_url
    assert store["authentication_secret"] == "minio_s3"


def _wait_for_line(log: Path, pattern: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and re.search(pattern, log.read_text(errors="replace")):
            return
        if proc.poll() is not None:
            raise AssertionError(f"run ended before {pattern!r}:\n{log.read_text()[-4000:]}")
        time.sleep(0.3)
    raise AssertionError(f"{pattern!r} not seen within {timeout} s:\n{log.read_text()[-4000:]}")


def _kill_s3_server(stack) -> None:
    """Make the S3 endpoint vanish the same way every time: SIGKILL to the server's process
    group, then wait until the port refuses connections.

    Why not `stack down`: SeaweedFS answers HTTP 500 for a while after SIGTERM before it
    stops listening, so a graceful stop made the run fail on a 5xx or on a refused
    connection depending on timing. Killing it outright leaves only "connection refused";
    the 5xx explanation is unit-tested in test_stack_units.py.
    """
    state = svc.read_state(stack.state_dir, svc.S3_SERVICE)
    assert state is not None and state.is_running(), "the S3 server is not running"
    os.killpg(os.getpgid(state.pid), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (state.is_running() or svc.http_status(stack.s3_url) is not None):
        time.sleep(0.1)
    assert svc.http_status(stack.s3_url) is None, "the S3 endpoint still answers after SIGKILL"
    svc.stop_service(stack.state_dir, svc.S3_SERVICE)  # drops the stale pid/state files


@dataclass
class Outage:
    """A training run on the minio profile that lost S3 mid-run, and the same command rerun."""

    command: list[str]
    output: str  # the run that lost S3 (stdout and stderr)
    code: int
    restart: str  # `stack up minio` after the outage
    rerun: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def outage(minio_stack) -> Outage:
    """The module's one training run, interrupted: S3 is killed once `build_features` has
    finished, restarted, and the very same command is run again.

    Why one run for two purposes: the resumed run is a complete training run on the
    profile (its steps after `build_features` run for real, the earlier ones come from
    ZenML's cache, their artifacts already in S3), so it is also the run the other tests
    inspect (`trained`). A separate uninterrupted run cost one more full training on
    S3 + MLflow per suite run.
    """
    command = [sys.executable, str(REPO_ROOT / "run.py"), "train", "--config", "minio", *TINY_GATES]
    env = {**minio_stack.zenml.env, "PYTHONUNBUFFERED": "1"}
    log = minio_stack.zenml.root / "outage-run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_line(log, r"Step `?build_features`? has finished", proc, timeout=900)
        _kill_s3_server(minio_stack)
        code = proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    # Restart S3 (MLflow is still up) and run the very same command.
    restart = minio_stack.zenml.run("stack", "up", "minio").stdout
    rerun = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    return Outage(command, log.read_text(errors="replace"), code, restart, rerun)


@pytest.fixture(scope="module")
def trained(minio_stack, outage: Outage):
    """The completed training run on the minio profile (the resumed run of `outage`)."""
    rerun = outage.rerun
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    result = json.loads((minio_stack.zenml.root / "outputs" / "training" / "latest.json").read_text())
    return rerun, result


def test_s3_outage_fails_clearly_then_same_command_resumes_from_cache(minio_stack, outage: Outage):
    output = outage.output
    assert outage.code == 2, output[-4000:]
    assert "Traceback" not in output, output[output.find("Traceback") - 500:][:4000]
    # The step that lost S3 is reported as one line naming the endpoint, and so is the
    # command's final `error:` line (cli/train.py wraps the run in ops.stack_minio.stack_errors).
    assert re.search(rf"Step `?\w+`? failed\. the S3 endpoint {re.escape(minio_stack.s3_url)}", output), output[-3000:]
    error_lines = [line for line in output.splitlines() if line.startswith("error: ")]
    assert error_lines and minio_stack.s3_url in error_lines[-1], error_lines
    assert minio_stack.credentials.secret_key not in output

    # S3 restarted, the very same command succeeds and the finished steps are cache hits.
    assert "S3 server (SeaweedFS) started" in outage.restart
    text = outage.rerun.stdout + outage.rerun.stderr
    assert outage.rerun.returncode == 0, text[-6000:]
    for step in ("ingest_data", "validate_data", "build_features"):
        assert re.search(rf"Using cached version of step `?{step}`?", text), text[-3000:]


def test_switching_back_to_local_and_again_to_minio(minio_stack, trained):
    minio_stack.zenml.run("stack", "up", "minio")  # no-op when running (an earlier test may stop S3)
    code = (
        "import json; from accidents.config import load_config;"
        "from ops.stacks import ensure_stack, prepare_zenml_env; prepare_zenml_env();"
        "from zenml.client import Client; out = {};"
        "ensure_stack(load_config('local').stack); s = Client().active_stack;"
        "out['local'] = [s.name, s.artifact_store.flavor, s.experiment_tracker is None];"
        "ensure_stack(load_config('minio').stack); s = Client().active_stack;"
        "out['minio'] = [s.name, s.artifact_store.path, s.experiment_tracker.config.tracking_uri];"
        "print(json.dumps(out))"
    )
    out = minio_stack.zenml.python_json(code)
    assert out["local"] == ["local", "local", True], out
    assert out["minio"] == ["minio", f"s3://{minio_stack.bucket}/zenml", minio_stack.mlflow_url], out


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium (Debian chromium) not installed")
def test_dashboard_shows_the_minio_training_run(minio_stack, trained):
    _, result = trained
    env = minio_stack.zenml
    env.run("stack", "up", "minio")  # no-op when running; the artifact store must answer
    # The dashboard asks a fresh user for a survey first; answer it as the user would (the
    # server's own update endpoint cannot set email_opted_in, so set it on the store first).
    env.python("from zenml.client import Client; Client().update_user('default', updated_email_opt_in=False,"
               " updated_metadata={'finished_onboarding_survey': True, 'overview_tour_done': True})")
    (port,) = svc.free_ports(1)
    env.run("dashboard", "--port", str(port), timeout=300)
    url = f"http://127.0.0.1:{port}"
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url + "/projects/default/runs", wait_until="load", timeout=90_000)
            page.get_by_text(result["run_name"]).first.wait_for(timeout=90_000)
            page.get_by_text(result["run_name"]).first.click()
            # The run's page: its DAG (React Flow renders the visible nodes) and its stack.
            page.locator('[data-id="step/ingest_data"]').wait_for(timeout=90_000)
            assert result["run_id"] in page.url, page.url
            page.get_by_role("tab", name="Stack").click()
            page.get_by_text("s3_store_minio").first.wait_for(timeout=60_000)
            page.get_by_text("mlflow_tracker_minio").first.wait_for(timeout=60_000)
            time.sleep(2)  # let the DAG settle before the picture
            # CDP screenshot: Playwright's own waits for web fonts the offline page never gets.
            cdp = page.context.new_cdp_session(page)
            png = base64.b64decode(cdp.send("Page.captureScreenshot", {"format": "png"})["data"])
            browser.close()
        SCREENSHOT_DIR.mkdir(exist_ok=True)
        shot = SCREENSHOT_DIR / "zenml-dashboard-minio-run.png"
        shot.write_bytes(png)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    finally:
        env.run("dashboard", "--stop", check=False, timeout=120)
    assert os.path.getsize(shot) == len(png)


def _registry(mlflow_url: str) -> dict:
    """The MLflow Model Registry as the MLflow UI shows it: versions (tags) and aliases."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_url)
    versions = {v.tags.get("zenml.model_version"): {**v.tags, "registry_version": v.version,
                                                      "description": v.description or ""}
                for v in client.search_model_versions("name = 'road_accident_severity'")}
    aliases = {}
    for alias in ("production", "staging"):  # search results carry no aliases
        with contextlib.suppress(MlflowException):
            aliases[alias] = client.get_model_version_by_alias("road_accident_severity", alias).version
    return {"versions": versions, "aliases": aliases}


def test_registry_mirror_on_minio_follows_training_and_manual_promote(minio_stack, trained):
    """The minio profile's training run is a version of the MLflow registered model with its
    stage alias, metrics, data years and a link to the ZenML run; a manual `run.py promote`
    moves the aliases. Cost: two `run.py promote` commands (no training)."""
    _, result = trained
    minio_stack.zenml.run("stack", "up", "minio")  # no-op when running (an earlier test may stop S3)
    version = str(result["model_version"])
    found = _registry(minio_stack.mlflow_url)
    mirrored = found["versions"][version]
    assert result["stage"] == "production" and found["aliases"]["production"] == mirrored["registry_version"]
    assert mirrored["zenml.stage"] == "production" and mirrored["data.years"] == "2022,2023"
    assert float(mirrored["test_roc_auc"]) == pytest.approx(result["metrics"]["roc_auc"], abs=1e-4)
    assert mirrored["zenml.run_id"] == result["run_id"] and mirrored["data.synthetic"] == "true"
    assert mirrored["zenml.run_url"].endswith(f"/projects/default/runs/{result['run_id']}")
    assert f"]({mirrored['zenml.run_url']})" in mirrored["description"]

    # move it to staging, then back to production (forced: the aliases are under test, not the rules)
    demoted = minio_stack.zenml.run("promote", version, "--stage", "staging", "--force", "--config", "minio")
    assert f"model version {version} -> staging" in demoted.stdout, demoted.stdout
    found = _registry(minio_stack.mlflow_url)
    assert found["aliases"] == {"staging": mirrored["registry_version"]}, (found["aliases"], demoted.stdout)
    assert found["versions"][version]["zenml.stage"] == "staging"
    back = minio_stack.zenml.run("promote", version, "--stage", "production", "--force", "--config", "minio")
    assert "aliases {'production':" in back.stdout, back.stdout
    found = _registry(minio_stack.mlflow_url)
    assert found["aliases"] == {"production": mirrored["registry_version"]}, found["aliases"]
