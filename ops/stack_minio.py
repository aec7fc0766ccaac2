"""The `minio` profile's ZenML stack: S3 artifact store + MLflow tracker, from code.

Why from code: the same pipelines must move from the embedded `local` stack to a team
stack by switching the profile only (`.venv/bin/python run.py --config configs/minio.yaml`). So
`ensure_minio_stack(stack_cfg)` (called by `cli/stack_profiles.ensure_stack` for
`kind: minio`) idempotently:

1. stores the S3 access key pair in a ZenML secret (`<stack>_s3`), taken from the profile
   (`${AWS_ACCESS_KEY_ID}` ... interpolated from the environment) - never from a file in the
   repository and never printed;
2. creates the bucket when missing (through the S3 API; unreachable endpoint or refused
   credentials -> one clear error naming the endpoint);
3. registers/updates the S3 artifact store (`s3://<bucket>/zenml`, `client_kwargs.endpoint_url`,
   `authentication_secret`) and the MLflow experiment tracker (`tracking_uri` of the MLflow
   server, whose own artifacts live in `s3://<bucket>/mlflow`), and the stack, then
   activates it. Running it twice changes nothing; switching back to `local` is just
   `ensure_stack` of the local profile.

ZenML is imported inside functions so `.venv/bin/python run.py --help` stays fast.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from accidents.errors import ConfigError, UserError
from ops.services import (
    ZENML_PREFIX,
    S3Credentials,
    ensure_bucket,
    is_loopback_url,
)

#: Documented development defaults, used ONLY for an S3 endpoint on this machine
#: (`run.py stack up minio`, docker-compose's MinIO) when no credentials are set. They are
#: the same as in deploy/.env.example; any real endpoint needs real credentials.
DEV_ACCESS_KEY = "accidents"
DEV_SECRET_KEY = "accidents-dev-secret"
#: A remote MLflow URI needs exactly one auth method in ZenML's tracker config. The local
#: `mlflow server` runs without auth and ignores this pair; a real server gets
#: MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN from the environment.
DEV_MLFLOW_USER = "accidents"
DEV_MLFLOW_PASSWORD = "no-auth-on-local-server"

ARTIFACT_STORE_PREFIX = "s3_store"
TRACKER_PREFIX = "mlflow_tracker"


def _cfg(stack_cfg: Any, key: str, default: str = "") -> str:
    """Read a field from the StackConfig dataclass (or a plain mapping, for tests/tools)."""
    value = stack_cfg.get(key, default) if isinstance(stack_cfg, dict) else getattr(stack_cfg, key, default)
    return "" if value is None else str(value)


def s3_credentials(stack_cfg: Any) -> S3Credentials:
    """The access key pair for the profile's endpoint.

    Order: profile fields (`s3_access_key`/`s3_secret_key`, normally `${AWS_ACCESS_KEY_ID}`
    ...), then the AWS_* environment variables, then - only for a loopback endpoint - the
    documented dev defaults. A non-loopback endpoint without credentials is a ConfigError.
    """
    key = _cfg(stack_cfg, "s3_access_key") or os.environ.get("AWS_ACCESS_KEY_ID", "")
    secret = _cfg(stack_cfg, "s3_secret_key") or os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    if key and secret:
        return S3Credentials(key, secret)
    if key or secret:
        raise ConfigError(
            "stack.s3_access_key and stack.s3_secret_key must be set together "
            "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); only one of them is set"
        )
    endpoint = _cfg(stack_cfg, "s3_endpoint")
    if endpoint and is_loopback_url(endpoint):
        return S3Credentials(DEV_ACCESS_KEY, DEV_SECRET_KEY)
    raise ConfigError(
        f"no S3 credentials for endpoint {endpoint or 'AWS S3'}: set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY in the environment (the minio profile reads them; they are "
        "stored in a ZenML secret, never in the repository)"
    )


def mlflow_auth() -> dict[str, str]:
    """Secret values for the MLflow tracker: token, or username/password (see module doc)."""
    token = os.environ.get("MLFLOW_TRACKING_TOKEN", "")
    if token:
        return {"token": token}
    user = os.environ.get("MLFLOW_TRACKING_USERNAME", "")
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD", "")
    if user and password:
        return {"username": user, "password": password}
    return {"username": DEV_MLFLOW_USER, "password": DEV_MLFLOW_PASSWORD}


def validate_minio_cfg(stack_cfg: Any) -> tuple[str, str, str]:
    """(endpoint, bucket, tracking_uri) of a `minio` profile, or a ConfigError naming the key."""
    endpoint = _cfg(stack_cfg, "s3_endpoint").rstrip("/")
    bucket = _cfg(stack_cfg, "bucket")
    tracking_uri = _cfg(stack_cfg, "mlflow_tracking_uri").rstrip("/")
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ConfigError(
            f"stack.s3_endpoint must be an http(s) URL like http://127.0.0.1:9000 "
            f"(empty = AWS S3), got {endpoint!r}"
        )
    if not bucket or "/" in bucket or bucket != bucket.lower():
        raise ConfigError(
            f"stack.bucket must be an S3 bucket name (lower case, no '/'), got {bucket!r}"
        )
    if not tracking_uri.startswith(("http://", "https://")):
        raise ConfigError(
            "stack.mlflow_tracking_uri must be the http(s) URL of an MLflow tracking server "
            f"for kind minio (e.g. http://127.0.0.1:5000), got {tracking_uri!r}"
        )
    return endpoint, bucket, tracking_uri


def _upsert_secret(name: str, values: dict[str, str]) -> None:
    """Create the ZenML secret, or replace its values when they changed (keys rotate)."""
    from zenml.client import Client

    client = Client()
    try:
        existing = client.get_secret(name, allow_partial_name_match=False, allow_partial_id_match=False)
    except KeyError:
        client.create_secret(name=name, values=values)
        return
    current = {k: v.get_secret_value() if hasattr(v, "get_secret_value") else v
               for k, v in existing.values.items()}
    if current != values:
        client.update_secret(
            existing.id,
            add_or_update_values=values,
            remove_values=[k for k in current if k not in values] or None,
        )


def _secret_ref(secret: str, key: str, values: dict[str, str]) -> str | None:
    """ZenML secret reference `{{secret.key}}` when the secret has `key`, else None."""
    return "{{" + f"{secret}.{key}" + "}}" if key in values else None


#: Optional profile keys naming components registered once by an admin (a Kubernetes or
#: Airflow orchestrator, a container registry, an image builder); see configs/kubernetes.yaml.
#: Read only when the profile has them (accidents/config.py StackConfig fields).
_OPTIONAL_COMPONENTS = {
    "orchestrator": "ORCHESTRATOR",
    "container_registry": "CONTAINER_REGISTRY",
    "image_builder": "IMAGE_BUILDER",
}


def _remote_components(stack_cfg: Any) -> dict[Any, str]:
    """Pre-registered components the profile names (e.g. a Kubernetes orchestrator)."""
    from zenml.client import Client
    from zenml.enums import StackComponentType

    found: dict[Any, str] = {}
    for key, type_name in _OPTIONAL_COMPONENTS.items():
        wanted = _cfg(stack_cfg, key)
        if not wanted or wanted == "default":
            continue
        component_type = StackComponentType[type_name]
        try:
            Client().get_stack_component(component_type, wanted, allow_name_prefix_match=False)
        except KeyError:
            raise ConfigError(
                f"stack.{key} names the ZenML {component_type.value} {wanted!r}, which is not "
                f"registered: register it once (`zenml {component_type.value.replace('_', '-')} "
                f"register {wanted} --flavor=...`, see README.md, section Stacks)"
            ) from None
        found[component_type] = wanted
    return found


def ensure_minio_stack(stack_cfg: Any) -> str:
    """Register (or update) and activate the profile's S3 + MLflow stack; returns its name."""
    from zenml.enums import StackComponentType as T

    from ops.stack_components import DEFAULT_COMPONENT, ensure_component, ensure_named_stack

    name = _cfg(stack_cfg, "name") or "minio"
    endpoint, bucket, tracking_uri = validate_minio_cfg(stack_cfg)
    region = _cfg(stack_cfg, "s3_region") or None
    credentials = s3_credentials(stack_cfg)
    created = ensure_bucket(endpoint or None, bucket, credentials, region)
    if created:
        print(f">> created bucket s3://{bucket} at {endpoint or 'AWS S3'}")

    s3_secret = f"{name}_s3"
    mlflow_secret = f"{name}_mlflow"
    _upsert_secret(s3_secret, {"aws_access_key_id": credentials.access_key,
                               "aws_secret_access_key": credentials.secret_key})
    auth = mlflow_auth()
    _upsert_secret(mlflow_secret, auth)

    store = f"{ARTIFACT_STORE_PREFIX}_{name}"
    store_cfg: dict[str, Any] = {
        "path": f"s3://{bucket}/{ZENML_PREFIX}",
        "authentication_secret": s3_secret,
        "client_kwargs": {"endpoint_url": endpoint} if endpoint else None,
        "config_kwargs": {"region_name": region} if region else None,
    }
    ensure_component(store, T.ARTIFACT_STORE, "s3", store_cfg)

    tracker = f"{TRACKER_PREFIX}_{name}"
    tracker_cfg: dict[str, Any] = {
        "tracking_uri": tracking_uri,
        "experiment_name": _cfg(stack_cfg, "mlflow_experiment") or None,
        # Secret references: ZenML resolves {{secret.key}} at run time; values stay in the
        # secret store, never in the component config or the logs.
        "tracking_token": _secret_ref(mlflow_secret, "token", auth),
        "tracking_username": _secret_ref(mlflow_secret, "username", auth),
        "tracking_password": _secret_ref(mlflow_secret, "password", auth),
    }
    ensure_component(tracker, T.EXPERIMENT_TRACKER, "mlflow", tracker_cfg)
    components = {T.ORCHESTRATOR: DEFAULT_COMPONENT, T.ARTIFACT_STORE: store,
                  T.EXPERIMENT_TRACKER: tracker}
    components.update(_remote_components(stack_cfg))
    ensure_named_stack(name, components)
    # Whatever command runs a pipeline on this stack next (train, monitor, ...): a lost S3 /
    # MLflow server is logged as one line naming it, not as a botocore traceback.
    install_quiet_tracebacks(stack_cfg)
    # The MLflow client talks to the tracking server only (artifacts are proxied by the
    # server to s3://<bucket>/mlflow), so no S3 variables are exported to this process.
    return name


# ----------------------------------------------------------------------------- run errors

_CONNECTION_ERRORS = (
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ConnectionClosedError",
    "ClientConnectorError",
    "ServerDisconnectedError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "NewConnectionError",
    "MaxRetryError",
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (current.__cause__, current.__context__):
            if nxt is not None:
                todo.append(nxt)


def _s3_server_error_status(exc: BaseException) -> int | None:
    """HTTP status of a botocore ``ClientError`` that is a server-side failure (5xx), else None."""
    response = getattr(exc, "response", None)
    if type(exc).__name__ != "ClientError" or not isinstance(response, dict):
        return None
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status if isinstance(status, int) and status >= 500 else None


def explain_stack_failure(exc: BaseException, stack_cfg: Any) -> str | None:
    """A one-paragraph message when `exc` comes from an unreachable S3 or MLflow server.

    Walks the exception chain (ZenML wraps the step's error) and looks for connection
    errors; returns None when the failure is something else (a real bug keeps its trace).
    """
    endpoint = _cfg(stack_cfg, "s3_endpoint") or "AWS S3"
    tracking_uri = _cfg(stack_cfg, "mlflow_tracking_uri")
    for item in _chain(exc):
        kind = type(item).__name__
        text = str(item)
        status = _s3_server_error_status(item)
        if status is not None:
            # A server that is going down (or broken) can answer 5xx before it stops listening.
            return (f"the S3 endpoint {endpoint} (artifact store s3://{_cfg(stack_cfg, 'bucket')}) "
                    f"failed during the run (HTTP {status} from the server). Check or restart it "
                    "(`.venv/bin/python run.py stack up minio`, or your MinIO) and run the same command: "
                    "finished steps are cached and will not run twice.")
        if kind not in _CONNECTION_ERRORS and not isinstance(item, ConnectionError):
            continue
        host_port = endpoint.split("://", 1)[-1]
        mlflow_host = tracking_uri.split("://", 1)[-1]
        if mlflow_host and mlflow_host in text and host_port not in text:
            return (f"the MLflow tracking server {tracking_uri} stopped answering during the run "
                    f"({kind}). Start it (`.venv/bin/python run.py stack up minio`) and run the same "
                    "command again: finished steps are cached.")
        return (f"the S3 endpoint {endpoint} (artifact store s3://{_cfg(stack_cfg, 'bucket')}) "
                f"stopped answering during the run ({kind}). Start it again "
                "(`.venv/bin/python run.py stack up minio`, or your MinIO) and run the same command: "
                "finished steps are cached and will not run twice.")
    return None


class StackUnavailableError(UserError):
    """The profile's S3 endpoint or MLflow server went away during a run."""


def unreachable_services(stack_cfg: Any) -> list[str]:
    """Which of the profile's servers do not answer right now (probe: one short GET each)."""
    from ops.services import http_status

    down = []
    endpoint = _cfg(stack_cfg, "s3_endpoint").rstrip("/")
    if endpoint and http_status(endpoint + "/", timeout=3) is None:
        down.append(f"the S3 endpoint {endpoint}")
    tracking_uri = _cfg(stack_cfg, "mlflow_tracking_uri").rstrip("/")
    if tracking_uri.startswith("http") and http_status(tracking_uri + "/health", timeout=3) is None:
        down.append(f"the MLflow tracking server {tracking_uri}")
    return down


class _QuietConnectionTracebacks(logging.Filter):
    """Drop the botocore/aiohttp traceback ZenML logs for a step that lost its S3 server.

    ZenML's local orchestrator logs every failed step with `logger.exception` (a few hundred
    lines for a connection error deep in s3fs/botocore). For connection errors only, the
    record keeps one line that names the endpoint; any other failure keeps its traceback.
    """

    def __init__(self, stack_cfg: Any) -> None:
        super().__init__()
        self.stack_cfg = stack_cfg

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            message = explain_stack_failure(record.exc_info[1], self.stack_cfg)
            if message is not None:
                record.msg = f"{record.getMessage()} {message}"
                record.args = ()
                record.exc_info = None
                record.exc_text = None
        return True


#: ZenML loggers that print a failed step's traceback (ops.runner quiets user errors on them too).
STEP_FAILURE_LOGGERS = (
    "zenml.orchestrators.local.local_orchestrator",
    "zenml.orchestrators.step_launcher",
    "zenml.orchestrators.step_runner",
    "zenml.orchestrators.dag_runner",
    "zenml.log_stores.artifact.artifact_log_exporter",  # step logs are written to S3 too
)


def install_quiet_tracebacks(stack_cfg: Any) -> None:
    """Attach (once per process) the filter that shortens connection-error step failures."""
    for name in STEP_FAILURE_LOGGERS:
        lg = logging.getLogger(name)
        for old in [f for f in lg.filters if isinstance(f, _QuietConnectionTracebacks)]:
            lg.removeFilter(old)
        lg.addFilter(_QuietConnectionTracebacks(stack_cfg))


@contextmanager
def stack_errors(stack_cfg: Any) -> Iterator[None]:
    """Turn a run failure caused by an unreachable S3/MLflow server into a clear UserError.

    Wrap the pipeline call with it (cli/train.py): while it is active, ZenML's step-failure
    log lines for connection errors are one line naming the endpoint; when the run fails
    and the chain shows a connection error, or a server of the profile no longer answers,
    a StackUnavailableError (run.py: `error: ...`, exit 2) replaces the traceback. Other
    failures pass through unchanged. No-op for profiles other than minio.
    """
    if _cfg(stack_cfg, "kind") not in ("minio", "airflow"):
        yield
        return
    quiet = _QuietConnectionTracebacks(stack_cfg)
    loggers = [logging.getLogger(name) for name in STEP_FAILURE_LOGGERS]
    for lg in loggers:
        lg.addFilter(quiet)
    try:
        yield
    except StackUnavailableError:
        raise
    except Exception as exc:
        # Also a UserError such as cli/train.py's "pipeline run has failed": when the cause
        # is a server of the profile that went away, say so (naming it) instead.
        message = explain_stack_failure(exc, stack_cfg)
        if message is None:
            down = unreachable_services(stack_cfg)
            if not down:
                raise
            message = (f"the run failed and {' and '.join(down)} does not answer. Start it "
                       "again (`.venv/bin/python run.py stack up minio`, or your MinIO / MLflow) and run "
                       "the same command: finished steps are cached and will not run twice.")
        raise StackUnavailableError(message) from None
    finally:
        for lg in loggers:
            lg.removeFilter(quiet)
