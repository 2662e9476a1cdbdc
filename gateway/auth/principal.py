"""Who a /graphql request acts as: the bearer token of the built-in authorization server.

`BearerPrincipalResolver.principal(headers)`:

1. the `Authorization: Bearer <token>` header (RFC 6750 §2.1): none, or another scheme, is
   401 with `WWW-Authenticate: Bearer realm="ledgergate"` and no error code;
2. `tokens.verify` against the gateway's key ring (the `KeyRingCache` the token endpoint
   signs with; an unknown `kid` reloads the ring once, at most every `key_refresh` seconds,
   so a key rotated by another process is picked up): any failure is 401 with
   `error="invalid_token"` and the verifier's short reason;
3. the actor (`identities.actor(db, client_id, entity)`), cached per (client_id, entity)
   for at most `actor_ttl` seconds (default 5): disabling the client, deactivating the user,
   taking the client off the entity's allow-list or changing the role's scopes takes effect
   on the tokens already issued within that time, not at their expiry. A refusal is 401
   `invalid_token` with a short reason; the token's `sub` must still be the user the client
   acts as there.

The principal: subject `client_id/username`, the actor's entity, and the token's scopes ∩
the client's ∩ the role's as they are now.

No token ever reaches a log line, a message or a response: the reasons come from a fixed
list (`tokens.REASONS` and `REFUSED` here). Failures are logged at INFO with the reason and,
once the token verified, the client and entity.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from ledger.money import currency_scale
from ledger.store import LedgerDatabase
from resolvers.errors import UNAUTHENTICATED, CodedError
from resolvers.principal import EntityInfo, Principal

from ..secrets import SecretsError
from . import identities, tokens
from .keystore import KeyRingCache

log = logging.getLogger("ledgergate.auth")

REALM = "ledgergate"
DEFAULT_ACTOR_TTL = 5.0
DEFAULT_KEY_REFRESH = 5.0
MAX_CACHED_ACTORS = 10_000
# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")

# What a refused actor tells the caller: short, fixed, naming nothing it does not know.
REFUSED = {
    "unknown_client": "unknown client",
    "client_disabled": "client disabled",
    "not_allowed": "client not allowed for the entity",
    "no_entity": "client not allowed for the entity",
    "several_entities": "client not allowed for the entity",
    "user_deactivated": "user deactivated",
}
USER_CHANGED = "the client no longer acts as the token's user"

NO_TOKEN_MESSAGE = "Authentication required: send an access token as Authorization: Bearer <token>"


class AuthenticationFailed(CodedError):
    """A request that cannot act: `status` and `headers` for the HTTP response
    (`gateway.graphql_http` uses them; a plain CodedError from a resolver is a 401).

    For the audit log (`authentication_refused`): `reason`, a fixed string (`tokens.REASONS`,
    `REFUSED`, `USER_CHANGED`; None for a 503, which refuses no token), and, once the token
    verified, its `client_id` and `entity` (code): claims the signature vouches for.
    """

    def __init__(self, message: str, *, status: int = 401, headers: dict[str, str] | None = None,
                 code: str = UNAUTHENTICATED, reason: str | None = None,
                 client_id: str | None = None, entity: str | None = None):
        super().__init__(message, code)
        self.status = status
        self.headers = headers or {}
        self.reason = reason
        self.client_id = client_id
        self.entity = entity


def _describable(text: str) -> str:
    """RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E only."""
    return "".join(c if 0x20 <= ord(c) <= 0x7E and c not in '"\\' else "?" for c in text)


def no_token(detail: str = "") -> AuthenticationFailed:
    return AuthenticationFailed(
        NO_TOKEN_MESSAGE + detail, headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},
        reason=tokens.NO_TOKEN,
    )


def invalid_token(
    reason: str, client_id: str | None = None, entity: str | None = None
) -> AuthenticationFailed:
    description = _describable(reason)
    return AuthenticationFailed(
        f"Invalid access token: {description}",
        headers={
            "WWW-Authenticate": (
                f'Bearer realm="{REALM}", error="invalid_token", '
                f'error_description="{description}"'
            )
        },
        reason=description, client_id=client_id, entity=entity,
    )


def unavailable(message: str) -> AuthenticationFailed:
    return AuthenticationFailed(message, status=503, headers={"Retry-After": "30"})


def bearer_token(headers) -> str:
    """The token of an `Authorization: Bearer` header, or AuthenticationFailed."""
    authorization = headers.get("authorization")
    if authorization is None:
        raise no_token()
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise no_token(" (the Authorization header does not use the Bearer scheme)")
    token = credentials.strip()
    if not _B64TOKEN.fullmatch(token):
        log.info("bearer token refused: %s", tokens.MALFORMED)
        raise invalid_token(tokens.MALFORMED)
    return token


@dataclass
class _Cached:
    loaded_at: float
    actor: identities.Actor | None
    refused: identities.AccessRefused | None


class BearerPrincipalResolver:
    """Bearer tokens of the built-in authorization server → Principal.

    Args:
        db: the ledger database (the identities live there).
        keys: the key ring the token endpoint signs with (`OAuthEndpoints.keys`), or None
            when there is no secrets key: every request is then 503.
        issuer, audience: what `iss` and `aud` must be.
        actor_ttl: seconds an actor lookup is reused (0: never).
        key_refresh: least seconds between ring reloads for an unknown `kid`.
        clock: epoch seconds now (`time.time`); tokens and the caches are checked against it.
        unavailable_message: the 503 message when `keys` is None.
    """

    def __init__(
        self,
        db: LedgerDatabase,
        keys: KeyRingCache | None,
        *,
        issuer: str,
        audience: str,
        actor_ttl: float = DEFAULT_ACTOR_TTL,
        key_refresh: float = DEFAULT_KEY_REFRESH,
        leeway: int = 30,
        clock: Callable[[], float] = time.time,
        unavailable_message: str = (
            "authentication is not available: the secrets key that encrypts the signing keys "
            "is not configured"
        ),
    ):
        self.db = db
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.actor_ttl = actor_ttl
        self.key_refresh = key_refresh
        self.leeway = leeway
        self.clock = clock
        self.unavailable_message = unavailable_message
        self._actors: dict[tuple[str, str], _Cached] = {}
        self._pending: dict[tuple[str, str], asyncio.Task] = {}
        self._ring_refreshed = float("-inf")
        self._key_set: tuple[object, object] = (None, None)

    async def principal(self, headers) -> Principal:
        token = bearer_token(headers)
        claims = await self._verify(token)
        actor = await self._actor(claims.client_id, claims.entity)
        if actor.username != claims.subject or actor.entity_code != claims.entity:
            log.info("bearer token refused: client %s, entity %s: %s", claims.client_id,
                     claims.entity, USER_CHANGED)
            raise invalid_token(USER_CHANGED, claims.client_id, claims.entity)
        return Principal(
            subject=f"{actor.client_id}/{actor.username}",
            entity=EntityInfo(
                actor.entity_id, actor.entity_code, actor.entity_name, actor.entity_currency,
                currency_scale(actor.entity_currency),
            ),
            scopes=claims.scopes & actor.client_scopes & actor.role_scopes,
            client_id=actor.client_id,
            username=actor.username,
        )

    # --- the token -------------------------------------------------------------------------

    async def _ring(self):
        if self.keys is None:
            raise unavailable(self.unavailable_message)
        try:
            return await self.keys.ring()
        except SecretsError as error:  # messages name no key material
            log.error("signing keys unavailable: %s", error)
            raise unavailable("authentication is not available: the signing keys cannot be read") from None

    def _check(self, token: str, ring) -> tokens.AccessClaims:
        if self._key_set[0] is not ring:  # the public keys, built once per loaded ring
            self._key_set = (ring, ring.public_key_set())
        return tokens.verify(
            token, jwks=self._key_set[1], issuer=self.issuer, audience=self.audience,
            now=self.clock(), leeway=self.leeway,
        )

    async def _verify(self, token: str) -> tokens.AccessClaims:
        ring = await self._ring()
        try:
            try:
                return self._check(token, ring)
            except tokens.UnknownKey:
                now = self.clock()
                if not 0 <= now - self._ring_refreshed < self.key_refresh:
                    self._ring_refreshed = now
                    self.keys.invalidate()  # rotated by another process since the last load?
                    return self._check(token, await self._ring())
                raise
        except tokens.InvalidToken as error:
            log.info("bearer token refused: %s", error)
            raise invalid_token(str(error)) from None

    # --- whom it acts as -------------------------------------------------------------------

    async def _actor(self, client_id: str, entity: str) -> identities.Actor:
        key = (client_id, entity)
        cached = self._actors.get(key)
        if cached is None or not 0 <= self.clock() - cached.loaded_at < self.actor_ttl:
            task = self._pending.get(key)
            if task is None:  # one lookup per key at a time; the others wait for it
                task = asyncio.ensure_future(self._load(key))
                self._pending[key] = task
                task.add_done_callback(lambda _t: self._pending.pop(key, None))
            cached = await asyncio.shield(task)
        if cached.refused is not None:
            log.info("bearer token refused: client %s, entity %s: %s", client_id, entity,
                     cached.refused.reason)
            raise invalid_token(
                REFUSED.get(cached.refused.kind, "access refused"), client_id, entity
            )
        return cached.actor

    async def _load(self, key: tuple[str, str]) -> _Cached:
        try:
            actor, refused = await identities.actor(self.db, *key), None
        except identities.AccessRefused as error:
            actor, refused = None, error
        except SQLAlchemyError as error:
            log.error("whom a token acts as could not be read: %s", type(error).__name__)
            raise unavailable("authentication is temporarily unavailable") from None
        entry = _Cached(self.clock(), actor, refused)
        if self.actor_ttl > 0:
            if len(self._actors) >= MAX_CACHED_ACTORS:
                self._actors.clear()
            self._actors[key] = entry
        return entry


__all__ = ["AuthenticationFailed", "BearerPrincipalResolver", "bearer_token", "invalid_token"]
