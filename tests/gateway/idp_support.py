"""An external identity provider for the tests: a tiny Starlette app serving a JWKS the test
controls (which keys, up or down, the Cache-Control header, any raw body), counting the
fetches, run on 127.0.0.1 by `sources.demo.services.serve.serving`; keys generated and
tokens signed with joserfc in the test."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sources.demo.services.serve import serving

JWKS_PATH = "/oauth2/v1/keys"


def rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def ec_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": "ES256"})


@dataclass
class IdP:
    """The provider's state, changed by the test while it serves.

    Attributes:
        keys: the keys it publishes (their public halves).
        extra: further JWK dicts published as they are (keys that must be skipped).
        status: the HTTP status it answers the JWKS with (503: down).
        body: a raw body served instead of the keys (a malformed or huge document).
        cache_control: the Cache-Control header of the JWKS, if any.
        fetches: how many times the JWKS was requested.
        authorization: the Authorization header of the last request.
    """

    keys: list = field(default_factory=list)
    extra: list = field(default_factory=list)
    status: int = 200
    body: bytes | None = None
    cache_control: str | None = None
    fetches: int = 0
    authorization: str | None = None

    def app(self) -> Starlette:
        async def jwks(request: Request) -> Response:
            self.fetches += 1
            self.authorization = request.headers.get("authorization")
            headers = {"Cache-Control": self.cache_control} if self.cache_control else {}
            if self.status != 200:
                return JSONResponse({"error": "down"}, self.status)
            if self.body is not None:
                return Response(self.body, 200, headers, media_type="application/json")
            document = {"keys": [k.as_dict(private=False) for k in self.keys] + self.extra}
            return JSONResponse(document, 200, headers)

        return Starlette(routes=[Route(JWKS_PATH, jwks)])


@contextlib.asynccontextmanager
async def running(idp: IdP) -> AsyncIterator[str]:
    """The provider on 127.0.0.1 while the block lasts; yields its JWKS URL."""
    async with serving(idp.app(), lifespan="off") as root:
        yield root + JWKS_PATH


def closed_port_url() -> str:
    """A loopback URL nothing listens on (a port bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{JWKS_PATH}"


def sign(key, claims: dict, **header) -> str:
    """A JWT of `claims`, signed with `key` (its `kid` and alg unless `header` says)."""
    alg = header.pop("alg", key.alg or "RS256")
    head = {"alg": alg, "kid": key.kid, **header}
    head = {k: v for k, v in head.items() if v is not None}
    return jwt.encode(head, claims, key, algorithms=[alg], default_type=None)


def claims(issuer: str, audience: str, client: str, *, ttl: int = 600, now: float | None = None,
           **extra) -> dict:
    """An external access token's claims: `sub`, `client_id`, `scope` unless `extra` says
    otherwise (a value None drops the claim)."""
    moment = int(time.time() if now is None else now)
    values = {"iss": issuer, "aud": audience, "sub": "00u1service", "client_id": client,
              "scope": "ledger:read statistical:read", "iat": moment, "nbf": moment,
              "exp": moment + ttl, **extra}
    return {k: v for k, v in values.items() if v is not None}
