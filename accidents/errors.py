"""User-facing errors. run.py prints them as one clear message (no traceback).

Raise these for anything the user can fix (bad file, bad config, missing data); let real
bugs surface as ordinary exceptions.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix; its message says what, where and what was expected."""


class ConfigError(UserError):
    """A bad config profile (unknown profile, unknown or ill-typed key)."""


class DataError(UserError):
    """Bad or missing input data (file, line, column, value)."""
