"""Run the Bento's Kubernetes Deployment (deploy/k8s/) on one machine with ``podman kube play``.

    .venv/bin/python -m ops.kube_play up IMAGE [--port 3000] [--work DIR]   # prints the URL
    .venv/bin/python -m ops.kube_play down DIR                              # pod and secret gone

Why: no Kubernetes cluster runs here, but podman (Debian, run as root with ``runc``) plays a
Deployment's pod spec - the same container, env from the Secret, probes, resource limits and
volume - so the manifests are exercised on the image buildah built, not only schema-checked.

The manifests are read from deploy/k8s/ as they are; only what podman 4.3 cannot do the way a
cluster would is changed (``TRANSFORMS``, printed by ``up`` and listed in docs/container.md):

- ``image``: the local image to play (``localhost/...``), ``imagePullPolicy: Never``; a cluster
  pulls the image named in the manifest from its registry.
- ``replicas: 1``: podman makes one pod per replica, all publishing the same host port.
- the ``http`` port gets ``hostPort``/``hostIP`` (a chosen loopback port): without it podman
  4.3 publishes ``containerPort`` 3000 on every address of the host (a fixed, shared port).
- the prediction-log volume (``emptyDir``) becomes a ``hostPath`` folder: podman 4.3 makes an
  ``emptyDir`` a named volume owned by root with mode 755 (the image's non-root ``bentoml``
  user cannot write it; a cluster's emptyDir is writable) named after the volume, so two plays
  would share it; a host folder is also where the prediction log can be read afterwards.
- the Secret: podman 4.3's ``kube play`` does not read ``kind: Secret``; a ``secretKeyRef``
  reads a podman secret holding a JSON map of key -> base64 value, so the Secret's
  ``stringData``/``data`` is stored as such a podman secret (``podman secret create``).
- names: the Deployment and the Secret get a suffix so parallel plays do not collide.

Machine settings, not manifest changes (a private ``containers.conf``): the OCI runtime is
``runc`` (``crun`` fails on these machines' cgroups), and the ``nofile``/``nproc`` ulimits stay
within this process's limits (podman 4.3 asks for 1048576, which a root without
CAP_SYS_RESOURCE, as in a container, cannot grant).
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from accidents.errors import UserError

REPO_ROOT = Path(__file__).resolve().parents[1]
K8S_DIR = REPO_ROOT / "deploy" / "k8s"
DEPLOYMENT_FILE = "deployment.yaml"
SECRET_FILE = "secret.example.yaml"
#: The Deployment's container port name the Service targets (deploy/k8s/service.yaml).
HTTP_PORT_NAME = "http"
#: The volume holding the prediction log (deploy/k8s/deployment.yaml).
LOG_VOLUME = "prediction-log"
#: Written into the work folder by ``up``, read by ``down``.
PLAYED_FILE = "deployment.played.yaml"
STATE_FILE = "kube-play.json"
#: podman kube play's name for replica 0 of a Deployment and for a container in it.
POD_NAME = "{deployment}-pod-0"
CONTAINER_NAME = "{pod}-{container}"
#: Process ulimit asked for inside the pod (podman's own default, 1048576, cannot be granted here).
NPROC_LIMIT = 4096

TRANSFORMS = (
    "image -> the local image, imagePullPolicy Never (a cluster pulls from its registry)",
    "replicas -> 1 (podman: one pod per replica, all on the same host port)",
    "port http -> hostPort on 127.0.0.1 (podman 4.3 would publish containerPort on all addresses)",
    f"volume {LOG_VOLUME}: emptyDir -> hostPath folder (podman 4.3's emptyDir is a shared, "
    "root-only named volume)",
    "Secret -> podman secret (JSON map key -> base64); podman 4.3 kube play does not read kind: Secret",
    "Deployment and Secret names get a suffix (parallel plays do not collide)",
)


class KubePlayError(UserError):
    """podman is missing or refused the play; the message carries podman's own words."""


@dataclass
class Played:
    """A Deployment running under podman: where it answers and what ``down`` removes."""

    work: Path
    deployment: str
    secret: str
    pod: str
    container: str
    url: str
    log_dir: Path
    api_key: str

    def save(self) -> None:
        """Record the play in its work folder (``down DIR`` reads it)."""
        (self.work / STATE_FILE).write_text(json.dumps(
            {k: str(v) for k, v in self.__dict__.items() if k != "api_key"}, indent=2) + "\n")

    @classmethod
    def load(cls, work: Path) -> Played:
        """The play recorded in ``work`` (api_key not kept on disk)."""
        try:
            data = json.loads((work / STATE_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise KubePlayError(f"{work / STATE_FILE}: not a kube play work folder ({exc})") from None
        return cls(work=Path(data["work"]), deployment=data["deployment"], secret=data["secret"],
                   pod=data["pod"], container=data["container"], url=data["url"],
                   log_dir=Path(data["log_dir"]), api_key="")


def load_manifest(name: str, k8s_dir: Path = K8S_DIR) -> dict[str, Any]:
    """One YAML document of deploy/k8s/."""
    return yaml.safe_load((k8s_dir / name).read_text(encoding="utf-8"))


def secret_values(secret: dict[str, Any]) -> dict[str, str]:
    """A Secret's values as plain text (``stringData`` wins over ``data``, as in Kubernetes)."""
    values = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    values.update(secret.get("stringData") or {})
    return values


def podman_secret_payload(values: dict[str, str]) -> bytes:
    """What podman 4.3's ``secretKeyRef`` reads: a JSON map key -> base64 of the value."""
    return json.dumps({k: base64.b64encode(v.encode()).decode() for k, v in values.items()}).encode()


def transform(deployment: dict[str, Any], *, image: str, port: int, log_dir: Path,
              suffix: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The Deployment as podman plays it (``TRANSFORMS``) and the Secret renames {old: new}."""
    played = copy.deepcopy(deployment)
    played["metadata"]["name"] = f"{deployment['metadata']['name']}-{suffix}"
    spec = played["spec"]
    spec["replicas"] = 1
    pod = spec["template"]["spec"]
    renames: dict[str, str] = {}
    for container in pod["containers"]:
        container["image"] = image
        container["imagePullPolicy"] = "Never"
        for port_spec in container.get("ports", []):
            if port_spec.get("name") == HTTP_PORT_NAME:
                port_spec.update(hostPort=port, hostIP="127.0.0.1")
        for env in container.get("env", []):
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                renames[ref["name"]] = f"{ref['name']}-{suffix}"
                ref["name"] = renames[ref["name"]]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    if LOG_VOLUME not in volumes:
        raise KubePlayError(f"{DEPLOYMENT_FILE}: no volume {LOG_VOLUME!r} (the prediction log's)")
    volumes[LOG_VOLUME].pop("emptyDir", None)
    volumes[LOG_VOLUME]["hostPath"] = {"path": str(log_dir), "type": "Directory"}
    return played, renames


def containers_conf(work: Path) -> Path:
    """A private containers.conf: runc, and ulimits this process can grant."""
    _, nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
    _, nproc = resource.getrlimit(resource.RLIMIT_NPROC)
    nproc = NPROC_LIMIT if nproc == resource.RLIM_INFINITY else min(nproc, NPROC_LIMIT)
    nofile = 65536 if nofile == resource.RLIM_INFINITY else nofile
    path = work / "containers.conf"
    path.write_text("[containers]\n"
                    f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
                    '[engine]\nruntime = "runc"\n')
    return path


def podman_env(work: Path) -> dict[str, str]:
    """Environment for podman: the private containers.conf, and no STORAGE_DRIVER override.

    STORAGE_DRIVER is dropped because podman (unlike buildah 1.28) reads it, and a driver other
    than the store's makes podman refuse the store buildah built the image in.
    """
    env = {k: v for k, v in os.environ.items() if k != "STORAGE_DRIVER"}
    env["CONTAINERS_CONF"] = str(containers_conf(work))
    return env


def podman_global_options() -> list[str]:
    """The storage options the container scripts use (container/buildah-env.sh), if any."""
    opts: list[str] = []
    if os.environ.get("ACCIDENTS_STORAGE_DRIVER"):
        opts += ["--storage-driver", os.environ["ACCIDENTS_STORAGE_DRIVER"]]
    if os.environ.get("ACCIDENTS_STORAGE_ROOT"):
        opts += ["--root", os.environ["ACCIDENTS_STORAGE_ROOT"]]
    return opts


def podman(work: Path, *args: str, check: bool = True, stdin: bytes | None = None,
           timeout: float = 600) -> subprocess.CompletedProcess[bytes]:
    """Run podman with this machine's settings; a failure raises with podman's output."""
    if shutil.which("podman") is None:
        raise KubePlayError("podman not found on PATH (Debian: apt-get install podman runc catatonit)")
    out = subprocess.run(["podman", *podman_global_options(), *args], env=podman_env(work),
                         input=stdin, capture_output=True, timeout=timeout, check=False)
    if check and out.returncode != 0:
        raise KubePlayError(f"podman {' '.join(args[:2])} failed ({out.returncode}): "
                            f"{out.stderr.decode(errors='replace').strip()[-3000:]}")
    return out


def up(image: str, work: Path, *, port: int, k8s_dir: Path = K8S_DIR) -> Played:
    """Create the podman secret and play the transformed Deployment; returns the play."""
    if (work / STATE_FILE).exists():
        raise KubePlayError(f"{work} holds a play already: `python -m ops.kube_play down {work}` first")
    work.mkdir(parents=True, exist_ok=True)
    suffix = secrets.token_hex(3)
    log_dir = work / "predictions"
    log_dir.mkdir(exist_ok=True)
    log_dir.chmod(0o777)  # the image runs as its own non-root `bentoml` user
    deployment = load_manifest(DEPLOYMENT_FILE, k8s_dir)
    played, renames = transform(deployment, image=image, port=port, log_dir=log_dir, suffix=suffix)
    secret = load_manifest(SECRET_FILE, k8s_dir)
    if list(renames) != [secret["metadata"]["name"]]:
        raise KubePlayError(f"{DEPLOYMENT_FILE} refers to the Secrets {sorted(renames)}, "
                            f"{SECRET_FILE} defines {secret['metadata']['name']!r}")
    values = secret_values(secret)
    name = played["metadata"]["name"]
    pod = POD_NAME.format(deployment=name)
    container = played["spec"]["template"]["spec"]["containers"][0]["name"]
    result = Played(work, name, renames[secret["metadata"]["name"]], pod,
                    CONTAINER_NAME.format(pod=pod, container=container),
                    f"http://127.0.0.1:{port}", log_dir, values.get("api-key", ""))
    (work / PLAYED_FILE).write_text(yaml.safe_dump(played, sort_keys=False))
    result.save()
    podman(work, "secret", "create", result.secret, "-", stdin=podman_secret_payload(values))
    try:
        podman(work, "kube", "play", str(work / PLAYED_FILE))
    except KubePlayError:
        down(result)  # a failed play leaves created pods and the secret behind
        raise
    return result


def down(played: Played) -> list[str]:
    """``podman kube down`` the played manifest and remove its secret; returns podman's complaints."""
    problems = []
    for args in (("kube", "down", str(played.work / PLAYED_FILE)), ("pod", "rm", "-f", "--ignore", played.pod),
                 ("secret", "rm", played.secret)):
        out = podman(played.work, *args, check=False)
        if out.returncode != 0:
            problems.append(f"podman {' '.join(args[:2])}: {out.stderr.decode(errors='replace').strip()}")
    return problems


def logs(played: Played, tail: int = 40) -> str:
    """The pod's container output (for failure messages)."""
    out = podman(played.work, "logs", "--tail", str(tail), played.container, check=False)
    return (out.stdout + out.stderr).decode(errors="replace")


def main(argv: list[str] | None = None) -> int:
    """``up IMAGE`` / ``down DIR``; one ``error:`` line and exit 2 on a user-fixable problem."""
    parser = argparse.ArgumentParser(prog="python -m ops.kube_play", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    play = sub.add_parser("up", help="play deploy/k8s/deployment.yaml on a local image")
    play.add_argument("image", help="local image, e.g. localhost/accidents_severity:latest")
    play.add_argument("--port", type=int, default=3000, help="loopback port to publish (default 3000)")
    play.add_argument("--work", type=Path, default=REPO_ROOT / "outputs" / "kube-play",
                      help="folder for the played manifest and the prediction log")
    stop = sub.add_parser("down", help="remove a play's pod and secret")
    stop.add_argument("work", type=Path, help="the work folder `up` printed")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            played = up(args.image, args.work.resolve(), port=args.port)
            print("changed for podman (deploy/k8s is unchanged):\n  " + "\n  ".join(TRANSFORMS))
            print(f"pod {played.pod} serving on {played.url} (API key from {SECRET_FILE}); "
                  f"prediction log in {played.log_dir}\nstop: python -m ops.kube_play down {played.work}")
            return 0
        played = Played.load(args.work)
        for problem in down(played):
            print(f"warning: {problem}", file=sys.stderr)
        (played.work / STATE_FILE).unlink(missing_ok=True)
        return 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
