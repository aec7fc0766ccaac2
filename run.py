#!/usr/bin/env python
"""Command-line entry point.

    .venv/bin/python run.py                                  # train on the `local` profile
    .venv/bin/python run.py --config configs/mlflow.yaml     # train on another profile
    .venv/bin/python run.py <command> --help                 # models, promote, deploy, monitor, ...

Each command lives in its own module under ``cli/`` and registers itself; ZenML is only
imported by the command that runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent
COMMAND_MODULES = (
    "cli.train",
    "cli.models",
    "cli.deploy",
    "cli.serve",
    "cli.monitor",
    "cli.monitor_simulate",
    "cli.stack",
    "cli.dashboard",
)
DEFAULT_COMMAND = "train"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py",
        description="Road-accident severity (ONISR BAAC): train, promote, serve and monitor.",
        epilog="With no command, `train` runs. Every command has --help.",
    )
    commands = parser.add_subparsers(dest="command", metavar="command")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # command not built yet
                continue
            raise
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
    sys.path.insert(0, str(REPO_ROOT))
    # One BentoML store per clone (ops/bento_export.PROJECT_BENTOML_HOME), set before any
    # command imports bentoml: two clones never overwrite each other's Bento of a version.
    from accidents.constants import BENTOML_HOME_DIR

    os.environ.setdefault("BENTOML_HOME", str(REPO_ROOT / BENTOML_HOME_DIR))
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, DEFAULT_COMMAND)
    parser = build_parser()
    args = parser.parse_args(argv)
    from accidents.errors import UserError

    try:
        return int(args.handler(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
