"""The Kubernetes Deployment of deploy/k8s/, played by ``podman kube play`` on the buildah image.

Why: no cluster runs here, yet the manifests must work, not only pass the schema check
(tests/test_deploy_k8s.py). podman runs the Deployment's pod spec - the container with its
env (the API key from the Secret), probes' endpoints, resource limits and the prediction-log
volume - on the image the other container tests built (session fixture ``container_image``,
not a second build). The few changes podman needs are made by ops/kube_play.py and listed
there (``TRANSFORMS``); tests/test_deploy_k8s.py checks that nothing else changes.

Marker ``container``: needs root, podman, runc and catatonit (``.ci/run`` installs them).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.serving.prediction_log import read_prediction_log
from accidents.serving.schema import frame_to_records
from ops import kube_play
from tests.fixtures.container import BuiltImage

pytestmark = [pytest.mark.service, pytest.mark.container, pytest.mark.timeout(2400)]

#: The pod's container may start slowly under load (its CPU limit is 1 core); BentoML loads
#: the model before /readyz answers.
READY_TIMEOUT = 300.0
TOL = 1e-9


def podman_missing_reason() -> str | None:
    """Why podman cannot play a pod here, or None when it can."""
    for tool in ("podman", "runc", "catatonit"):
        if shutil.which(tool) is None and not Path(f"/usr/libexec/podman/{tool}").exists():
            return f"{tool} not installed (Debian: apt-get install podman runc catatonit; .ci/run does)"
    return None


def _wait_ready(played: kube_play.Played, timeout: float = READY_TIMEOUT) -> float:
    """Seconds until the pod's /readyz answers 200 through the published port."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if httpx.get(played.url + "/readyz", timeout=2).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"pod {played.pod} not ready after {timeout:.0f} s:\n{kube_play.logs(played)}")


@pytest.fixture(scope="module")
def podman_gate(container_image: BuiltImage) -> str:
    """The built image's name as podman sees it; skips, saying what is missing, without podman."""
    reason = podman_missing_reason()
    if reason:
        pytest.skip(reason)
    return f"localhost/{container_image.name}"


@pytest.fixture(scope="module")
def kube_pod(podman_gate: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[kube_play.Played]:
    """deploy/k8s/deployment.yaml played on the built image; ``podman kube down`` afterwards."""
    from tests.fixtures.serving import free_port

    work = tmp_path_factory.mktemp("kube-play")
    start = time.monotonic()
    played = kube_play.up(podman_gate, work, port=free_port())
    try:
        created = time.monotonic() - start
        ready = _wait_ready(played)
        print(f"kube play: pod created in {created:.1f} s, /readyz 200 after {ready:.1f} s more")
        yield played
    finally:
        # the last test downs the pod itself and checks; this is for a failure before it
        kube_play.down(played)


def test_pod_answers_predict_with_the_secret_key_and_the_probes(kube_pod: kube_play.Played,
                                                                 container_image: BuiltImage) -> None:
    bento = container_image.bento
    secret = kube_play.secret_values(kube_play.load_manifest(kube_play.SECRET_FILE))
    assert kube_pod.api_key == secret["api-key"]
    users = bento.users.head(20)
    payload = {"road_users": frame_to_records(users)}
    assert httpx.post(kube_pod.url + "/predict", json=payload, timeout=30).status_code == 401
    assert httpx.post(kube_pod.url + "/predict", json=payload, headers={"X-API-Key": "wrong"},
                      timeout=30).status_code == 401
    resp = httpx.post(kube_pod.url + "/predict", json=payload, headers={"X-API-Key": secret["api-key"]},
                      timeout=60)
    assert resp.status_code == 200, resp.text
    expected = bento.model.predict_proba(users[list(MODEL_INPUT_COLUMNS)])[:, 1]
    np.testing.assert_allclose([a["probability"] for a in resp.json()], expected, rtol=0, atol=TOL)
    assert {a["model_version"] for a in resp.json()} == {bento.zenml_version}
    # the probe paths of the manifest, through the same published port
    container = kube_play.load_manifest(kube_play.DEPLOYMENT_FILE)["spec"]["template"]["spec"]["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        path = container[probe]["httpGet"]["path"]
        assert httpx.get(kube_pod.url + path, timeout=10).status_code == 200, (probe, path)
    # the prediction log lands in the pod's volume (the hostPath folder podman mounted)
    log = kube_pod.log_dir / "predictions.jsonl"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (log.exists() and len(read_prediction_log(log)) >= len(users)):
        time.sleep(0.2)
    assert log.exists(), sorted(p.name for p in kube_pod.log_dir.iterdir())
    assert set(read_prediction_log(log)["model_version"].astype(str)) == {bento.zenml_version}


def test_pod_runs_the_manifests_container_spec(kube_pod: kube_play.Played, container_image: BuiltImage) -> None:
    import json

    manifest = kube_play.load_manifest(kube_play.DEPLOYMENT_FILE)
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    out = kube_play.podman(kube_pod.work, "inspect", kube_pod.container)
    (info,) = json.loads(out.stdout)
    assert info["State"]["Running"] is True
    assert info["ImageName"] == f"localhost/{container_image.name}"
    env = dict(item.split("=", 1) for item in info["Config"]["Env"])
    manifest_env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["ACCIDENTS_PREDICTION_LOG"] == manifest_env["ACCIDENTS_PREDICTION_LOG"]
    assert env["ACCIDENTS_API_KEY"] == kube_pod.api_key  # from the Secret, not from the file
    limits = container["resources"]["limits"]
    assert info["HostConfig"]["Memory"] == 1024 ** 3 and limits["memory"] == "1Gi"
    assert info["HostConfig"]["NanoCpus"] == 10 ** 9 and limits["cpu"] == "1"
    # podman turns the livenessProbe into a healthcheck (curl inside the container on the
    # probe's port: podman 4.3 cannot resolve the port's name, and the image has no curl, so
    # it is not evaluated here; a kubelet probes from outside, as the test above does)
    assert container["livenessProbe"]["httpGet"]["path"] in " ".join(info["Config"]["Healthcheck"]["Test"])
    mounts = {m["Destination"]: m for m in info["Mounts"]}
    assert Path(mounts[container["volumeMounts"][0]["mountPath"]]["Source"]) == kube_pod.log_dir


def test_kube_down_removes_the_pod_and_the_secret(kube_pod: kube_play.Played) -> None:
    assert kube_play.down(kube_pod) == []
    exists = kube_play.podman(kube_pod.work, "pod", "exists", kube_pod.pod, check=False)
    assert exists.returncode == 1, exists
    secret = kube_play.podman(kube_pod.work, "secret", "inspect", kube_pod.secret, check=False)
    assert secret.returncode != 0
    with pytest.raises(httpx.HTTPError):
        httpx.get(kube_pod.url + "/livez", timeout=5)
    names = subprocess.run(["podman", "ps", "-a", "--format", "{{.Names}}"], capture_output=True,
                           text=True, check=False, env=kube_play.podman_env(kube_pod.work)).stdout
    assert kube_pod.container not in names.split()


def test_a_secret_without_the_key_fails_the_play_and_leaves_nothing(podman_gate: str, tmp_path: Path) -> None:
    from tests.fixtures.serving import free_port

    k8s = tmp_path / "k8s"
    shutil.copytree(kube_play.K8S_DIR, k8s)
    secret = k8s / kube_play.SECRET_FILE
    secret.write_text(secret.read_text().replace("  api-key:", "  apikey:"))
    with pytest.raises(kube_play.KubePlayError) as failure:
        kube_play.up(podman_gate, tmp_path / "work", port=free_port(), k8s_dir=k8s)
    message = str(failure.value)
    assert "ACCIDENTS_API_KEY" in message and "api-key" in message, message
    played = kube_play.Played.load(tmp_path / "work")
    assert kube_play.podman(played.work, "pod", "exists", played.pod, check=False).returncode == 1
    assert kube_play.podman(played.work, "secret", "inspect", played.secret, check=False).returncode != 0
