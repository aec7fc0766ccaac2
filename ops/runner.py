"""One way to run a pipeline, for every command (train, monitor, simulate, deploy).

Why: each command used to run its pipeline its own way (only ``train`` explained a dead
S3/MLflow server, only ``monitor`` gave back a step's own user error, ``deploy`` neither).
Here, once:

1. ``prepare(stack)``: the project's ZenML environment (ops/stacks.prepare_zenml_env) and,
   given a profile's stack section, that stack registered and active;
2. ``run_pipeline(pipeline, stack, **params)``: run it; a step that failed with one of our
   errors (``accidents.errors.UserError`` / ``DataError`` / ``ConfigError``) comes back as
   that same error (run.py prints one ``error:`` line, exit 2) and ZenML's traceback for it
   is not printed; an unreachable S3/MLflow server is one line naming it
   (ops/stack_minio.stack_errors); any other step failure is ``PipelineFailed``;
3. ``output(run, step, artifact)``: read a step's output back from the store by the named
   constants the steps declare (no string literals in cli/).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from accidents.config import StackConfig
from accidents.errors import UserError


class PipelineFailed(UserError):
    """A pipeline step failed with a bug-like error (its log was printed by ZenML above)."""


def prepare(stack: StackConfig | None = None) -> dict[str, str]:
    """ZenML's project-local environment; with ``stack``, that stack registered and active.

    Returns the ZenML config/repository locations. Safe to call more than once.
    """
    from ops.stacks import ensure_stack, prepare_zenml_env

    locations = prepare_zenml_env()
    if stack is not None:
        ensure_stack(stack)
    return locations


class _QuietUserErrorTracebacks(logging.Filter):
    """A step that raised one of our user errors is logged as one line, not a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], UserError):
            record.msg = f"{record.getMessage()} {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


@contextmanager
def _quiet_user_errors() -> Iterator[None]:
    quiet = _QuietUserErrorTracebacks()
    from ops.stack_minio import STEP_FAILURE_LOGGERS

    loggers = [logging.getLogger(name) for name in STEP_FAILURE_LOGGERS]
    for lg in loggers:
        lg.addFilter(quiet)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeFilter(quiet)


def failed_step_user_error(pipeline_name: str) -> UserError | None:
    """The UserError raised inside a failed step of the pipeline's latest run, rebuilt.

    ZenML stores each failed step's exception class path and message; when the class is
    one of ours (a ``UserError`` subclass), the same class is raised again with the message.
    """
    from zenml.client import Client

    try:
        run = Client().get_pipeline(pipeline_name).last_run
        for step in run.steps.values():
            info = step.exception_info
            if info is None or not info.source:
                continue
            module, _, name = info.source.rpartition(".")
            cls = getattr(importlib.import_module(module), name, None)
            if isinstance(cls, type) and issubclass(cls, UserError):
                return cls(info.message or info.traceback.strip().splitlines()[-1])
    except Exception:  # noqa: BLE001 - best effort: the original failure is re-raised otherwise
        return None
    return None


def run_pipeline(pipeline: Any, stack: StackConfig, *, enable_cache: bool | None = None,
                 **params: Any) -> Any:
    """Run ``pipeline(**params)`` on the profile's stack; the finished run, read from the store.

    Raises the failed step's own UserError, a StackUnavailableError, or PipelineFailed.
    """
    from ops.stack_minio import stack_errors

    prepare(stack)
    configured = pipeline.with_options(enable_cache=enable_cache) if enable_cache is not None else pipeline
    dag_id = None
    if stack.kind == "airflow":  # ZenML's Airflow orchestrator only writes the DAG: wait for it
        from ops.stack_airflow import run_options, wait_for_run

        options = run_options(pipeline.name)
        dag_id = options["settings"]["orchestrator"].dag_id
        configured = configured.with_options(**options)
    with stack_errors(stack), _quiet_user_errors():
        try:
            run = configured(**params)
            if dag_id is not None:
                run = wait_for_run(run, dag_id)
        except UserError:
            raise
        except Exception as exc:
            # the orchestrator reports "step X failed"; a user mistake found inside a step
            # (bad columns, malformed log line, no production version) must reach the user
            # as its own message
            user_error = failed_step_user_error(pipeline.name)
            if user_error is not None:
                raise user_error from None
            if isinstance(exc, RuntimeError) and "failure in step" in str(exc):
                raise PipelineFailed(f"{exc}. The step's error is printed above; step logs are in "
                                     "the ZenML dashboard (.venv/bin/python run.py dashboard)") from None
            raise
    from zenml.client import Client

    return Client().get_pipeline_run(run.id)


def output(run: Any, step_name: str, artifact_name: str) -> Any:
    """The loaded value of a step's named output artifact in ``run``."""
    value = run.steps[step_name].outputs[artifact_name]
    return (value[0] if isinstance(value, list) else value).load()


def run_status(run: Any) -> str:
    """The run's status as plain text (``completed``, ``failed``...)."""
    return str(getattr(run.status, "value", run.status))
