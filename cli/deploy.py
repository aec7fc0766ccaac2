"""``run.py deploy``: export the production (or a named) model version and build its Bento.

    .venv/bin/python run.py deploy                       # current production version
    .venv/bin/python run.py deploy --version 3           # a named version
    .venv/bin/python run.py deploy --containerize        # + container image (Docker, or buildah here)

Then ``BENTOML_HOME=<clone>/bentoml-home bentoml serve road_accident_severity:v<N>`` serves it
(docs/serving.md; the command is printed): the BentoML store is per clone.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
from pathlib import Path
from typing import Any

from cli.common import add_config_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "deploy", help="export the production model version to BentoML and build the Bento",
        description="Take the production version of the ZenML model (or --version), save it into "
                    "the BentoML model store with its labels and metadata, and build the Bento "
                    "from bentofile.yaml tagged with the model version. --containerize also builds "
                    "the container image.")
    parser.add_argument("--version", default=None, help="model version to deploy (default: production)")
    parser.add_argument("--containerize", action="store_true",
                        help="also build the container image (bentoml containerize; buildah without Docker)")
    add_config_argument(parser)
    parser.set_defaults(handler=handle)


def run_deploy(profile: str | Path, version: str | None = None, containerize: bool = False) -> dict[str, Any]:
    """Run the deployment pipeline; returns the export result (also written to outputs/)."""
    from accidents.config import load_config, resolve_path
    from accidents.constants import ARTIFACT_BENTO_EXPORT
    from ops import registry, runner

    config = load_config(profile, {})
    runner.prepare(config.stack)
    registry.resolve_version(version, purpose="deploy")  # fail fast, before a pipeline run
    from pipelines.deployment import STEP_EXPORT, deployment_pipeline

    run = runner.run_pipeline(deployment_pipeline, config.stack, version=version,
                              serving=dataclasses.asdict(config.serving))
    result = dict(runner.output(run, STEP_EXPORT, ARTIFACT_BENTO_EXPORT))
    if containerize:
        from ops.bento_export import containerize as build_image

        result["containerize"] = build_image(result["bento_tag"])
    out_dir = resolve_path(config.pipeline.outputs_dir) / "deployment"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "latest.json").write_text(json.dumps(result, indent=2))
    return result


def handle(args: argparse.Namespace) -> int:
    result = run_deploy(args.config, args.version, args.containerize)
    print(f"model version {result['model_version']} ({result['stage']}) exported as "
          f"{result['model_tag']}; Bento {result['bento_tag']}")
    print(f"BentoML store: {os.environ['BENTOML_HOME']}; prediction log: {result['prediction_log']}")
    print(f"serve it: BENTOML_HOME={shlex.quote(os.environ['BENTOML_HOME'])} .venv/bin/bentoml serve "
          f"{result['bento_tag']} --port 3000   (page: http://127.0.0.1:3000/ui/)")
    return 0
