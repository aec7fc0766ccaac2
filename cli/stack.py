"""`run.py stack up|down|status [profile]`: the local S3 + MLflow services of a profile.

Why: the `minio` profile needs an S3 endpoint and an MLflow tracking server. Without
Docker, `stack up minio` starts both on this machine, on the host/ports the profile names
(`stack.s3_endpoint`, `stack.mlflow_tracking_uri`, so `${S3_ENDPOINT_URL}` and
`${MLFLOW_TRACKING_URI}` overrides apply), waits until they answer, creates the bucket and writes pid/state files in
`.stack/` (or `$ACCIDENTS_STACK_DIR`); `stack down` stops them. With Docker, use
`docker compose up` instead (same ports, same profile). Idempotent: `up` on running
services only reports them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from accidents.errors import ConfigError

DEFAULT_PROFILE = "minio"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `stack` command to run.py."""
    parser = subparsers.add_parser(
        "stack",
        help="start/stop/check the local S3 (SeaweedFS) + MLflow servers of the minio profile "
             "(+ ZenML server and Airflow for the airflow profile)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument("profile", nargs="?", default=None,
                        help=f"profile name or YAML path (default: {DEFAULT_PROFILE})")
    parser.add_argument("--config", default=None, help="same as the profile argument")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Dispatch `stack up|down|status`."""
    from accidents.config import load_config

    cfg = load_config(args.config or args.profile or DEFAULT_PROFILE)
    if cfg.stack.kind not in ("minio", "airflow"):
        raise ConfigError(
            f"{cfg.source_file}: stack.kind is {cfg.stack.kind!r}; `run.py stack` manages the "
            "services of a kind minio or airflow profile (the local and mlflow profiles need none)"
        )
    from ops.services import stack_state_dir

    directory = stack_state_dir()
    if args.action == "up":
        code = stack_up(cfg.stack, directory)
        if cfg.stack.kind == "airflow":
            from cli.stack_airflow import airflow_up

            code = code or airflow_up(directory)
        return code
    if args.action == "down":
        from cli.stack_airflow import airflow_down

        airflow_down(directory)  # whatever the profile: `down` leaves nothing running
        return stack_down(directory)
    code = stack_status(cfg.stack, directory)
    if cfg.stack.kind == "airflow":
        from cli.stack_airflow import airflow_status

        code = airflow_status(directory) or code
    return code


def stack_up(stack_cfg, directory: Path) -> int:
    """Start what is not running yet; print where everything is."""
    from ops import services as svc
    from ops.stack_minio import s3_credentials, validate_minio_cfg

    endpoint, bucket, tracking_uri = validate_minio_cfg(stack_cfg)
    credentials = s3_credentials(stack_cfg)
    for what, url in (("stack.s3_endpoint", endpoint), ("stack.mlflow_tracking_uri", tracking_uri)):
        if not url or not svc.is_loopback_url(url):
            raise ConfigError(
                f"{what} is {url or 'AWS S3'}: not on this machine, so there is nothing to start "
                "(`stack up` starts servers for loopback URLs only)"
            )
    s3_host, s3_port = svc.endpoint_host_port(endpoint, "stack.s3_endpoint")
    s3_host = svc.LOOPBACK if s3_host == "localhost" else s3_host
    state = svc.read_state(directory, svc.S3_SERVICE)
    if state is not None and state.is_running():
        print(f"S3 server already running: {state.url} (pid {state.pid})")
    else:
        state = svc.start_s3_server(directory, directory / "s3-data", s3_port, credentials, s3_host)
        print(f"S3 server (SeaweedFS) started: {state.url} (pid {state.pid}, log {state.log})")
    if svc.ensure_bucket(endpoint, bucket, credentials, stack_cfg.s3_region or None):
        print(f"bucket created: s3://{bucket}")

    mlflow_host, mlflow_port = svc.endpoint_host_port(tracking_uri, "stack.mlflow_tracking_uri")
    mlflow_host = svc.LOOPBACK if mlflow_host == "localhost" else mlflow_host
    mstate = svc.read_state(directory, svc.MLFLOW_SERVICE)
    if mstate is not None and mstate.is_running():
        print(f"MLflow server already running: {mstate.url} (pid {mstate.pid})")
    else:
        db = directory / "mlflow" / "mlflow.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        mstate = svc.start_mlflow_server(
            directory, mlflow_port, f"sqlite:///{db}", f"s3://{bucket}/{svc.MLFLOW_PREFIX}",
            endpoint, credentials, mlflow_host,
        )
        print(f"MLflow server started: {mstate.url} (pid {mstate.pid}, log {mstate.log}), "
              f"artifacts in s3://{bucket}/{svc.MLFLOW_PREFIX}")
    print(f"state, logs and data: {directory}; stop with `.venv/bin/python run.py stack down`")
    return 0


def stack_down(directory: Path) -> int:
    """Stop MLflow first (it writes to S3), then the S3 server."""
    from ops import services as svc

    for name, label in ((svc.MLFLOW_SERVICE, "MLflow server"), (svc.S3_SERVICE, "S3 server")):
        stopped = svc.stop_service(directory, name, timeout=8.0)
        print(f"{label}: {'stopped' if stopped else 'was not running'}")
    return 0


def stack_status(stack_cfg, directory: Path) -> int:
    """One line per service: recorded pid alive? URL answering? Exit 1 if any is down."""
    from ops import services as svc

    checks = ((svc.S3_SERVICE, "S3 server", stack_cfg.s3_endpoint.rstrip("/") + "/", (200, 403)),
              (svc.MLFLOW_SERVICE, "MLflow server",
               stack_cfg.mlflow_tracking_uri.rstrip("/") + "/health", (200,)))
    all_up = True
    for name, label, url, ok in checks:
        state = svc.read_state(directory, name)
        pid = f"pid {state.pid} {'alive' if state.is_running() else 'dead'}" if state else "not started here"
        answering = svc.http_status(url) in ok
        all_up &= answering
        print(f"{label}: {url} {'answers' if answering else 'does NOT answer'} ({pid})")
    return 0 if all_up else 1
