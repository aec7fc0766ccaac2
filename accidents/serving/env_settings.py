"""The service's whole-number settings, read from the environment with one clear error.

Why one place: each setting (``$ACCIDENTS_SCORER_THREADS``, ``$ACCIDENTS_KEEPALIVE_REQUESTS``)
is read when the service starts, where a bare ``int()`` traceback would not say which
variable was wrong or what it should hold.
"""

from __future__ import annotations

import os


def whole_number_setting(name: str, default: int, minimum: int, unit: str, note: str = "") -> int:
    """``$name`` as a whole number >= ``minimum``, else ``default`` when unset or blank.

    ``unit`` and ``note`` complete the error, e.g. "a whole number of threads >= 1".
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise ValueError(f"${name} must be a whole number of {unit} >= {minimum}{note}, got {raw!r}")
    return int(raw)
