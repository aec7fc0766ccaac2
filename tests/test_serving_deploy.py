"""`run.py deploy` against a real ZenML Model Control Plane (isolated env, real pipeline runs)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.fixtures.serving import start_server
from tests.fixtures.zenml import ZenmlEnv

pytestmark = [pytest.mark.pipeline, pytest.mark.service]


def test_deploy_without_a_model_is_a_clear_error(zenml_env: ZenmlEnv) -> None:
    proc = zenml_env.run("deploy", check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "error: no ZenML model 'road_accident_severity' yet" in proc.stderr


def test_deploy_exports_the_production_version_and_the_bento_serves_it(
        trained_zenml_env: ZenmlEnv, tmp_path_factory: pytest.TempPathFactory) -> None:
    env = trained_zenml_env
    version = str(env.trained["model_version"])

    unknown = env.run("deploy", "--version", "999", check=False)
    assert unknown.returncode == 2 and "has no version '999'" in unknown.stderr, unknown.stderr

    proc = env.run("deploy")
    result = json.loads((env.root / "outputs" / "deployment" / "latest.json").read_text())
    assert result["model_version"] == version and result["stage"] == "production"
    assert result["bento_tag"] == f"road_accident_severity:v{version}"
    assert result["bento_tag"] in proc.stdout

    # The export is recorded on the model version in the Model Control Plane.
    meta = env.python_json(
        "import json\nfrom zenml.client import Client\n"
        f"mv = Client().get_model_version('road_accident_severity', {version!r})\n"
        "print(json.dumps({'deployment': mv.run_metadata.get('deployment'),"
        " 'threshold': mv.run_metadata.get('threshold')}))")
    assert meta["deployment"]["bento_tag"] == result["bento_tag"]

    home = env.root / "bentoml"
    server = start_server(result["bento_tag"], home, tmp_path_factory.mktemp("deploy-serve"))
    try:
        info = httpx.post(server.url + "/model_info", json={}, timeout=30).json()
        assert info["model_version"] == version
        assert info["model_tag"] == result["model_tag"]
        assert info["threshold"] == pytest.approx(meta["threshold"])
        assert info["metrics"]["roc_auc"] == pytest.approx(env.trained["metrics"]["roc_auc"])
        row = {"an": 2023, "mois": 6, "jour": 14, "hrmn": "17:45", "catu": 1, "catv": 7,
               "n_vehicles": 2, "n_users": 2}
        answer = httpx.post(server.url + "/predict", json={"road_users": [row]}, timeout=30)
        assert answer.status_code == 200 and answer.json()[0]["model_version"] == version
    finally:
        server.stop()
