"""Kubernetes manifests of the Bento (deploy/k8s/): schema-valid and consistent with the service.

Why: no cluster runs here, so the manifests are checked offline - against the Kubernetes
OpenAPI schemas with ``kubernetes-validate --strict`` (unknown fields refused, which is how a
misspelled ``readinesProbe`` would otherwise be silently ignored by a lenient apply), and
against the facts they must agree with: the probe paths BentoML serves, the port the service
listens on, the env variables service.py reads, the Secret the key comes from, the HPA's
target and the Service's selector.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
K8S_DIR = REPO_ROOT / "deploy" / "k8s"
VALIDATOR = Path(sys.executable).parent / "kubernetes-validate"


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load((K8S_DIR / name).read_text(encoding="utf-8"))


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VALIDATOR), "--strict", *map(str, paths)],
                          capture_output=True, text=True, timeout=120, check=False)


def test_every_manifest_passes_strict_schema_validation() -> None:
    manifests = sorted(K8S_DIR.glob("*.yaml"))
    assert {p.name for p in manifests} >= {"deployment.yaml", "service.yaml", "hpa.yaml"}
    result = _validate(*manifests)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed ") == len(manifests), result.stdout


@pytest.mark.parametrize(("mutation", "expected"), [
    ("misspelled_probe", "readinesProbe"),
    ("port_as_word", "containerPort"),
])
def test_a_broken_manifest_is_refused(tmp_path: Path, mutation: str, expected: str) -> None:
    deployment = _load("deployment.yaml")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    if mutation == "misspelled_probe":
        container["readinesProbe"] = container.pop("readinessProbe")
    else:
        container["ports"][0]["containerPort"] = "three-thousand"
    broken = tmp_path / "deployment.yaml"
    broken.write_text(yaml.safe_dump(deployment), encoding="utf-8")
    result = _validate(broken)
    assert result.returncode != 0, result.stdout
    assert expected in result.stdout + result.stderr


def test_deployment_agrees_with_the_service_it_runs() -> None:
    from accidents.config import load_config
    from accidents.serving.prediction_log import LOG_ENV
    from service import API_KEY_ENV

    deployment = _load("deployment.yaml")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    port = container["ports"][0]
    assert port["containerPort"] == load_config("local").serving.port
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": port["name"]}
    assert set(container["resources"]) == {"requests", "limits"}
    env = {e["name"]: e for e in container["env"]}
    secret_ref = env[API_KEY_ENV]["valueFrom"]["secretKeyRef"]
    secret = _load("secret.example.yaml")
    assert secret_ref["name"] == secret["metadata"]["name"]
    assert secret_ref["key"] in secret["stringData"]
    log_dir = str(Path(env[LOG_ENV]["value"]).parent)
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert log_dir in mounts, f"{LOG_ENV} must be on a mounted volume"
    assert mounts[log_dir] in {v["name"] for v in pod["volumes"]}


def test_service_and_autoscaler_target_the_deployment() -> None:
    deployment = _load("deployment.yaml")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = _load("service.yaml")
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == \
        deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["name"]
    hpa = _load("hpa.yaml")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert hpa["spec"]["minReplicas"] <= deployment["spec"]["replicas"] <= hpa["spec"]["maxReplicas"]


def _changes(before: Any, after: Any, path: str = "") -> set[str]:
    """Dotted paths where two YAML trees differ (added, removed or changed leaves)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return set().union(*(_changes(before.get(k), after.get(k), f"{path}.{k}".lstrip("."))
                             for k in before.keys() | after.keys()))
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return set().union(*(_changes(b, a, f"{path}[{i}]") for i, (b, a) in enumerate(zip(before, after, strict=True))))
    return set() if before == after else {path}


def test_podman_play_changes_only_what_podman_cannot_do(tmp_path: Path) -> None:
    # ops/kube_play.py plays deployment.yaml under podman (tests/test_container_kube.py);
    # everything it does not list in TRANSFORMS must reach podman unchanged.
    from ops import kube_play

    deployment = _load("deployment.yaml")
    played, renames = kube_play.transform(deployment, image="localhost/x:t1", port=41234,
                                          log_dir=tmp_path, suffix="abc123")
    pod = "spec.template.spec"
    container = f"{pod}.containers[0]"
    assert _changes(deployment, played) == {
        "metadata.name", "spec.replicas",
        f"{container}.image", f"{container}.imagePullPolicy",
        f"{container}.ports[0].hostPort", f"{container}.ports[0].hostIP",
        f"{container}.env[0].valueFrom.secretKeyRef.name",
        f"{pod}.volumes[0].emptyDir", f"{pod}.volumes[0].hostPath",
    }
    assert len(kube_play.TRANSFORMS) == 6
    assert renames == {"accidents-api-key": "accidents-api-key-abc123"}
    assert played["spec"]["template"]["spec"]["volumes"][0]["hostPath"]["path"] == str(tmp_path)
    # the Secret as podman 4.3's secretKeyRef reads it: a JSON map key -> base64 value
    values = kube_play.secret_values(_load("secret.example.yaml"))
    assert json.loads(kube_play.podman_secret_payload(values)) == {
        k: base64.b64encode(v.encode()).decode() for k, v in values.items()}


def test_kube_play_cli_names_a_bad_work_folder_in_one_line(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "ops.kube_play", "down", str(tmp_path)], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 2, out
    assert out.stderr.startswith("error: ") and "not a kube play work folder" in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
