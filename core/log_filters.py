"""Logging filters for the console handler (``config.settings.LOGGING``)."""

from __future__ import annotations

import logging


class ClientErrorsOnOneLine(logging.Filter):
    """A refused request (4xx: a missing page, a forbidden one) is the caller's mistake,
    not the app's: keep its one log line and drop the traceback Django attaches."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
