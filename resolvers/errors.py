"""Error codes: every error a client sees carries `extensions.code`.

Domain errors keep their message; anything unexpected is masked as INTERNAL and logged.
"""

from __future__ import annotations

import logging

from graphql import GraphQLError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ledger.errors import Conflict, NotFound, Rejected

log = logging.getLogger("ledgergate.errors")

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
BAD_USER_INPUT = "BAD_USER_INPUT"
NOT_FOUND = "NOT_FOUND"
CONFLICT = "CONFLICT"
LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
RATE_LIMITED = "RATE_LIMITED"  # HTTP 429, set by the gateway before a request executes
INTERNAL = "INTERNAL"
UNAVAILABLE = "UNAVAILABLE"  # the database (its pool, this request's share) is busy: retry

MASKED_MESSAGE = "Internal server error"


class CodedError(Exception):
    """An error meant for the client, with its code in `extensions` (graphql-core copies it)."""

    def __init__(self, message: str, code: str, **extensions):
        super().__init__(message)
        self.extensions = {"code": code, **extensions}


def user_input_error(message: str, **extensions) -> CodedError:
    return CodedError(message, BAD_USER_INPUT, **extensions)


# What each limit measures, for the message of LIMIT_EXCEEDED (see `resolvers.limits`).
LIMIT_MESSAGES = {
    "body_bytes": "The request body has {measured} bytes; the limit is {maximum}",
    "tokens": "The query has {measured} tokens; the limit is {maximum}",
    "comments": "The query has {measured} comments; the limit is {maximum}",
    "depth": "The query is {measured} fields deep; the limit is {maximum}",
    "aliases": "The query has {measured} aliases; the limit is {maximum}",
    "page_size": "The query asks for a page of {measured} items (first); the limit is {maximum}",
    "cost": "The query's estimated cost is {measured}; the limit is {maximum}",
}
# Larger measures (a fragment spread twice in each of many nested fragments doubles its
# cost each time) are reported as "more than" this: JSON numbers are safe up to it.
MAX_REPORTED = 2**53 - 1


def limit_exceeded(name: str, measured: int, maximum: int) -> CodedError:
    """LIMIT_EXCEEDED, with `extensions.limit = {name, measured, maximum}` and both in
    the message."""
    shown: int | str = measured
    if measured > MAX_REPORTED:
        measured, shown = MAX_REPORTED, f"more than {MAX_REPORTED}"
    message = LIMIT_MESSAGES[name].format(measured=shown, maximum=maximum)
    limit = {"name": name, "measured": measured, "maximum": maximum}
    return CodedError(message, LIMIT_EXCEEDED, limit=limit)


BUSY_MESSAGE = "The database is busy; retry in a few seconds"


RETRY_AFTER = 2  # seconds a client waits before retrying UNAVAILABLE


def unavailable() -> CodedError:
    return CodedError(BUSY_MESSAGE, UNAVAILABLE, retryAfter=RETRY_AFTER)


def _ledger_extensions(error: Exception) -> dict | None:
    if isinstance(error, PoolTimeout):  # no connection within the pool timeout
        return {"code": UNAVAILABLE, "retryAfter": RETRY_AFTER}
    if isinstance(error, Rejected):
        return {
            "code": BAD_USER_INPUT,
            "violations": [{"path": v.path, "message": v.message} for v in error.violations],
        }
    if isinstance(error, NotFound):
        return {"code": NOT_FOUND}
    if isinstance(error, Conflict):
        return {"code": CONFLICT}
    return None


def error_code(error: BaseException) -> str:
    """The `extensions.code` a resolver's exception comes out with (INTERNAL: masked)."""
    extensions = _ledger_extensions(error) or getattr(error, "extensions", None)  # type: ignore[arg-type]
    if isinstance(extensions, dict) and isinstance(extensions.get("code"), str):
        return extensions["code"]
    return INTERNAL


def format_error(error: GraphQLError) -> dict:
    """The JSON form of one error, with a code; unexpected failures are masked."""
    formatted = error.formatted
    if isinstance(error.extensions, dict) and "code" in error.extensions:
        return formatted
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        if isinstance(original.extensions, dict) and "code" in original.extensions:
            break
        original = original.original_error
    if isinstance(original, GraphQLError) and "code" in (original.extensions or {}):
        formatted["extensions"] = dict(original.extensions)
        return formatted
    if original is None or isinstance(original, GraphQLError):
        # Syntax, validation and variable-coercion errors: the request itself is wrong.
        # An error raised during execution with no cause is graphql-core's own (a null
        # in a non-null field): our fault, not the caller's.
        code = INTERNAL if error.path is not None else BAD_USER_INPUT
        formatted["extensions"] = {**formatted.get("extensions", {}), "code": code}
        return formatted
    extensions = _ledger_extensions(original) or getattr(original, "extensions", None)
    if isinstance(extensions, dict) and "code" in extensions:
        if isinstance(original, PoolTimeout):  # the driver's text names pool internals
            formatted["message"] = BUSY_MESSAGE
        formatted["extensions"] = dict(extensions)
        return formatted
    log.error("unexpected error at %s", error.path, exc_info=original)
    formatted["message"] = MASKED_MESSAGE
    formatted["extensions"] = {"code": INTERNAL}
    return formatted
