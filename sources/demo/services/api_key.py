"""A shared-secret API key in a request header, as many SaaS REST APIs ask for."""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from .routes import error


class ApiKeyMiddleware:
    """Answers 401 to every HTTP request whose `header` does not carry `key`."""

    def __init__(self, app: ASGIApp, *, key: str, header: str = "X-API-Key"):
        self.app = app
        self.key = key.encode()
        self.header = header
        self._name = header.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(self._name, b"")
            if not hmac.compare_digest(given, self.key):
                response = error(401, "unauthorized", f"missing or wrong {self.header} header")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
