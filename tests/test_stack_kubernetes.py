"""The example Kubernetes profile (configs/kubernetes.yaml): its ZenML stack, registered without a cluster.

Why: no Kubernetes cluster runs here, so the profile stays an example - but an example that
is checked. In a private ZenML store, next to a real S3 (SeaweedFS) and MLflow server
(``minio_stack``), the test runs the admin's registration commands exactly as
docs/stacks.md gives them (Kubernetes orchestrator, kaniko image builder, container
registry), then lets the project register the profile's stack (``ops.stacks.ensure_stack``,
as ``run.py --config kubernetes`` does first), and has ZenML validate that stack the way it
does before a run: the orchestrator's own checks against a kubeconfig naming the
``my-cluster`` context (pointing at a closed port: nothing contacts a cluster). Before the
registration the profile must refuse, naming the missing component; with a local artifact
store, ZenML's Kubernetes validator must refuse.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tests.fixtures.zenml import ZenmlEnv

pytestmark = [pytest.mark.stack]

REPO_ROOT = Path(__file__).resolve().parents[1]
DOC = REPO_ROOT / "docs" / "stacks.md"
#: The kube context the documented commands name; the test's kubeconfig defines it.
CONTEXT = "my-cluster"
KUBECONFIG = f"""apiVersion: v1
kind: Config
clusters:
- name: {CONTEXT}
  cluster: {{server: "https://127.0.0.1:9"}}
contexts:
- name: {CONTEXT}
  context: {{cluster: {CONTEXT}, user: nobody, namespace: mlops}}
users:
- name: nobody
  user: {{token: not-a-real-token}}
current-context: {CONTEXT}
"""

REGISTER_AND_VALIDATE = """
import json
from ops.stacks import prepare_zenml_env
prepare_zenml_env()
from zenml.cli.cli import cli
from zenml.client import Client
from zenml.enums import StackComponentType as T
from zenml.integrations.kubernetes import KubernetesIntegration
from zenml.stack import Stack
from accidents.config import load_config
from accidents.errors import ConfigError
from ops.stacks import ensure_stack

assert KubernetesIntegration.check_installation(), "zenml's kubernetes integration requirements"
try:  # before the admin's registration the profile must refuse, naming what is missing
    ensure_stack(load_config("kubernetes").stack)
    refused_before = ""
except ConfigError as exc:
    refused_before = str(exc)
for args in {commands!r}:
    try:
        cli.main(args=args, standalone_mode=False)
    except SystemExit as exc:
        assert not exc.code, (args, exc.code)
name = ensure_stack(load_config("kubernetes").stack)
client = Client()
model = client.get_stack(name)
Stack.from_model(model).validate()
components = {{t.value: [c.name, c.flavor_name, dict(c.configuration)]
              for t, comps in model.components.items() for c in comps}}
client.create_stack(name="k8s_local_store", components={{
    T.ORCHESTRATOR: "k8s_orchestrator", T.ARTIFACT_STORE: "default",
    T.CONTAINER_REGISTRY: "k8s_registry", T.IMAGE_BUILDER: "k8s_kaniko"}})
try:
    Stack.from_model(client.get_stack("k8s_local_store")).validate()
    refused = ""
except Exception as exc:
    refused = str(exc)
print(json.dumps({{"refused_before": refused_before, "stack": name, "active": client.active_stack_model.name,
                  "components": components, "local_store_refused": refused}}, default=str))
"""


def documented_commands() -> list[list[str]]:
    """The `zenml ... register` commands of docs/stacks.md's Kubernetes section, as argv lists."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Beyond one machine", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, f"{DOC}: no bash block in the 'Beyond one machine' section"
    commands = []
    for line in block.group(1).replace("\\\n", " ").splitlines():
        argv = shlex.split(line)
        if argv and argv[0].endswith("bin/zenml") and "register" in argv:
            commands.append(argv[1:])
    return commands


def test_documented_commands_register_the_three_components() -> None:
    kinds = {(argv[0], argv[2]) for argv in documented_commands()}
    assert kinds == {("container-registry", "k8s_registry"), ("image-builder", "k8s_kaniko"),
                     ("orchestrator", "k8s_orchestrator")}


def test_kubernetes_profile_registers_and_validates_without_a_cluster(minio_stack, tmp_path: Path) -> None:
    env = minio_stack.zenml
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    commands = documented_commands()
    with_kube = ZenmlEnv(env.root, {**env.env, "KUBECONFIG": str(kubeconfig)})
    out = with_kube.python(REGISTER_AND_VALIDATE.format(commands=commands), timeout=600)
    result = json.loads(out.stdout.strip().splitlines()[-1])

    assert "'k8s_orchestrator', which is not registered" in result["refused_before"], result["refused_before"]
    assert result["stack"] == result["active"] == "k8s"
    components = result["components"]
    assert components["orchestrator"][:2] == ["k8s_orchestrator", "kubernetes"]
    assert components["orchestrator"][2]["kubernetes_context"] == CONTEXT
    assert components["orchestrator"][2]["kubernetes_namespace"] == "mlops"
    assert components["image_builder"][:2] == ["k8s_kaniko", "kaniko"]
    assert components["container_registry"][:2] == ["k8s_registry", "default"]
    assert components["container_registry"][2]["uri"] == "registry.mycompany.net/accidents"
    # the profile's own S3 store and MLflow tracker, on the test's services
    assert components["artifact_store"][1] == "s3"
    assert components["artifact_store"][2]["path"].startswith(f"s3://{minio_stack.bucket}/")
    assert components["experiment_tracker"][1] == "mlflow"
    assert components["experiment_tracker"][2]["tracking_uri"] == minio_stack.mlflow_url
    # ZenML's Kubernetes validator really ran: a local artifact store is refused
    refused = result["local_store_refused"]
    assert "Kubernetes orchestrator" in refused and "artifact_store" in refused, refused
