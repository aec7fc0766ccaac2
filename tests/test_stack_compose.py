"""docker-compose.yaml and deploy/ checked without a Docker engine.

What is checked, and why each check can fail:
- the compose file validates against the Compose Specification JSON schema (vendored by the
  `check-jsonschema` PyPI package, so no network), and a broken copy does NOT validate (the
  validator is really applied);
- every image is pinned by an explicit tag (no `latest`, no bare name) after `${VAR:-default}`
  interpolation with the documented defaults;
- the compose dev defaults, deploy/.env.example, the `minio` profile and the code agree
  (credentials, bucket, ports), so `docker compose up` + `run.py --config configs/minio.yaml`
  work together;
- deploy/prometheus/prometheus.yml passes `promtool check config` (Debian's prometheus);
- the Grafana dashboard is valid JSON whose panels all use the provisioned datasource.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPOSE = REPO_ROOT / "docker-compose.yaml"
DEPLOY = REPO_ROOT / "deploy"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def compose_validator() -> jsonschema.protocols.Validator:
    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def env_example() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose-style ${VAR:-default} with `env` (the documented .env.example values)."""
    return _VAR.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), text)


def test_compose_file_matches_the_compose_specification(compose, compose_validator):
    errors = sorted(compose_validator.iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_schema_rejects_a_broken_compose_file(compose, compose_validator):
    broken = copy.deepcopy(compose)
    broken["services"]["minio"]["ports"] = {"9000": 9000}  # must be a list
    broken["services"]["mlflow"]["no_such_key"] = True
    messages = [e.message for e in compose_validator.iter_errors(broken)]
    assert any("no_such_key" in m for m in messages), messages
    assert len(messages) >= 2, messages


def test_every_image_is_pinned_by_tag(compose):
    env = env_example()
    images = {}
    for name, service in compose["services"].items():
        assert "image" in service, f"service {name} has no image (build-only images cannot be pinned)"
        images[name] = interpolate(service["image"], env)
        # Same check with no .env at all (the defaults written in the compose file).
        images[f"{name} (defaults)"] = interpolate(service["image"], {})
    for name, image in images.items():
        last = image.rsplit("/", 1)[-1]
        assert ":" in last, f"{name}: image {image!r} has no tag"
        tag = last.split(":", 1)[1]
        assert tag and tag != "latest", f"{name}: image {image!r} is not pinned"
    dockerfile = (DEPLOY / "mlflow" / "Dockerfile").read_text()
    base = re.search(r"^FROM\s+(\S+)", dockerfile, re.M).group(1)
    assert ":" in base and not base.endswith(":latest"), base


def test_dev_defaults_agree_with_profile_and_code(compose):
    from accidents.config import load_config
    from ops.stack_minio import DEV_ACCESS_KEY, DEV_SECRET_KEY

    env = env_example()
    assert env["MINIO_ROOT_USER"] == DEV_ACCESS_KEY
    assert env["MINIO_ROOT_PASSWORD"] == DEV_SECRET_KEY
    minio_env = compose["services"]["minio"]["environment"]
    assert interpolate(minio_env["MINIO_ROOT_USER"], {}) == DEV_ACCESS_KEY
    assert interpolate(minio_env["MINIO_ROOT_PASSWORD"], {}) == DEV_SECRET_KEY
    profile = load_config(REPO_ROOT / "configs" / "minio.yaml").stack
    assert profile.bucket == env["S3_BUCKET"]
    published = {p.split(":")[-2] + ":" + p.split(":")[-1]
                 for s in compose["services"].values() for p in s.get("ports", [])}
    s3_port = profile.s3_endpoint.rsplit(":", 1)[1]
    mlflow_port = profile.mlflow_tracking_uri.rsplit(":", 1)[1]
    assert f"{s3_port}:9000" in published, (profile.s3_endpoint, published)
    assert f"{mlflow_port}:5000" in published, (profile.mlflow_tracking_uri, published)
    # The profile never carries a credential value itself, only environment references.
    raw = (REPO_ROOT / "configs" / "minio.yaml").read_text()
    assert DEV_SECRET_KEY not in raw and "s3_secret_key: ${AWS_SECRET_ACCESS_KEY" in raw


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian prometheus) not installed")
def test_prometheus_config_is_valid():
    proc = subprocess.run(["promtool", "check", "config", "--syntax-only", str(DEPLOY / "prometheus" / "prometheus.yml")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = [t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]]
    assert "bento:3000" in targets


def test_grafana_dashboard_uses_the_provisioned_datasource(compose):
    datasource = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yaml").read_text())
    uid = datasource["datasources"][0]["uid"]
    dashboard = json.loads((DEPLOY / "grafana/dashboards/accidents-serving.json").read_text())
    titles = [p["title"] for p in dashboard["panels"]]
    assert any("Request rate" in t for t in titles)
    assert any("Latency" in t for t in titles)
    assert any("Prediction share" in t for t in titles)
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert panel["targets"] and all(t["expr"].strip() for t in panel["targets"]), panel["title"]
    home = compose["services"]["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.endswith("/accidents-serving.json")
