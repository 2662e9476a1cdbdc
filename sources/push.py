"""Signed pushes from source systems (webhooks): how a sender signs one and how ledgergate
checks it, before it reads a byte of what the push says.

The signature travels in the `Ledgergate-Signature` header as `t=<unix seconds>,v1=<hex>`,
where the hex is HMAC-SHA256 over `"<t>." + raw body` with the system's push secret (the
scheme Stripe's webhooks use). The timestamp must lie within `tolerance` seconds of now,
so a captured push cannot be replayed later; within the window, the sender's event id
makes a replay harmless (the receiver stores what each event did).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

HEADER = "Ledgergate-Signature"
DEFAULT_TOLERANCE = 300
DEFAULT_MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class PushSettings:
    """`[systems.NAME.push]`: `secret` names the key of the system's credentials that holds
    the push secret; pushes older or newer than `tolerance` seconds, or over `max_bytes`,
    are refused."""

    secret: str = "push_secret"
    tolerance: int = DEFAULT_TOLERANCE
    max_bytes: int = DEFAULT_MAX_BYTES


class PushRefused(Exception):
    """A push that is not accepted: `status` is the HTTP answer, `code` its short name."""

    def __init__(self, status: int, code: str, message: str):
        self.status, self.code = status, code
        super().__init__(message)


def _mac(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, timestamp: int | None = None) -> str:
    """The header value a sender puts on `body`."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={_mac(secret, moment, body)}"


def verify(secret: bytes, header: str | None, body: bytes, *, tolerance: int = DEFAULT_TOLERANCE,
           now: float | None = None) -> int:
    """The push's timestamp, if `header` signs `body` with `secret` within the window;
    else `PushRefused` (401) saying which check failed, never what was expected."""
    if not header:
        raise PushRefused(401, "unsigned", f"the push carries no {HEADER} header")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    stamps = parts.get("t", [])
    if len(stamps) != 1 or not stamps[0].isascii() or not stamps[0].isdigit() or len(stamps[0]) > 12:
        raise PushRefused(401, "bad_signature", f"{HEADER} needs one t=<unix seconds>")
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise PushRefused(401, "stale", f"the push's timestamp is more than {tolerance} s from now")
    expected = _mac(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in parts.get("v1", [])):
        raise PushRefused(401, "bad_signature", "the push's signature does not match its body")
    return timestamp
