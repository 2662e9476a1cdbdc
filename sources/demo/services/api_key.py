"""A shared-secret API key in a request header, as many SaaS REST APIs ask for."""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers


class ApiKey:
    """The machine credentials of a system whose clients send `key` in `header`
    (`sign_in.MachineCredentials`)."""

    def __init__(self, key: str, header: str = "X-API-Key"):
        if not key:
            raise ValueError("an API key must not be empty")
        self.key = key.encode()
        self.header = header

    def accepts(self, headers: Headers) -> bool:
        return hmac.compare_digest(headers.get(self.header, "").encode("latin-1"), self.key)

    def challenge(self, headers: Headers) -> None:
        return None  # no standard scheme names an API key header
