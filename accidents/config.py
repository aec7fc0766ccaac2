"""Config profiles: one YAML per profile in ``configs/``, validated into dataclasses.

Why a hand-written validator: every user mistake in a profile must come back as one
``ConfigError`` that names the file and the dotted key (``model.kind``, ``data.years[1]``),
and the profile must stay plain YAML that other parts (serving, monitoring, stack) read
through the same objects. String values may reference the environment with ``${VAR}`` or
``${VAR:-default}`` so tests can point a profile at servers on free ports; values are
interpolated first and then converted to the field's declared type.

A profile may start with ``extends: <other profile>``: the other profile is loaded first and
this file's sections are merged over it key by key (so ``rf.yaml`` only states the model).
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from accidents.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO_ROOT / "configs"
DEFAULT_PROFILE = "local"

STACK_KINDS = ("local", "mlflow", "minio", "airflow")
DATA_SOURCES = ("auto", "synthetic", "dir", "download")
TARGETS = ("user", "accident")
SPLIT_METHODS = ("random", "temporal")
MODEL_KINDS = ("xgboost", "random_forest")
#: Metrics a gate or a promotion rule may name (see accidents.learning.evaluation.METRIC_DIRECTIONS).
GATE_METRICS = (
    "roc_auc", "pr_auc", "f1_severe", "f1_macro", "f1_weighted", "precision", "recall",
    "balanced_accuracy", "accuracy", "brier",
)


@dataclass(frozen=True)
class StackConfig:
    """Which ZenML stack runs the pipelines (registered idempotently by ops/stacks.py)."""

    name: str = "local"
    kind: str = "local"
    #: MLflow tracking location (``file:``/``sqlite:///`` path or ``http(s)://`` server);
    #: relative paths are resolved against the repository root. Empty = none.
    mlflow_tracking_uri: str = ""
    mlflow_experiment: str = "road_accident_severity"
    #: S3 profile (completed by the stack area): endpoint URL, bucket, credentials, region.
    s3_endpoint: str = ""
    bucket: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = dataclasses.field(default="", repr=False)  # never printed
    s3_region: str = "us-east-1"
    #: Names of components registered beforehand by an admin (e.g. a Kubernetes or Airflow
    #: orchestrator, a container registry, an image builder) that the stack should use.
    orchestrator: str = ""
    container_registry: str = ""
    image_builder: str = ""


@dataclass(frozen=True)
class DataConfig:
    """Where the BAAC tables come from.

    ``auto`` uses real files in ``dir`` when all years are there, else real files in the
    download cache, else synthetic data (announced loudly).
    """

    source: str = "auto"
    dir: str = "data/baac"
    cache_dir: str = "data/cache"
    years: list[int] = field(default_factory=lambda: [2022, 2023])
    n_accidents: int = 4000
    seed: int = 0
    year_drift: float = 1.0
    #: Share of a column's values per file that may be outside the codebook (set to
    #: not-recorded and counted) before the run stops; see docs/data.md.
    tolerance: float = 0.001
    #: Share of a table's rows per year that may fail one cross-field check (impossible
    #: date, birth after the accident, ...; counted) before the run stops.
    validity_tolerance: float = 0.01


@dataclass(frozen=True)
class SplitConfig:
    """Train/validation/test fractions, grouped by accident and stratified on the target."""

    method: str = "random"
    train: float = 0.6
    validation: float = 0.2
    test: float = 0.2
    seed: int = 42


@dataclass(frozen=True)
class ModelConfig:
    """Which classifier, its hyper-parameters, and how class imbalance is weighted."""

    kind: str = "xgboost"
    params: dict[str, Any] = field(default_factory=dict)
    #: ``balanced`` (weights inversely proportional to class frequency) or ``none``.
    class_weight: str = "balanced"


@dataclass(frozen=True)
class PromotionConfig:
    """Rule for replacing the production version (always on the candidate's test data)."""

    #: Metric the candidate must improve on.
    metric: str = "roc_auc"
    #: Required improvement over production on ``metric`` (absolute, in metric units).
    margin: float = 0.0
    #: Further metrics on which the candidate may not be worse than production by more
    #: than ``guard_tolerance``.
    guard_metrics: list[str] = field(default_factory=lambda: ["pr_auc"])
    guard_tolerance: float = 0.01


@dataclass(frozen=True)
class MonitoringConfig:
    """Drift / performance thresholds for the monitoring pipeline (monitoring area).

    Read through ``accidents.monitoring.settings.MonitoringSettings``, which documents why
    each default was chosen.
    """

    #: Share of drifted monitored model-input columns at or above which retraining is
    #: decided (0.05 of the 38 monitored inputs = 2 columns).
    drift_share_threshold: float = 0.05
    #: Absolute drop of ``metric`` vs the model version's test metric that asks for retraining.
    performance_drop_threshold: float = 0.03
    metric: str = "roc_auc"
    report_dir: str = "outputs/monitoring"
    #: Evidently stat test for every column (e.g. ``psi``); empty = per-type tests below.
    stattest: str = ""
    stattest_threshold: float | None = None
    #: Per-type tests when ``stattest`` is empty; ``auto`` = Evidently's choice by size.
    cat_stattest: str = "jensenshannon"
    num_stattest: str = "wasserstein"
    #: Evidently's own "dataset drift" line shown in the report.
    dataset_drift_share: float = 0.5
    #: No retrain decided on fewer current rows than this (drift figures are noise there).
    min_rows: int = 500
    #: Model inputs left out of the drift share (``an`` is the period itself).
    ignore_columns: list[str] = field(default_factory=lambda: ["an"])
    #: Rows sampled (seeded) from each side before the Evidently report; 0 = all.
    max_rows: int = 200_000
    seed: int = 0
    #: ``run.py simulate`` periods: ``year`` or ``month``.
    simulate_period: str = "year"
    #: ``run.py simulate`` with no story option: these years are the periods, and from
    #: ``simulate_shift_from`` on the synthetic years carry ``simulate_shift`` -- a story in
    #: which drift appears (stable years, then shifted inputs -> retrain -> promotion?).
    simulate_years: list[int] = field(default_factory=lambda: [2021, 2022, 2023])
    simulate_shift: dict[str, float] = field(
        default_factory=lambda: {"an_nais": 0.8, "atm": 0.8, "vma": 0.8})
    simulate_shift_from: int | None = 2023
    #: What ``run.py monitor`` with no source option monitors: ``served`` = the predictions
    #: the deployed model logged (``serving.prediction_log``) since the last monitoring run
    #: of that log; or a path to a prediction log (.jsonl) or a feature file (.csv/.parquet).
    source: str = "served"


@dataclass(frozen=True)
class ServingConfig:
    """Names, paths and limits for the BentoML service (serving area, docs/serving.md).

    ``run.py deploy`` bakes the prediction-log and limit values into the Bento (as Bento
    arguments, the log path made absolute), so ``bentoml serve`` of that Bento writes
    where ``run.py monitor`` reads; ``ACCIDENTS_*`` variables override them at serve time.
    """

    bento_name: str = "road_accident_severity"
    host: str = "127.0.0.1"
    port: int = 3000
    #: Relative paths are resolved against the repository root (one log per clone).
    prediction_log: str = "outputs/predictions/predictions.jsonl"
    #: Rotation: a new file at this size or at the ``prediction_log_rotate`` boundary
    #: (logging.handlers.TimedRotatingFileHandler's ``when``: midnight, h, d, w0..w6).
    prediction_log_max_mb: float = 100.0
    prediction_log_rotate: str = "midnight"
    #: Retention: rotated files kept (older ones are deleted); gzip them when ``compress``.
    prediction_log_keep: int = 10
    prediction_log_compress: bool = False
    #: Request body size limit (MB) on every endpoint; the largest legal batch is ~8 MB.
    max_body_mb: float = 16.0


@dataclass(frozen=True)
class PipelineConfig:
    """Run-level options: ZenML step caching and where human-readable outputs go."""

    enable_cache: bool = True
    outputs_dir: str = "outputs"


@dataclass(frozen=True)
class Config:
    """A validated profile."""

    profile: str = DEFAULT_PROFILE
    source_file: str = ""
    stack: StackConfig = field(default_factory=StackConfig)
    data: DataConfig = field(default_factory=DataConfig)
    target: str = "user"
    split: SplitConfig = field(default_factory=SplitConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    #: Absolute quality gates on test metrics: ``{metric: minimum}`` (``brier``: maximum).
    gates: dict[str, float] = field(default_factory=lambda: {"roc_auc": 0.6})
    promotion: PromotionConfig = field(default_factory=PromotionConfig)
    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)
    serving: ServingConfig = field(default_factory=ServingConfig)
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)

    def as_dict(self) -> dict[str, Any]:
        """Plain nested dict (for logs and JSON; steps receive the typed sections themselves)."""
        return dataclasses.asdict(self)


def resolve_path(value: str | Path) -> Path:
    """A profile path: absolute as given, else relative to the repository root."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


# --------------------------------------------------------------------------- loading


def profile_path(profile: str | Path) -> Path:
    """``local`` -> configs/local.yaml; an existing path is used as is."""
    text = str(profile)
    candidate = Path(text).expanduser()
    if text.endswith((".yaml", ".yml")) or os.sep in text:
        if not candidate.is_absolute() and not candidate.exists():
            candidate = REPO_ROOT / candidate
        if not candidate.is_file():
            raise ConfigError(f"config file not found: {text} (profiles: {', '.join(list_profiles())})")
        return candidate
    named = CONFIG_DIR / f"{text}.yaml"
    if not named.is_file():
        raise ConfigError(
            f"unknown profile {text!r}: no file {named} (available: {', '.join(list_profiles())})"
        )
    return named


def list_profiles() -> list[str]:
    """Names of the profiles shipped in configs/."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def load_config(
    profile: str | Path = DEFAULT_PROFILE, overrides: Mapping[str, Any] | None = None
) -> Config:
    """Load, merge (``extends``, then ``overrides``), interpolate and validate a profile.

    ``overrides`` maps section names to partial dicts (``{"data": {"n_accidents": 500}}``)
    or dotted keys to values (``{"data.n_accidents": 500}``); they are validated like the file.
    """
    path = profile_path(profile)
    raw = _read_with_extends(path, seen=())
    for key, value in (overrides or {}).items():
        _apply_override(raw, key, value)
    raw = _interpolate(raw, where=path.name)
    return _build(Config, raw, where=str(path), prefix="", extra={
        "profile": path.stem, "source_file": str(path)})


def parse_set_option(text: str) -> tuple[str, Any]:
    """``data.years=[2021,2022]`` -> (``data.years``, [2021, 2022]) (value parsed as YAML)."""
    if "=" not in text:
        raise ConfigError(f"--set expects KEY=VALUE (e.g. model.kind=random_forest), got {text!r}")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return data


def _read_with_extends(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    if path in seen:
        raise ConfigError(f"{path}: 'extends' loop through {', '.join(p.name for p in seen)}")
    data = _read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ConfigError(f"{path}: 'extends' must name a profile, got {parent!r}")
    base = _read_with_extends(profile_path(parent), seen + (path,))
    return _deep_merge(base, data)


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict) and key not in ("params", "gates"):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _apply_override(raw: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".") if "." in key else key.split("__")
    node = raw
    for part in parts[:-1]:
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            node[part] = nxt
        node = nxt
    last = parts[-1]
    if isinstance(value, Mapping) and isinstance(node.get(last), dict) and last not in ("params", "gates"):
        node[last] = _deep_merge(node[last], value)
    else:
        node[last] = copy.deepcopy(value)


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _interpolate(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, where) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        env = os.environ.get(name)
        if env is not None and (env != "" or default is None):
            return env
        if default is not None:
            return default
        raise ConfigError(f"{where}: environment variable {name} is not set (used as ${{{name}}}); "
                          f"set it or write ${{{name}:-default}}")

    replaced = _VAR.sub(replace, value)
    if replaced != value and _VAR.fullmatch(value):
        # A whole-value reference keeps YAML typing ("${N:-500}" -> 500).
        try:
            return yaml.safe_load(replaced) if replaced.strip() else ""
        except yaml.YAMLError:
            return replaced
    return replaced


# --------------------------------------------------------------------------- validation


def _build(cls: type, raw: Any, where: str, prefix: str, extra: dict[str, Any] | None = None) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: {prefix or 'top level'} must be a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = dict(extra or {})
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        if key not in fields or key in ("profile", "source_file"):
            allowed = [n for n in fields if n not in ("profile", "source_file")]
            raise ConfigError(f"{where}: unknown key {dotted!r} (allowed here: {', '.join(allowed)})")
        values[key] = _coerce(hints[key], value, where, dotted)
    obj = cls(**values)
    _check_choices(obj, where, prefix)
    return obj


def _coerce(tp: Any, value: Any, where: str, dotted: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value if value is not None else {}, where, dotted + ".")
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, where, dotted)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: {dotted} must be a list, got {value!r}")
        return [_coerce(args[0], v, where, f"{dotted}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: {dotted} must be a mapping, got {value!r}")
        return {str(k): (_coerce(args[1], v, where, f"{dotted}.{k}") if args[1] is not Any else v)
                for k, v in value.items()}
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise ConfigError(f"{where}: {dotted} must be true or false, got {value!r}")
    if tp in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"{where}: {dotted} must be a number, got {value!r}")
        try:
            number = tp(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: {dotted} must be {'an integer' if tp is int else 'a number'}, "
                              f"got {value!r}") from None
        if tp is int and isinstance(value, float) and value != number:
            raise ConfigError(f"{where}: {dotted} must be an integer, got {value!r}")
        return number
    if tp is str:
        if value is None:
            return ""
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{where}: {dotted} must be a text value, got {value!r}")
        return str(value)
    return value


def _choice(where: str, dotted: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{where}: {dotted} must be one of {', '.join(allowed)}, got {value!r}")


def _check_choices(obj: Any, where: str, prefix: str) -> None:
    """Value checks that the type alone cannot express, per section."""
    if isinstance(obj, StackConfig):
        _choice(where, prefix + "kind", obj.kind, STACK_KINDS)
        if not obj.name:
            raise ConfigError(f"{where}: {prefix}name must not be empty")
    elif isinstance(obj, DataConfig):
        _choice(where, prefix + "source", obj.source, DATA_SOURCES)
        if not obj.years:
            raise ConfigError(f"{where}: {prefix}years must list at least one year")
        this_year = datetime.now(UTC).year
        for i, year in enumerate(obj.years):
            if not 2005 <= year <= this_year:  # a future year has no data: refuse before training
                raise ConfigError(f"{where}: {prefix}years[{i}] = {year} is not a BAAC year "
                                  f"(2005 to {this_year})")
        for name in ("tolerance", "validity_tolerance"):
            if not 0 <= getattr(obj, name) <= 1:
                raise ConfigError(f"{where}: {prefix}{name} must be a share in [0, 1], got {getattr(obj, name)}")
        if obj.n_accidents < 50:
            raise ConfigError(f"{where}: {prefix}n_accidents must be at least 50, got {obj.n_accidents}")
    elif isinstance(obj, SplitConfig):
        _choice(where, prefix + "method", obj.method, SPLIT_METHODS)
        for name in ("train", "validation", "test"):
            value = getattr(obj, name)
            if not 0 < value < 1:
                raise ConfigError(f"{where}: {prefix}{name} must be a fraction in (0, 1), got {value}")
        total = obj.train + obj.validation + obj.test
        if abs(total - 1) > 1e-6:
            raise ConfigError(f"{where}: {prefix}train + validation + test must be 1, got {total:g}")
    elif isinstance(obj, ModelConfig):
        _choice(where, prefix + "kind", obj.kind, MODEL_KINDS)
        _choice(where, prefix + "class_weight", obj.class_weight, ("balanced", "none"))
    elif isinstance(obj, PromotionConfig):
        _choice(where, prefix + "metric", obj.metric, GATE_METRICS)
        for i, name in enumerate(obj.guard_metrics):
            _choice(where, f"{prefix}guard_metrics[{i}]", name, GATE_METRICS)
        if obj.margin < 0 or obj.guard_tolerance < 0:
            raise ConfigError(f"{where}: {prefix}margin and guard_tolerance must be >= 0")
    elif isinstance(obj, MonitoringConfig):
        _choice(where, prefix + "metric", obj.metric, GATE_METRICS)
        if not 0 < obj.drift_share_threshold <= 1:
            raise ConfigError(f"{where}: {prefix}drift_share_threshold must be in (0, 1], "
                              f"got {obj.drift_share_threshold}")
        _choice(where, prefix + "simulate_period", obj.simulate_period, ("year", "month"))
        if obj.min_rows < 0 or obj.max_rows < 0:
            raise ConfigError(f"{where}: {prefix}min_rows and max_rows must be >= 0")
    elif isinstance(obj, ServingConfig):
        if not 0 < obj.port < 65536:
            raise ConfigError(f"{where}: {prefix}port must be a TCP port, got {obj.port}")
    elif isinstance(obj, Config):
        _choice(where, "target", obj.target, TARGETS)
        for name in obj.gates:
            _choice(where, f"gates.{name}", name, GATE_METRICS)
        if obj.split.method == "temporal" and len(set(obj.data.years)) < 2:
            raise ConfigError(f"{where}: split.method temporal needs at least two data.years "
                              f"(test = the newest), got {obj.data.years}")
