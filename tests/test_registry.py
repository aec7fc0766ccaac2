"""ops/registry.py and ops/runner.py on a real ZenML store (isolated env, real pipeline runs).

What must hold: a version without its threshold is an error (never scored at 0.5); the
production look-up has one contract each way (None / NoProductionVersion); the promotion
rules the pipeline applies are the ones ``run.py promote`` applies (same function); a step's
own UserError reaches the caller as that error, without ZenML's traceback.
"""

from __future__ import annotations

import json

import pytest

from tests.fixtures.zenml import TINY_GATES, ZenmlEnv

pytestmark = [pytest.mark.pipeline]

PRELUDE = "import json\nfrom ops import registry, runner\nrunner.prepare()\n"


def test_missing_threshold_is_an_error_not_half(trained_zenml_env: ZenmlEnv) -> None:
    env = trained_zenml_env
    out = env.python_json(PRELUDE + """
from zenml.client import Client
from accidents.constants import MODEL_NAME
bare = Client().create_model_version(model_name_or_id=MODEL_NAME, name="bare")
try:
    registry.threshold(bare)
    outcome = "no error"
except registry.MissingThreshold as exc:
    outcome = str(exc)
prod = registry.production_version()
print(json.dumps({"bare": outcome, "prod": registry.threshold(prod),
                  "meta": prod.run_metadata["threshold"]}))
""")
    assert "has no 'threshold' metadata" in out["bare"], out
    assert out["prod"] == pytest.approx(out["meta"]) and 0 < out["prod"] < 1


def test_production_lookup_contracts(trained_zenml_env: ZenmlEnv) -> None:
    env = trained_zenml_env
    out = env.python_json(PRELUDE + """
from zenml.client import Client
Client().create_model(name="empty_model")
def err(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except registry.UnknownModelVersion as exc:
        return [type(exc).__name__, str(exc)]
    return None
print(json.dumps({
    "found": registry.find_production().number,
    "none": registry.find_production("empty_model"),
    "raises": err(registry.production_version, "empty_model", purpose="deploy"),
    "no_model": err(registry.production_version, "nosuch_model"),
    "unknown": err(registry.named_version, 999),
    "resolved": registry.resolve_version(None).number,
    "named": registry.resolve_version("1").number,
}))
""")
    assert out["found"] == 1 and out["none"] is None and out["resolved"] == out["named"] == 1
    assert out["raises"][0] == "NoProductionVersion"
    assert "no production version to deploy" in out["raises"][1]
    assert out["no_model"][0] == "NoProductionVersion" and "train one first" in out["no_model"][1]
    assert out["unknown"][0] == "UnknownModelVersion" and "no version '999'" in out["unknown"][1]


def test_pipeline_and_cli_share_the_promotion_flow(trained_zenml_env: ZenmlEnv) -> None:
    """A cached re-run makes a version with production's own model artifact: the pipeline
    refuses to promote it, and so must ``run.py promote`` (the rule lives in one place)."""
    env = trained_zenml_env
    again = env.train(*TINY_GATES)
    assert again["stage"] == "none" and "same model artifact as production version 1" in again["reason"]
    version = str(again["model_version"])
    refused = env.run("promote", version, "--stage", "production", check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"refused to move version {version} to production: same model artifact" in refused.stderr
    assert "Traceback" not in refused.stderr
    staged = env.run("promote", version, "--stage", "staging", "--force")
    assert f"model version {version} -> staging: forced manually" in staged.stdout
    meta = env.python_json(PRELUDE + f"""
v = registry.named_version({version!r})
print(json.dumps({{"stage": registry.stage_of(v), "manual": v.run_metadata.get("promotion_manual"),
                  "pipeline": v.run_metadata.get("promotion")}}))
""")
    assert meta["stage"] == "staging"
    assert meta["manual"]["forced"] is True and meta["manual"]["candidate_version"] == version
    assert meta["pipeline"]["stage"] == "none"  # the pipeline's own decision is kept beside it
    archive = env.run("promote", "1", "--stage", "archived", check=False)
    assert archive.returncode == 2 and "is in production" in archive.stderr


def test_a_steps_user_error_comes_out_as_that_error(trained_zenml_env: ZenmlEnv) -> None:
    """The deployment step itself finds the unknown version (no CLI pre-check here)."""
    env = trained_zenml_env
    proc = env.python(PRELUDE + """
from accidents.config import load_config
from pipelines.deployment import deployment_pipeline
try:
    runner.run_pipeline(deployment_pipeline, load_config("local").stack, version="999", build=False)
    print(json.dumps("no error"))
except registry.UnknownModelVersion as exc:
    print(json.dumps([type(exc).__name__, str(exc)]))
""")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result[0] == "UnknownModelVersion" and "no version '999'" in result[1], result
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]
