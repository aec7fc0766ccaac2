# Two commands do all set-up: `make run` and `make test`.
# Both (re)create .venv from uv.lock; uv itself is bootstrapped with pip when missing.
SHELL := /bin/bash
# The interpreter itself, not its launcher: a pyenv shim is a script, and `uv sync --python
# <shim>` never matches the interpreter .venv was made from, so it would rebuild .venv on
# every make. sys.executable is the real path (tests/test_make_venv.py).
PYTHON ?= $(shell for p in python3.11 python3; do command -v $$p >/dev/null 2>&1 && \
            $$p -c 'import sys; print(sys.executable)' 2>/dev/null && break; done)
UV_VERSION := 0.13.9
UV_BOOT := .uv-boot
UV := $(shell command -v uv 2>/dev/null || echo $(UV_BOOT)/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
export ZENML_ANALYTICS_OPT_IN := false
export ZENML_ENABLE_RICH_TRACEBACK := false
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Compile site-packages to bytecode once, at install (pip does by default, uv does not): with
# PYTHONDONTWRITEBYTECODE set, as on the CI machines, every process otherwise recompiles
# ZenML, pandas, scikit-learn... from source (importing those took 5.6 s of CPU instead of
# 2.5 s), and the test suite starts hundreds of such processes. UV_COMPILE_BYTECODE=0: skip.
export UV_COMPILE_BYTECODE ?= 1
# uv gives up on compiling after 60 s without progress, which a loaded 2-core machine can reach.
export UV_COMPILE_BYTECODE_TIMEOUT ?= 900

.PHONY: run test test-fast lint venv airflow-venv dashboard stack-up stack-down clean help

help:
	@echo "make run   - train, evaluate and promote a model on the embedded default stack (python run.py)"
	@echo "make test  - run the test suite (unit, pipeline, service, stack, browser)"
	@echo "make test-fast - the inner-loop tier: no pipeline, server, browser, container or Airflow test"
	@echo "make lint  - ruff"
	@echo "make dashboard - start the local ZenML dashboard"
	@echo "make stack-up / stack-down - local S3 (SeaweedFS) + MLflow server for the minio profile"
	@echo "make airflow-venv - Apache Airflow's own environment (.airflow-venv) from airflow/uv.lock"

$(UV_BOOT)/bin/uv:
	@echo ">> bootstrapping uv $(UV_VERSION) with pip into $(UV_BOOT)/"
	$(PYTHON) -m venv $(UV_BOOT)
	$(UV_BOOT)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

venv: $(if $(filter $(UV_BOOT)/bin/uv,$(UV)),$(UV_BOOT)/bin/uv)
	@$(UV) sync --frozen --python $(PYTHON) --quiet
	@echo ">> .venv is in sync with uv.lock"

run: venv
	$(PY) run.py $(ARGS)

# Two pytest-xdist workers: the slow tests mostly wait on one single-threaded subprocess, so
# a serial run left a core idle. Modules stay whole; tests/fixtures/parallel.py groups those
# that share a session Bento, the container tool chain or Airflow. TEST_WORKERS=0: serial.
TEST_WORKERS ?= 2

test: venv
	$(PY) -m pytest $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadgroup) $(PYTEST_ARGS)

FAST_MARKERS := not pipeline and not service and not browser and not stack and not container and not airflow and not journey

test-fast: venv
	$(PY) -m pytest -m "$(FAST_MARKERS)" $(PYTEST_ARGS)

# Airflow conflicts with the project's fastapi: its own environment from its own lock.
# `run.py stack up airflow` and the airflow tests create it too when needed.
airflow-venv: venv
	@UV_PROJECT_ENVIRONMENT=$(CURDIR)/.airflow-venv $(UV) sync --frozen --quiet --project airflow --python $(PYTHON)
	@echo ">> .airflow-venv is in sync with airflow/uv.lock"

lint: venv
	$(VENV)/bin/ruff check .

dashboard: venv
	$(PY) run.py dashboard

stack-up: venv
	$(PY) run.py stack up minio

stack-down: venv
	$(PY) run.py stack down

clean:
	rm -rf $(VENV) $(UV_BOOT) .pytest_cache .ruff_cache
