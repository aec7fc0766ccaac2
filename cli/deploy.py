"""``run.py deploy``: export the production (or a named) model version and build its Bento.

    python run.py deploy                       # current production version
    python run.py deploy --version 3           # a named version
    python run.py deploy --containerize        # + container image (Docker, or buildah here)

Then ``bentoml serve road_accident_severity:v<N>`` serves it (README.md, "Serving").
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    from cli.train import add_config_argument

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
    from accidents.config import load_config
    from ops.stacks import ensure_stack, prepare_zenml_env

    config = load_config(profile, {})
    prepare_zenml_env()
    ensure_stack(config.stack)
    from steps.deploy import resolve_version

    resolve_version(version)  # fail fast, with the clear message, before a pipeline run
    from zenml.client import Client

    from pipelines.deployment import deployment_pipeline

    run = Client().get_pipeline_run(deployment_pipeline(version=version).id)
    output = run.steps["export_to_bento"].outputs["bento_export"]
    result = dict((output[0] if isinstance(output, list) else output).load())
    if containerize:
        from ops.bento_export import containerize as build_image

        result["containerize"] = build_image(result["bento_tag"])
    out_dir = Path(config.pipeline.outputs_dir) / "deployment"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "latest.json").write_text(json.dumps(result, indent=2))
    return result


def handle(args: argparse.Namespace) -> int:
    result = run_deploy(args.config, args.version, args.containerize)
    print(f"model version {result['model_version']} ({result['stage']}) exported as "
          f"{result['model_tag']}; Bento {result['bento_tag']}")
    print(f"serve it: bentoml serve {result['bento_tag']} --port 3000   (page: http://127.0.0.1:3000/ui/)")
    return 0
