"""``run.py dashboard``: start the local ZenML dashboard on this project's store and print its address.

Runs ``zenml login --local`` with the project's ZenML config (see ops/stacks.py),
so the dashboard shows the runs of ``.venv/bin/python run.py``. After login the client talks to that
local server; ``--stop`` (``zenml logout --local``) goes back to the embedded SQLite store.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from accidents.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dashboard", help="start the local ZenML dashboard and print its address",
        description="Start (or restart) the local ZenML dashboard server on this project's ZenML store "
                    "(zenml login --local) and print its URL. Look at: Pipelines > training (run DAG), "
                    "each step's artifacts (plots, evaluation_report), metadata.")
    parser.add_argument("--port", type=int, default=None, help="port (default: ZenML's, 8237)")
    parser.add_argument("--stop", action="store_true", help="stop the local dashboard (zenml logout --local)")
    parser.set_defaults(handler=handle)


def zenml_cli() -> list[str]:
    """The zenml command of this interpreter's environment."""
    script = Path(sys.executable).parent / "zenml"
    return [str(script)] if script.exists() else [sys.executable, "-m", "zenml.cli.cli"]


def skip_survey() -> None:
    """Mark the sign-up survey answered for the store's user, so the dashboard opens on the runs.

    The dashboard shows its survey while the user's ``email_opted_in`` is unset and
    ``user_metadata`` lacks ``finished_onboarding_survey`` (zenml 0.98's dashboard bundle);
    done on the project's own store before the local server starts, opting out of e-mails.
    """
    from zenml.client import Client

    client = Client()
    user = client.active_user
    metadata = dict(user.user_metadata or {})
    if user.email_opted_in is None or not metadata.get("finished_onboarding_survey"):
        client.update_user(user.id, updated_email_opt_in=False,
                           updated_metadata={**metadata, "finished_onboarding_survey": True})


def handle(args: argparse.Namespace) -> int:
    from ops.stacks import prepare_zenml_env

    locations = prepare_zenml_env()
    if args.stop:
        proc = subprocess.run([*zenml_cli(), "logout", "--local"], capture_output=True, text=True,
                              env={**os.environ, "ZENML_LOGGING_COLORS_DISABLED": "true"})
        print(proc.stdout.strip() or proc.stderr.strip())
        return proc.returncode
    skip_survey()
    cmd = [*zenml_cli(), "login", "--local"]
    if args.port:
        cmd += ["--port", str(args.port)]
    env = {**os.environ, "ZENML_LOGGING_COLORS_DISABLED": "true"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    output = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise UserError(f"`{' '.join(cmd[-3:])}` failed (exit {proc.returncode}): {output.strip()[-800:]}")
    urls = re.findall(r"https?://[\w.\-]+:\d+[\w/.\-]*", output)
    url = urls[0] if urls else "(address not found in zenml's output; see `zenml status`)"
    print(f"ZenML dashboard: {url}")
    print(f"ZenML config: {locations['ZENML_CONFIG_PATH']}  (stop with: .venv/bin/python run.py dashboard --stop)")
    print("look at: Pipelines > training > a run (DAG); click a step for its artifacts: roc_pr_curves, "
          "confusion_matrix, feature_importance, calibration, evaluation_report; metadata tab for metrics")
    return 0
