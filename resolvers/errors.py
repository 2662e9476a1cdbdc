"""Error codes: every error a client sees carries `extensions.code`.

Domain errors keep their message; anything unexpected is masked as INTERNAL and logged.
"""

from __future__ import annotations

import logging

from graphql import GraphQLError

from ledger.errors import Conflict, InvalidEntry, NotFound

log = logging.getLogger("ledgergate.errors")

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
BAD_USER_INPUT = "BAD_USER_INPUT"
NOT_FOUND = "NOT_FOUND"
CONFLICT = "CONFLICT"
LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
INTERNAL = "INTERNAL"

MASKED_MESSAGE = "Internal server error"


class CodedError(Exception):
    """An error meant for the client, with its code in `extensions` (graphql-core copies it)."""

    def __init__(self, message: str, code: str, **extensions):
        super().__init__(message)
        self.extensions = {"code": code, **extensions}


def user_input_error(message: str, **extensions) -> CodedError:
    return CodedError(message, BAD_USER_INPUT, **extensions)


def _ledger_extensions(error: Exception) -> dict | None:
    if isinstance(error, InvalidEntry):
        return {
            "code": BAD_USER_INPUT,
            "violations": [{"path": v.path, "message": v.message} for v in error.violations],
        }
    if isinstance(error, NotFound):
        return {"code": NOT_FOUND}
    if isinstance(error, Conflict):
        return {"code": CONFLICT}
    return None


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
        formatted["extensions"] = dict(extensions)
        return formatted
    log.error("unexpected error at %s", error.path, exc_info=original)
    formatted["message"] = MASKED_MESSAGE
    formatted["extensions"] = {"code": INTERNAL}
    return formatted
