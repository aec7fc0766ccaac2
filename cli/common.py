"""Options shared by several commands (``--config``, ``--set``), in one place.

Why a module of its own: the commands used to import these from ``cli.train``, which made
every command depend on the training command and let import cycles form in ``cli/``.
"""

from __future__ import annotations

import argparse
from typing import Any

from accidents.config import DEFAULT_PROFILE, list_profiles, parse_set_option


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """``--config``: a profile name (configs/<name>.yaml) or a path to a YAML file."""
    parser.add_argument("--config", default=DEFAULT_PROFILE, metavar="PROFILE|FILE",
                        help=f"config profile name or YAML path (default: {DEFAULT_PROFILE}; "
                             f"shipped: {', '.join(list_profiles())})")


def add_set_argument(parser: argparse.ArgumentParser, example: str) -> None:
    """``--set KEY=VALUE`` (repeatable): a profile value overridden for this run."""
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help=f"override a profile value, e.g. {example} (repeatable; validated "
                             "like the file)")


def overrides_of(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--set`` options as ``{dotted key: value}``."""
    return dict(parse_set_option(o) for o in getattr(args, "overrides", []) or [])
