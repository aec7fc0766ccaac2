"""``bentoml serve`` with a Prometheus metrics directory of the server's own.

    .venv/bin/python -m ops.bento_serve <tag> --host 127.0.0.1 --port 3000 [other bentoml serve options]

Why: BentoML 1.4 keeps its workers' Prometheus counters in a multiprocess directory fixed to
``$BENTOML_HOME/prometheus_multiproc_dir`` (``BentoMLContainer.prometheus_multiproc_dir``), and
every ``bentoml serve`` *deletes and recreates* that directory when it starts
(``bentoml.serving.ensure_prometheus_dir``). A second server started on the same store (another
version on another port, a new server started before the old one stopped, a test's extra server)
therefore unlinks the first server's counter files: the first server keeps answering, its
workers keep incrementing counters in files nobody reads any more, and its ``/metrics`` shows
the other server's counters, frozen once that one stops. Found when the request counter of the
test suite's shared server stopped growing after another server of the same store had started
(docs/serving.md, "Metrics").

This launcher gives each server the directory ``$BENTOML_HOME/prometheus_multiproc/<port>``
(outside the one a plain ``bentoml serve`` wipes) and then runs BentoML's own ``serve`` command
in this process, unchanged otherwise. A stale directory of a server that died on the same port
is cleaned by BentoML as before; the port itself is free, so no live server uses it. The
override is the same container setting BentoML's own pytest plugin uses
(``bentoml/testing/pytest/plugin.py``). One server per container or per ``BENTOML_HOME``
needs nothing of this: there plain ``bentoml serve`` is fine.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEFAULT_PORT = 3000  # bentoml serve's default
METRICS_DIR = "prometheus_multiproc"


def _port(argv: list[str]) -> int:
    """The port ``bentoml serve argv`` listens on: ``--port``/``-p``, else ``$BENTOML_PORT``, else 3000."""
    for i, arg in enumerate(argv):
        if arg in ("--port", "-p") and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--port="):
            return int(arg.split("=", 1)[1])
    return int(os.environ.get("BENTOML_PORT") or DEFAULT_PORT)


def metrics_dir(home: str | Path, port: int) -> Path:
    """The Prometheus multiprocess directory of the server listening on ``port``."""
    return Path(home) / METRICS_DIR / str(port)


def main(argv: list[str] | None = None) -> None:
    """Point BentoML's metrics directory at this server's own, then run ``bentoml serve argv``."""
    args = list(sys.argv[1:] if argv is None else argv)
    from bentoml._internal.configuration.containers import BentoMLContainer
    from bentoml_cli.cli import cli

    directory = metrics_dir(BentoMLContainer.bentoml_home.get(), _port(args))
    BentoMLContainer.prometheus_multiproc_dir.set(str(directory))
    cli(["serve", *args], prog_name="bentoml")


if __name__ == "__main__":
    main()
