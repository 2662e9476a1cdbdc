"""Access-log lines without query strings.

uvicorn's access log writes each request's full path, query string included; a token sent
as `?access_token=…` (refused, but sent all the same), or any other secret a client puts
in a URL, would land in the log. The query is replaced by `?…`, on every route; the path,
method and status stay.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"


class RedactQueryFilter(logging.Filter):
    """Rewrites uvicorn's access record (`client, method, full_path, version, status`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, mark, _query = args[2].partition("?")
            if mark:
                record.args = (*args[:2], path + "?…", *args[3:])
        return True


def redact_access_log() -> None:
    """Install the filter on uvicorn's access logger (once, however often it is called)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactQueryFilter) for f in logger.filters):
        logger.addFilter(RedactQueryFilter())
