"""The mlflow profile after a cached local run: an MLflow run with the version's tags, and
the version in the MLflow Model Registry under its stage alias (issue 10 items 3 and 4)."""

from __future__ import annotations

import pytest

from tests.fixtures.zenml import TINY_GATES, ZenmlEnv

pytestmark = pytest.mark.pipeline


def test_mlflow_profile_after_cached_local_run(trained_zenml_env: ZenmlEnv) -> None:
    env = trained_zenml_env
    result = env.train("--config", "mlflow", *TINY_GATES)
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
