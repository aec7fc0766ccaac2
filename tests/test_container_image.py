"""The Bento's container image, built and run without a Docker engine (buildah).

Builds the serving area's Bento into an image with container/build-image.sh (`bentoml
containerize --backend buildah` on a python:3.11-slim made locally by debootstrap), runs
it with container/run-image.sh, and checks over real HTTP that the containerised service
answers like the model object, honours the API key, writes its prediction log to a
mounted folder, and that the scripts leave no container or process behind.

Marker `container`: a cold build takes minutes, so the fast tier leaves these out; CI runs
them (.ci/run installs buildah and debootstrap). Without those tools they skip with the reason.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid

import httpx
import numpy as np
import pandas as pd
import pytest

from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.serving.prediction_log import read_prediction_log
from accidents.serving.schema import frame_to_records
from tests.fixtures.container import (
    BuiltImage,
    ContainerServer,
    buildah,
    container_names,
    image_root,
    pids_with_env,
    run_script,
    script_env,
)

#: A cold image build (debootstrap base + the Bento's packages) takes 5 minutes on a quiet
#: 2-core machine and over 15 under load; the suite's default 900 s per test is too short.
pytestmark = [pytest.mark.service, pytest.mark.container, pytest.mark.timeout(2400)]

TOL = 1e-9


@pytest.fixture(scope="module")
def rows(container_image: BuiltImage) -> pd.DataFrame:
    """Synthetic users with both decisions among them."""
    users = container_image.bento.users
    return pd.concat([users[users["severe"] == 1].head(10), users[users["severe"] == 0].head(10),
                      users.sample(60, random_state=2)]).reset_index(drop=True)


def _expected(image: BuiltImage, rows: pd.DataFrame) -> np.ndarray:
    """The model object's own P(severe), computed in this process (no container involved)."""
    return image.bento.model.predict_proba(rows[list(MODEL_INPUT_COLUMNS)])[:, 1]


def _log_records(server: ContainerServer, at_least: int, timeout: float = 10.0) -> int:
    """Records in the container's prediction log (host side), waiting for pending writes."""
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        if server.prediction_log.exists():
            count = len(read_prediction_log(server.prediction_log))
            if count >= at_least:
                return count
        time.sleep(0.2)
    return count


def test_base_image_is_a_local_python_3_11_with_uv(container_image: BuiltImage) -> None:
    # container_image ran make-base-image.sh; a second run must be a fast no-op (cache).
    start = time.monotonic()
    out = run_script("make-base-image.sh")
    assert out.returncode == 0, out.stdout
    assert "up to date" in out.stdout, out.stdout
    assert time.monotonic() - start < 30
    ctr = buildah("from", "--pull-never", "docker.io/library/python:3.11-slim").strip()
    try:
        version = buildah("run", ctr, "--", "python", "--version")
        uv = buildah("run", ctr, "--", "uv", "--version")
    finally:
        buildah("rm", ctr, check=False)
    assert version.startswith("Python 3.11."), version
    assert uv.startswith("uv "), uv


def test_containerize_built_the_image_with_the_bento_and_its_model(container_image: BuiltImage) -> None:
    out = container_image.build_output
    assert "bentoml containerize" in out and "falling back" not in out, out[-3000:]
    config = json.loads(buildah("inspect", "--type", "image", container_image.name))
    assert config["OCIv1"]["config"]["Entrypoint"] == ["/home/bentoml/bento/env/docker/entrypoint.sh"]
    name, version = container_image.bento.model_tag.split(":")
    with image_root(container_image.name) as root:
        bento = root / "home/bentoml/bento"
        assert (bento / "src/service.py").is_file()
        # containerize copies the model the service declares into the image's model store
        assert (bento / "models" / name / version / "model.yaml").is_file()
        assert (root / "app/.venv/bin/bentoml").exists()
    print(f"image {container_image.name} built in {container_image.build_seconds:.0f} s")


def test_container_predictions_equal_the_model(container_server: ContainerServer,
                                               container_image: BuiltImage, rows: pd.DataFrame) -> None:
    bento = container_image.bento
    before = _log_records(container_server, 0, timeout=0.5)
    expected = _expected(container_image, rows)
    records = frame_to_records(rows)
    for i, record in enumerate(records[:10]):
        resp = httpx.post(container_server.url + "/predict", json={"road_users": [record]},
                          headers=container_server.headers, timeout=60)
        assert resp.status_code == 200, resp.text
        (answer,) = resp.json()
        assert abs(answer["probability"] - expected[i]) <= TOL, (i, answer, expected[i])
        assert answer["severe"] == bool(expected[i] >= bento.threshold)
        assert answer["model_version"] == bento.zenml_version
    resp = httpx.post(container_server.url + "/predict_batch", json={"road_users": records},
                      headers=container_server.headers, timeout=60)
    assert resp.status_code == 200, resp.text
    np.testing.assert_allclose(resp.json()["probability"], expected, rtol=0, atol=TOL)
    assert {bool(p >= bento.threshold) for p in expected} == {True, False}
    # one log record per prediction, written by the container into the mounted host folder
    assert _log_records(container_server, before + 10 + len(rows)) == before + 10 + len(rows)
    log = read_prediction_log(container_server.prediction_log)
    assert set(log["model_version"].astype(str)) == {bento.zenml_version}


def test_container_api_key_health_and_metadata(container_server: ContainerServer,
                                               container_image: BuiltImage, rows: pd.DataFrame) -> None:
    url = container_server.url
    payload = {"road_users": frame_to_records(rows.head(1))}
    assert httpx.post(url + "/predict", json=payload, timeout=30).status_code == 401
    assert httpx.post(url + "/predict", json=payload, headers={"X-API-Key": "wrong"},
                      timeout=30).status_code == 401
    assert httpx.get(url + "/healthz", timeout=10).status_code == 200
    info = httpx.post(url + "/model_info", json={}, headers=container_server.headers, timeout=30)
    assert info.status_code == 200, info.text
    assert info.json()["model_tag"] == container_image.bento.model_tag
    metrics = httpx.get(url + "/metrics", timeout=10)
    assert metrics.status_code == 200 and "# TYPE" in metrics.text


def test_run_image_check_mode_passes_and_cleans_up(container_image: BuiltImage,
                                                   rows: pd.DataFrame) -> None:
    from tests.fixtures.serving import free_port

    payload = json.dumps({"road_users": frame_to_records(rows.head(1))})
    out = run_script("run-image.sh", container_image.name, "--port", str(free_port()), "--check",
                     "--predict", "/predict", payload, timeout=600)
    assert out.returncode == 0, out.stdout[-4000:]
    assert "GET /readyz -> 200" in out.stdout and "check passed" in out.stdout
    answer = re.search(r"POST /predict -> 200: (.*)", out.stdout)
    assert answer and json.loads(answer.group(1))[0]["model_version"] == container_image.bento.zenml_version
    run_id = re.search(r"working container (bento-run-\S+)", out.stdout).group(1)
    assert run_id not in container_names()
    assert pids_with_env(f"ACCIDENTS_RUN_ID={run_id}") == []


def test_run_image_check_fails_loudly_on_a_bad_prediction(container_image: BuiltImage) -> None:
    from tests.fixtures.serving import free_port

    out = run_script("run-image.sh", container_image.name, "--port", str(free_port()), "--check",
                     "--predict", "/predict", '{"road_users": [{"catv": 7}]}', timeout=600)
    assert out.returncode == 2, out.stdout[-3000:]
    assert re.search(r"POST /predict -> 4\d\d", out.stdout), out.stdout[-3000:]
    assert "answered 4" in out.stdout


def test_fallback_buildah_build_also_packs_the_model(container_image: BuiltImage) -> None:
    image = f"{container_image.name.rsplit(':', 1)[0]}:fb{uuid.uuid4().hex[:6]}"
    out = run_script("build-image.sh", container_image.bento.bento_tag, "--image-tag", image,
                     "--fallback", env=script_env(container_image.bento.home))
    try:
        assert out.returncode == 0, out.stdout[-4000:]
        assert "buildah build -f" in out.stdout and "bentoml containerize " not in out.stdout
        name, version = container_image.bento.model_tag.split(":")
        with image_root(image) as root:
            assert (root / "home/bentoml/bento/models" / name / version / "model.yaml").is_file()
    finally:
        subprocess.run(["buildah", "rmi", image], env=script_env(), capture_output=True, check=False)
