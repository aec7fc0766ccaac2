"""Fast checks of the stack area's rules (no server started): credentials, profile values,
error messages, pid/state handling."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest

from accidents.config import REPO_ROOT, StackConfig
from accidents.errors import ConfigError
from ops import services as svc
from ops.stack_minio import (
    DEV_ACCESS_KEY,
    explain_stack_failure,
    s3_credentials,
    validate_minio_cfg,
)


def minio_cfg(**kw) -> StackConfig:
    base = dict(name="minio", kind="minio", s3_endpoint="http://127.0.0.1:9000", bucket="accidents",
                mlflow_tracking_uri="http://127.0.0.1:5000")
    return StackConfig(**{**base, **kw})


def test_dev_credentials_only_for_a_loopback_endpoint(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    assert s3_credentials(minio_cfg()).access_key == DEV_ACCESS_KEY
    with pytest.raises(ConfigError, match="AWS_ACCESS_KEY_ID"):
        s3_credentials(minio_cfg(s3_endpoint="https://minio.example.org"))
    with pytest.raises(ConfigError, match="AWS S3"):
        s3_credentials(minio_cfg(s3_endpoint=""))
    with pytest.raises(ConfigError, match="together"):
        s3_credentials(minio_cfg(s3_access_key="only-the-key"))
    creds = s3_credentials(minio_cfg(s3_endpoint="https://x.org", s3_access_key="k", s3_secret_key="s3cr3t"))
    assert (creds.access_key, creds.secret_key) == ("k", "s3cr3t")
    assert "s3cr3t" not in repr(creds)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("s3_endpoint", "127.0.0.1:9000", "stack.s3_endpoint"),
    ("bucket", "Bad/Bucket", "stack.bucket"),
    ("bucket", "", "stack.bucket"),
    ("mlflow_tracking_uri", "sqlite:///x.db", "stack.mlflow_tracking_uri"),
])
def test_bad_minio_profile_values_name_the_key(field, value, message):
    with pytest.raises(ConfigError, match=message):
        validate_minio_cfg(minio_cfg(**{field: value}))


def test_unreachable_endpoint_becomes_one_clear_message():
    """A real botocore connection error (nothing listens on the port) is explained."""
    (port,) = svc.free_ports(1)
    endpoint = f"http://127.0.0.1:{port}"
    client = svc.s3_client(endpoint, svc.S3Credentials("a", "b"))
    with pytest.raises(Exception) as info:
        client.list_buckets()
    wrapped = RuntimeError("step failed")
    wrapped.__cause__ = info.value
    message = explain_stack_failure(wrapped, minio_cfg(s3_endpoint=endpoint))
    assert message is not None and endpoint in message and "stack up" in message
    assert explain_stack_failure(ValueError("a real bug"), minio_cfg()) is None


def test_s3_server_error_during_shutdown_is_explained_but_client_errors_are_not():
    """A 5xx from S3 (a server going down answers 500 before it stops listening) is explained;
    a 4xx (our own mistake, e.g. a missing object) keeps its traceback."""
    from botocore.exceptions import ClientError

    def client_error(status: int) -> ClientError:
        return ClientError({"Error": {"Code": str(status), "Message": "x"},
                            "ResponseMetadata": {"HTTPStatusCode": status}}, "HeadObject")

    endpoint = "http://127.0.0.1:9"
    wrapped = OSError(121, "Internal Server Error")
    wrapped.__cause__ = client_error(500)
    message = explain_stack_failure(wrapped, minio_cfg(s3_endpoint=endpoint))
    assert message is not None and endpoint in message and "HTTP 500" in message
    assert explain_stack_failure(client_error(404), minio_cfg(s3_endpoint=endpoint)) is None


def test_ensure_bucket_on_a_dead_endpoint_names_it():
    (port,) = svc.free_ports(1)
    with pytest.raises(svc.ServiceError, match=f"127.0.0.1:{port}"):
        svc.ensure_bucket(f"http://127.0.0.1:{port}", "b", svc.S3Credentials("a", "b"))


def test_start_refuses_a_busy_port_and_stop_cleans_stale_state(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(svc.ServiceError, match=f"127.0.0.1:{port}.*in use") as refused:
            svc.start_s3_server(tmp_path, tmp_path / "data", port, svc.S3Credentials("a", "b"))
    # The hint names a variable the minio profile really reads (it once named one nothing read).
    profile_vars = set(re.findall(r"\$\{(\w+)", (REPO_ROOT / "configs" / "minio.yaml").read_text()))
    named = set(re.findall(r"set (\w+)", str(refused.value)))
    assert named and named <= profile_vars, (named, profile_vars)
    # A state file whose process is gone: stop reports "not running" and removes the files.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    state = svc.ServiceState("s3", dead.pid, "http://x", "log", {}, [], 0.0)
    svc._write_state(tmp_path, state)
    assert svc.read_state(tmp_path, "s3") is not None
    assert svc.stop_service(tmp_path, "s3") is False
    assert svc.read_state(tmp_path, "s3") is None and not (tmp_path / "s3.pid").exists()


def test_stack_errors_turns_a_failed_run_with_a_dead_endpoint_into_one_line():
    """cli/train.py raises a UserError ("pipeline run has failed"); when the profile's S3
    endpoint no longer answers, the user sees which one instead."""
    from accidents.errors import UserError
    from ops.stack_minio import StackUnavailableError, stack_errors

    s3_port, mlflow_port = svc.free_ports(2)
    cfg = minio_cfg(s3_endpoint=f"http://127.0.0.1:{s3_port}",
                    mlflow_tracking_uri=f"http://127.0.0.1:{mlflow_port}")
    with pytest.raises(StackUnavailableError) as info, stack_errors(cfg):
        raise UserError("Pipeline run has failed due to failure in step(s): split_data")
    assert f"S3 endpoint http://127.0.0.1:{s3_port}" in str(info.value)
    assert f"MLflow tracking server http://127.0.0.1:{mlflow_port}" in str(info.value)
    # Other profiles: untouched.
    with pytest.raises(ValueError), stack_errors(minio_cfg(kind="local")):
        raise ValueError("a real bug")
