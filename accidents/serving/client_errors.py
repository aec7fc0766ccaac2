"""Client mistakes (4xx) are logged as one INFO line, not as an ERROR with a traceback.

Why: BentoML logs every exception of a request handler with ``logger.error(...,
exc_info=True)``, whatever the answer's status, so each bad request from a client (a
wrong code, an unknown field, a body over the limit) filled the server log with an ERROR
and a pydantic traceback, burying real faults. The status is already in the answer; the
operator needs one line saying which route refused what. Server faults (5xx) keep their
ERROR and traceback.
"""

from __future__ import annotations

import logging
from typing import Any

#: The logger BentoML's request handlers report exceptions to (``log_exception``).
BENTOML_REQUEST_LOGGER = "bentoml._internal.server.http_app"


def client_status(exc: BaseException | None) -> int | None:
    """The 4xx status BentoML answers for ``exc``, or None for a server fault."""
    if exc is None:
        return None
    status = getattr(exc, "status", None)  # request_limits.RequestTooLarge
    if isinstance(status, int) and 400 <= status < 500:
        return status
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return 400
    code = getattr(getattr(exc, "error_code", None), "value", None)  # BentoMLException
    if isinstance(code, int) and 400 <= code < 500:
        return code
    return None


class ClientErrorLogFilter(logging.Filter):
    """Rewrites a handler's exception record for a client error into one INFO line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        status = client_status(exc)
        if status is None:
            return True
        where = record.getMessage().removeprefix("Exception on ")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        record.msg, record.args = "client error %d on %s: %s", (status, where, first)
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.exc_info, record.exc_text = None, None
        return True


def install(logger_name: str = BENTOML_REQUEST_LOGGER) -> Any:
    """Attach the filter once (idempotent: a worker builds the service once, tests may twice)."""
    logger = logging.getLogger(logger_name)
    for existing in logger.filters:
        if isinstance(existing, ClientErrorLogFilter):
            return existing
    added = ClientErrorLogFilter()
    logger.addFilter(added)
    return added
