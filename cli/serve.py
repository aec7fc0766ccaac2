"""``run.py serve``: serve the deployed Bento with ``bentoml serve``, on this clone's store.

Why a command rather than "type ``bentoml serve ...``": the Bento lives in this clone's
BentoML store (``run.py`` sets ``BENTOML_HOME``) and the tag of the last deployment is in
``outputs/deployment/latest.json``, so the user needs neither. The process *becomes*
``bentoml serve`` (exec, through ``ops/bento_serve.py``: metrics of the server's own), so Ctrl-C
or ``kill`` stops the server itself.

    .venv/bin/python run.py serve                 # the last deployed Bento, port from the profile
    .venv/bin/python run.py serve --port 3001 --bento road_accident_severity:v2
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import socket
import sys
from pathlib import Path

from accidents.errors import UserError

BENTO_SERVE = Path(__file__).resolve().parents[1] / "ops" / "bento_serve.py"


def register(subparsers: argparse._SubParsersAction) -> None:
    from cli.train import add_config_argument

    parser = subparsers.add_parser(
        "serve", help="serve the deployed Bento (bentoml serve) with its page at /ui/",
        description="Start `bentoml serve` on the Bento of the last `run.py deploy` (or --bento) "
                    "from this clone's BentoML store, on the profile's host and port. The server "
                    "runs in the foreground until Ctrl-C (append `&` to keep the shell).")
    parser.add_argument("--bento", default=None, metavar="TAG",
                        help="Bento tag (default: the last deployed one, outputs/deployment/latest.json)")
    parser.add_argument("--host", default=None, help="interface (default: the profile's serving.host)")
    parser.add_argument("--port", type=int, default=None, help="port (default: the profile's serving.port)")
    add_config_argument(parser)
    parser.set_defaults(handler=handle)


def deployed_bento(outputs_dir: Path) -> str:
    """The Bento tag of the last ``run.py deploy`` (UserError saying how to get one)."""
    record = outputs_dir / "deployment" / "latest.json"
    try:
        return str(json.loads(record.read_text(encoding="utf-8"))["bento_tag"])
    except FileNotFoundError:
        raise UserError("nothing deployed yet: run `.venv/bin/python run.py deploy` first "
                        f"(it records the Bento in {record})") from None
    except (ValueError, KeyError) as exc:
        raise UserError(f"{record}: unreadable deployment record ({exc}); run "
                        "`.venv/bin/python run.py deploy` again") from None


def check_port_free(host: str, port: int) -> None:
    """Refuse early, in one line, when another process already listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(f"port {port} on {host} is already in use (another server?): stop it "
                                "or choose another with --port") from None
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def handle(args: argparse.Namespace) -> int:
    from accidents.config import load_config, resolve_path

    config = load_config(args.config, {})
    tag = args.bento or deployed_bento(resolve_path(config.pipeline.outputs_dir))
    host = args.host or config.serving.host
    port = args.port if args.port is not None else int(config.serving.port)
    check_port_free(host, port)
    # ops/bento_serve.py runs `bentoml serve` with a Prometheus directory of this server's own:
    # a plain `bentoml serve` wipes the store-wide one, freezing the metrics of any other
    # server of this store (docs/serving.md, "Metrics").
    cmd = [sys.executable, str(BENTO_SERVE), tag, "--host", host, "--port", str(port)]
    print(f"serving {tag} from {os.environ.get('BENTOML_HOME', '~/bentoml')} on http://{host}:{port} "
          f"(page /ui/, ready when /readyz answers 200; Ctrl-C stops)", flush=True)
    os.execv(sys.executable, cmd)
    return 0  # not reached
