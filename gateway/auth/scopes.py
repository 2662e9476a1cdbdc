"""The scope vocabulary and the grant rule.

A token's scopes are what was requested ∩ what the integration client may ask for ∩ what the
role of the web-services user it acts as grants. A request for anything outside that is an
`invalid_scope` error naming each refused scope and why: scopes are never silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from resolvers.scopes import (  # one vocabulary: the resolvers enforce what tokens carry
    AUDIT_READ,
    BASE_SCOPES,
    DOCUMENTS_READ,
    DOCUMENTS_WRITE,
    LEDGER_POST,
    LEDGER_READ,
    STATISTICAL_READ,
    source_read_scope,
    source_sensitive_scope,
)

# The names the schema declares live with the resolvers (`resolvers.scopes`); one vocabulary.
from sources.config import is_graphql_name

__all__ = ["AUDIT_READ", "BASE_SCOPES", "DOCUMENTS_READ", "DOCUMENTS_WRITE", "LEDGER_POST",
           "LEDGER_READ", "STATISTICAL_READ"]

# A source system's name is a GraphQL name, as in sources.config: letters, digits and _,
# not starting with a digit or __.
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), tokens separated by one SP.
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
# A refused token is named in messages; bound what an attacker can put into a log line.
_SHOWN = 80


class InvalidScope(ValueError):
    """The OAuth `invalid_scope` error.

    Attributes:
        refused: each refused scope and why, sorted by scope (empty when the request was
            malformed or when client and role share no scope at all).
    """

    error = "invalid_scope"

    def __init__(self, message: str, refused: Mapping[str, str] | None = None):
        super().__init__(message)
        self.refused: Mapping[str, str] = MappingProxyType(dict(sorted((refused or {}).items())))


def _shown(token: str) -> str:
    return repr(token if len(token) <= _SHOWN else token[:_SHOWN] + "…")


def is_system_name(name: object) -> bool:
    return is_graphql_name(name)  # as the sources config names systems


def known_scopes(systems: Iterable[str]) -> frozenset[str]:
    """Every scope there is, given the configured source systems' names."""
    if isinstance(systems, str):
        raise TypeError("systems must be an iterable of names, not one str")
    per_system = {s for name in systems for s in (source_read_scope(name), source_sensitive_scope(name))}
    return BASE_SCOPES | per_system


def is_scope_token(token: object) -> bool:
    """Whether `token` is one scope-token in RFC 6749 §3.3 syntax."""
    return isinstance(token, str) and bool(_SCOPE_TOKEN.fullmatch(token))


def parse_scope(text: str | None) -> frozenset[str]:
    """The scopes of a space-separated `scope` value (RFC 6749 §3.3).

    None and "" are no scopes. Raises ValueError naming the first bad token: an empty one
    (leading, trailing or doubled spaces) or one with characters outside %x21 / %x23-5B /
    %x5D-7E (controls, non-ASCII, `"` and backslash).
    """
    if text is None:
        return frozenset()
    if not isinstance(text, str):
        raise TypeError("scope must be a str")
    if text == "":
        return frozenset()
    tokens = text.split(" ")
    for token in tokens:
        if token == "":
            raise ValueError("malformed scope: empty scope token (scopes are separated by one space)")
        if not _SCOPE_TOKEN.fullmatch(token):
            raise ValueError(f"malformed scope: {_shown(token)} has characters a scope may not contain")
    return frozenset(tokens)


_SOURCE_SCOPE = re.compile(r"source:([^:]*):(read|sensitive)")
KNOWN_SHAPES = (
    ", ".join(sorted(BASE_SCOPES)) + ", source:<system>:read and source:<system>:sensitive"
)


def is_known_shape(scope: object) -> bool:
    """Whether `scope` is a ledgergate scope for some configuration: a base scope, or
    `source:<system>:read|sensitive` for any valid system name (the systems configured when
    the token is asked for need not be known when a role or a client is set up)."""
    if scope in BASE_SCOPES:
        return True
    match = _SOURCE_SCOPE.fullmatch(scope) if isinstance(scope, str) else None
    return match is not None and is_system_name(match.group(1))


def check_known_shape(scopes: Iterable[str]) -> frozenset[str]:
    """`scopes` as a set, each one of ledgergate's shapes; else ValueError naming every
    other one (sorted; each cut to a bounded length)."""
    if isinstance(scopes, str):
        raise TypeError("scopes must be an iterable of scope tokens, not one str")
    given = frozenset(scopes)
    unknown = sorted((s for s in given if not is_known_shape(s)), key=str)
    if unknown:
        listed = ", ".join(_shown(str(s)) for s in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise ValueError(f"unknown scope{plural} {listed} (ledgergate's scopes are {KNOWN_SHAPES})")
    return given


def format_scope(scopes: Iterable[str]) -> str:
    """The space-separated, sorted `scope` value of a set of scope tokens."""
    if isinstance(scopes, str):
        raise TypeError("scopes must be an iterable of scope tokens, not one str")
    tokens = sorted(set(scopes))
    for token in tokens:
        if not is_scope_token(token):
            raise ValueError(f"malformed scope: {_shown(str(token))} is not a scope token")
    return " ".join(tokens)


def _requested(requested: str | Iterable[str] | None) -> frozenset[str]:
    try:
        if requested is None or isinstance(requested, str):
            return parse_scope(requested)
        scopes = frozenset(requested)
        for token in scopes:
            if not is_scope_token(token):
                shown = _shown(token) if isinstance(token, str) else type(token).__name__
                raise ValueError(f"malformed scope: {shown} is not a scope token")
        return scopes
    except (ValueError, TypeError) as error:
        raise InvalidScope(str(error)) from None


def grant(
    requested: str | Iterable[str] | None,
    client_allowed: Iterable[str],
    role_scopes: Iterable[str],
    known: Iterable[str],
    *,
    client: str,
    role: str,
) -> frozenset[str]:
    """The scopes a token gets: requested ∩ client_allowed ∩ role_scopes (∩ known).

    Args:
        requested: the request's `scope` (the raw form value or a set of tokens); None or
            empty asks for everything the client and the role both allow.
        client_allowed: the scopes the integration client may ask for.
        role_scopes: the scopes the role of the web-services user grants.
        known: every scope there is (`known_scopes`); others are never granted.
        client, role: names for the error message.

    Raises:
        InvalidScope: a requested scope is unknown, not allowed for the client or not
            granted by the role (each named with every reason that applies), the request is
            malformed, or the request is empty and client and role share no known scope.
    """
    wanted = _requested(requested)
    known_set = frozenset(known)
    allowed = frozenset(client_allowed)
    granted = frozenset(role_scopes)
    if not wanted:
        everything = known_set & allowed & granted
        if not everything:
            raise InvalidScope(
                f"invalid_scope: client {client!r} and role {role!r} share no scope to grant"
            )
        return everything
    refused: dict[str, str] = {}
    for scope in wanted:
        if scope not in known_set:
            refused[scope] = "unknown scope"
            continue
        why = []
        if scope not in allowed:
            why.append(f"not allowed for client {client!r}")
        if scope not in granted:
            why.append(f"not granted by role {role!r}")
        if why:
            refused[scope] = "; ".join(why)
    if refused:
        listed = ", ".join(f"{_shown(s)} ({why})" for s, why in sorted(refused.items()))
        raise InvalidScope(f"invalid_scope: refused {listed}", refused)
    return wanted
