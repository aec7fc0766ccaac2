"""Real ZenML training-pipeline runs in an isolated ZenML environment on tiny synthetic data.

One module-scoped environment; the tests run in file order and build on each other:
v1 (weak XGBoost) -> production; v2 (deliberately worse) -> not production, reason says
why, scored on the same test data; v3 (better) -> production, v1 archived; an unchanged
re-run is served from ZenML's cache and still gets metadata; `models`/`promote` CLI; the
mlflow profile writes a real MLflow run with the same metrics.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from accidents.learning.features import MODEL_INPUT_COLUMNS

if TYPE_CHECKING:
    from tests.fixtures.zenml import ZenmlEnv

pytestmark = pytest.mark.pipeline

WEAK = ("--set", "gates={roc_auc: 0.55}", "--set", "model.params={n_estimators: 3, max_depth: 1}")
#: A model that cannot split (every leaf needs a huge weight): constant scores, ROC-AUC 0.5 on
#: any data. A single stump was used before; on some synthetic data it ranks as well as WEAK.
WORSE_PARAMS = "model.params={n_estimators: 1, max_depth: 1, min_child_weight: 1000000000}"
WORSE = ("--set", "gates={}", "--set", WORSE_PARAMS)
BETTER = ("--set", "gates={roc_auc: 0.55}",
          "--set", "model.params={n_estimators: 150, max_depth: 3, learning_rate: 0.05}")

INSPECT = """
import json
from sklearn.metrics import roc_auc_score
from zenml.client import Client
from accidents import constants as C
from accidents.learning.model import predict_proba
mv = Client().get_model_version(C.MODEL_NAME, {version})
model = mv.get_artifact(C.ARTIFACT_MODEL).load()
test = mv.get_artifact(C.ARTIFACT_TEST_FEATURES).load()
train = mv.get_artifact(C.ARTIFACT_TRAIN_FEATURES).load()
split = mv.get_artifact(C.ARTIFACT_SPLIT).load()
sets = {{name: set(split.loc[split.split == name, "Num_Acc"]) for name in ("train", "validation", "test")}}
plots = {{name: [v.type.value for v in (mv.get_artifact(name).visualizations or [])]
         for name in ("roc_pr_curves", "confusion_matrix", "feature_importance", "calibration", "evaluation_report")}}
print(json.dumps({{
    "stage": str(getattr(mv.stage, "value", mv.stage)),
    "recomputed_auc": roc_auc_score(test["severe"], predict_proba(model, test)),
    "artifact_metrics": mv.get_artifact(C.ARTIFACT_METRICS).load(),
    "meta": {{k: mv.run_metadata.get(k) for k in (C.META_METRICS, C.META_THRESHOLD, C.META_FEATURES,
                                                 C.META_DATA, C.META_PROMOTION, "mlflow")}},
    "rows": {{"train": len(train), "test": len(test), "split": len(split)}},
    "split_counts": {{k: len(v) for k, v in sets.items()}},
    "overlap": len(sets["train"] & sets["test"]) + len(sets["train"] & sets["validation"]) + len(sets["validation"] & sets["test"]),
    "plots": plots,
}}))
"""

SAME_TEST = """
import json
from zenml.client import Client
from accidents import constants as C
from accidents.learning.evaluation import compute_metrics
from accidents.learning.model import predict_proba
prod = Client().get_model_version(C.MODEL_NAME, {production})
cand = Client().get_model_version(C.MODEL_NAME, {candidate})
test = cand.get_artifact(C.ARTIFACT_TEST_FEATURES).load()
m = compute_metrics(test["severe"], predict_proba(prod.get_artifact(C.ARTIFACT_MODEL).load(), test),
                    prod.run_metadata[C.META_THRESHOLD])
print(json.dumps(m))
"""


def inspect(env: ZenmlEnv, version: int) -> dict:
    return env.python_json(INSPECT.format(version=version))


def stages(env: ZenmlEnv) -> dict[int, str]:
    code = ("import json; from cli.models import list_versions; "
            "print(json.dumps({r['version']: r['stage'] for r in list_versions()}))")
    return {int(k): v for k, v in env.python_json(code).items()}


def test_first_model_goes_to_production_with_its_artifacts(zenml_env: ZenmlEnv) -> None:
    result = zenml_env.train(*WEAK)
    assert result["status"] == "completed" and result["synthetic"] is True
    assert result["model_version"] == 1 and result["stage"] == "production"
    assert result["reason"] == "passes all gates and there is no production version yet"
    info = inspect(zenml_env, 1)
    # The stored model reproduces the stored metric on the stored test set.
    assert info["recomputed_auc"] == pytest.approx(info["meta"]["metrics"]["roc_auc"], abs=1e-9)
    assert info["artifact_metrics"]["roc_auc"] == pytest.approx(result["metrics"]["roc_auc"])
    assert 0 < info["meta"]["threshold"] < 1
    assert info["meta"]["feature_columns"] == list(MODEL_INPUT_COLUMNS) and info["meta"]["data_summary"]["synthetic"] is True
    assert info["overlap"] == 0  # grouped: no accident on two sides
    total = sum(info["split_counts"].values())
    assert abs(info["split_counts"]["test"] / total - 0.2) < 0.03
    assert info["rows"]["train"] + info["rows"]["test"] < info["rows"]["split"]
    assert info["plots"]["roc_pr_curves"] == ["image"] and info["plots"]["evaluation_report"] == ["html"]
    out = zenml_env.root / "outputs" / "training" / "v1"
    assert "roc_auc" in (out / "metrics.txt").read_text() and (out / "evaluation.html").stat().st_size > 10_000


def test_worse_model_is_not_promoted_and_says_why(zenml_env: ZenmlEnv) -> None:
    result = zenml_env.train(*WORSE)
    assert result["model_version"] == 2 and result["stage"] != "production"
    reason = result["reason"]
    assert "does not beat production version 1 on the same test data" in reason, reason
    # The production figure in the decision is v1 re-scored on v2's test split, not v1's own test set.
    same_test = zenml_env.python_json(SAME_TEST.format(production=1, candidate=2))
    assert result["promotion"]["production_score"] == pytest.approx(same_test["roc_auc"], abs=1e-9)
    assert result["promotion"]["candidate_score"] < result["promotion"]["production_score"]
    assert stages(zenml_env)[1] == "production"


def test_better_model_is_promoted_and_old_one_archived(zenml_env: ZenmlEnv) -> None:
    result = zenml_env.train(*BETTER)
    assert result["model_version"] == 3 and result["stage"] == "production", result["reason"]
    assert "beats production version 1" in result["reason"]
    assert result["promotion"]["archived_version"] == "1"
    assert stages(zenml_env) == {1: "archived", 2: "staging", 3: "production"}


def test_unchanged_rerun_is_cached_and_gate_failure_is_explained(zenml_env: ZenmlEnv) -> None:
    # Same data and model as v2 (cached steps), stricter gate: the gate refuses it.
    proc = zenml_env.run("train", *WORSE[:-2], "--set", WORSE_PARAMS, "--set", "gates={roc_auc: 0.99}")
    assert proc.returncode == 0
    statuses = zenml_env.python_json(
        "import json; from zenml.client import Client; "
        "run = Client().list_pipeline_runs(sort_by='desc:created', size=1).items[0]; "
        "print(json.dumps({n: str(getattr(s.status, 'value', s.status)) for n, s in run.steps.items()}))")
    assert {n: statuses[n] for n in ("ingest_data", "split_data", "train_model", "evaluate_model")} == dict.fromkeys(
        ("ingest_data", "split_data", "train_model", "evaluate_model"), "cached"), statuses
    assert statuses["promote_model"] == "completed"  # never cached: depends on the current production
    result = json.loads((zenml_env.root / "outputs" / "training" / "latest.json").read_text())
    assert result["model_version"] == 4 and result["stage"] == "none"
    assert result["reason"].startswith("fails quality gate(s): roc_auc") and "< 0.9900" in result["reason"]
    # Cached steps do not run, yet the new version carries the metadata and the artifacts.
    info = inspect(zenml_env, 4)
    assert info["meta"]["metrics"]["roc_auc"] == pytest.approx(inspect(zenml_env, 2)["meta"]["metrics"]["roc_auc"])
    assert stages(zenml_env)[3] == "production"


def test_models_and_manual_promote(zenml_env: ZenmlEnv) -> None:
    listing = zenml_env.run("models").stdout
    assert "production" in listing and "archived" in listing and "does not beat" in listing
    refused = zenml_env.run("promote", "2", "--stage", "production", check=False)
    assert refused.returncode == 2 and "refused to move version 2 to production" in refused.stderr
    forced = zenml_env.run("promote", "1", "--stage", "production", "--force")
    assert "former production version 3 archived" in forced.stdout
    assert stages(zenml_env)[1] == "production" and stages(zenml_env)[3] == "archived"
    back = zenml_env.run("promote", "3", "--stage", "production", "--config", "local")
    assert "beats production version 1" in back.stdout
    assert stages(zenml_env)[3] == "production"


def test_mlflow_profile_writes_a_real_mlflow_run(zenml_env: ZenmlEnv) -> None:
    result = zenml_env.train("--config", "mlflow", *BETTER[:2])
    assert result["status"] == "completed"
    info = inspect(zenml_env, result["model_version"])
    link = info["meta"]["mlflow"]
    db = zenml_env.root / "mlflow" / "mlflow.db"
    assert link["tracking_uri"] == f"sqlite:///{db}" and db.is_file()
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=link["tracking_uri"])
    run = client.get_run(link["run_id"])
    assert run.data.metrics["test_roc_auc"] == pytest.approx(result["metrics"]["roc_auc"], abs=1e-9)
    assert run.data.params["model_kind"] == "xgboost" and "threshold" in run.data.params
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert "plots/roc_pr_curves.png" in artifacts
    # Artifacts beside the database, not in ./mlruns of whatever directory the run started in.
    assert run.info.artifact_uri.startswith((db.parent / "artifacts").as_uri()), run.info.artifact_uri
    assert client.search_logged_models(experiment_ids=[run.info.experiment_id]), "model not logged"
