"""OAuth2 client credentials (RFC 6749 §4.4) for one client, with opaque bearer tokens.

``POST /oauth/token`` with ``grant_type=client_credentials`` and the client authenticated by
HTTP Basic (``client_secret_basic``, authlib's default) or by ``client_id`` and
``client_secret`` in the form (``client_secret_post``) answers
``{"access_token": ..., "token_type": "Bearer", "expires_in": seconds}``.
`BearerToken` is then what ``Authorization: Bearer <token>`` must carry on every other path
(`sign_in.SignInMiddleware`).
Tokens live in memory: they are lost on restart, as a demo's should be.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from collections.abc import Callable
from urllib.parse import parse_qs, unquote_plus

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from .routes import JSONResponse

TOKEN_PATH = "/oauth/token"


def _oauth_error(status: int, code: str, description: str) -> Response:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="oauth"'
    return JSONResponse({"error": code, "error_description": description}, status, headers=headers)


class ClientCredentials:
    """The one client allowed to get tokens, and the tokens it holds."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        ttl: int = 3600,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.client_id = client_id
        self._secret = client_secret.encode()
        self.ttl = ttl
        self.clock = clock
        self._tokens: dict[str, float] = {}  # token -> expiry on `clock`

    def authenticate(self, client_id: str, client_secret: str) -> bool:
        # `&`, not `and`: both are compared, so timing does not tell which one was wrong.
        known_id = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        return known_id & hmac.compare_digest(client_secret.encode(), self._secret)

    def issue(self) -> str:
        now = self.clock()
        self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
        token = secrets.token_urlsafe(32)
        self._tokens[token] = now + self.ttl
        return token

    def valid(self, token: str) -> bool:
        expiry = self._tokens.get(token)
        return expiry is not None and expiry > self.clock()

    async def token_endpoint(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}
        client = _basic_credentials(request.headers.get("authorization", ""))
        if client is None and "client_id" in form:
            client = (form["client_id"], form.get("client_secret", ""))
        if client is None:
            return _oauth_error(401, "invalid_client", "client authentication is required")
        if not self.authenticate(*client):
            return _oauth_error(401, "invalid_client", "unknown client or wrong secret")
        grant = form.get("grant_type")
        if grant is None:
            return _oauth_error(400, "invalid_request", "grant_type is required")
        if grant != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", f"{grant!r} is not supported")
        body = {"access_token": self.issue(), "token_type": "Bearer", "expires_in": self.ttl}
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, client_secret = decoded.partition(":")
    if not sep:
        return None
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(client_secret)


class BearerToken:
    """The machine credentials of a system whose clients send a token of `credentials`
    (`sign_in.MachineCredentials`)."""

    def __init__(self, credentials: ClientCredentials, *, realm: str = "demo"):
        self.credentials = credentials
        self.realm = realm

    def accepts(self, headers: Headers) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and self.credentials.valid(token.strip())

    def challenge(self, headers: Headers) -> str:
        scheme, _, _ = headers.get("authorization", "").partition(" ")
        invalid = ', error="invalid_token"' if scheme.lower() == "bearer" else ""
        return f'Bearer realm="{self.realm}"{invalid}'
