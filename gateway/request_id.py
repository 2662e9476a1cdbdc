"""The request id: one per HTTP request to /graphql and /oauth/token, in `X-Request-Id`.

A caller's own `X-Request-Id` is kept when well-formed (1 to 64 of `A-Z a-z 0-9 . _ : -`),
so its logs and the gateway's audit rows (`ledger.audit`) can be joined; otherwise the
gateway makes one (a random UUID, hex). The bound is short on purpose: an access token
(a JWT runs to hundreds of characters) sent there by mistake is replaced, not recorded,
and the id leaves little room for anything but an id.
"""

from __future__ import annotations

import re
import uuid

HEADER = "X-Request-Id"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:\-]{1,64}")


def request_id(headers) -> str:
    given = headers.get("x-request-id")
    if given is not None and _WELL_FORMED.fullmatch(given):
        return given
    return uuid.uuid4().hex
