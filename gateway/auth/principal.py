"""Who a /graphql request acts as: a bearer token of a trusted issuer — the built-in
authorization server or a configured external identity provider (`gateway.auth.issuers`).

`BearerPrincipalResolver.principal(headers)`:

1. the `Authorization: Bearer <token>` header (RFC 6750 §2.1): none, or another scheme, is
   401 with `WWW-Authenticate: Bearer realm="ledgergate"` and no error code;
2. the issuer: with one trusted issuer, that one; with several, the one whose issuer is the
   token's `iss`, read from the unverified payload only to choose (`verify` then checks it
   exactly); none is 401 "wrong issuer";
3. `tokens.verify` with that issuer's keys and rules. An unknown `kid` reloads its keys
   (the built-in key ring, at most every 5 s, for a key rotated by another process; a
   provider's JWKS, at most every `jwks_refresh_interval`) and verifies once more. Any
   failure is 401 with `error="invalid_token"` and the verifier's short reason; keys that
   cannot be had (no secrets key; a provider never reached) are 503 with Retry-After;
4. the client: the token's own (built-in), or the ledgergate client the issuer's `clients`
   table maps the provider's client id to (else 401 "unknown client");
5. the actor (`identities.actor(db, client_id, entity)`; entity None: the one the client is
   allowed for), cached per (client_id, entity) for at most `actor_ttl` seconds (default 5):
   disabling the client, deactivating the user, taking the client off the entity's
   allow-list or changing the role's scopes takes effect on the tokens already issued within
   that time, not at their expiry. A refusal is 401 `invalid_token` with a short reason; a
   built-in token's `sub` must still be the user the client acts as there.

The principal: the actor's entity, client and user, and the token's scopes ∩ the client's ∩
the role's as they are now; its subject is `client_id/username` for a built-in token and
`<issuer>#<sub>` for an external one (the provider's subject, for audit).

No token ever reaches a log line, a message or a response: the reasons come from a fixed
list (`tokens.REASONS` and `REFUSED` here). Failures are logged at INFO with the reason and,
once the token verified, the client and entity.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from joserfc.jwk import KeySet
from sqlalchemy.exc import SQLAlchemyError

from ledger.money import currency_scale
from ledger.store import LedgerDatabase
from resolvers.errors import UNAUTHENTICATED, CodedError
from resolvers.principal import EntityInfo, Principal

from . import identities, tokens
from .issuers import KeysUnavailable, TrustedIssuer

log = logging.getLogger("ledgergate.auth")

REALM = "ledgergate"
DEFAULT_ACTOR_TTL = 5.0
MAX_CACHED_ACTORS = 10_000
MAX_VERIFIED_TOKENS = 10_000
# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")

# What a refused actor tells the caller: short, fixed, naming nothing it does not know.
REFUSED = {
    "unknown_client": "unknown client",
    "client_disabled": "client disabled",
    "not_allowed": "client not allowed for the entity",
    # Only for tokens that name no entity (an external issuer without an entity claim):
    "no_entity": "client not allowed for any entity",
    "several_entities": "client allowed for several entities, and the token names none",
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


def unavailable(message: str, retry_after: int = 30) -> AuthenticationFailed:
    return AuthenticationFailed(message, status=503, headers={"Retry-After": str(retry_after)})


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
    """Bearer tokens of the trusted issuers → Principal.

    Args:
        db: the ledger database (the identities live there).
        issuers: the issuers whose tokens are accepted (`issuers.builtin_issuer`,
            `issuers.external_issuer`), of distinct `iss`; at least one.
        actor_ttl: seconds an actor lookup is reused (0: never).
        clock: epoch seconds now (`time.time`); tokens, the caches and the key reloads are
            checked against it.
    """

    def __init__(
        self,
        db: LedgerDatabase,
        issuers: Iterable[TrustedIssuer],
        *,
        actor_ttl: float = DEFAULT_ACTOR_TTL,
        clock: Callable[[], float] = time.time,
    ):
        self.db = db
        issuers = list(issuers)
        self.issuers = {trusted.issuer: trusted for trusted in issuers}
        if not self.issuers or len(self.issuers) != len(issuers):
            raise ValueError("bearer tokens need at least one trusted issuer, each of its own iss")
        # One issuer: no need to read `iss` before verifying (the built-in path stays as
        # cheap as it was); verify still checks it.
        self._only = next(iter(self.issuers.values())) if len(self.issuers) == 1 else None
        self.actor_ttl = actor_ttl
        self.clock = clock
        self._actors: dict[tuple[str, str | None], _Cached] = {}
        self._pending: dict[tuple[str, str | None], asyncio.Task] = {}
        # Tokens whose signature and claims verified, with the key set they verified against.
        # A client sends the same token for up to its lifetime; checking the RSA signature
        # each time is most of what authentication costs (bench.auth). A hit is used only
        # while the issuer's key set is the very same object (a reloaded ring or JWKS, every
        # 30 s at most, or after a key is retired, verifies again) and the token has not
        # expired; nbf and iat were checked when it verified and only move further into
        # the past. Whom it acts as is checked on every request all the same (`_actor`).
        self._verified: dict[str, tuple[KeySet, tokens.AccessClaims, int]] = {}

    async def principal(self, headers) -> Principal:
        token = bearer_token(headers)
        trusted, claims = await self._verify(token)
        client_id = trusted.client_id(claims.client_id)
        if client_id is None:
            log.info("bearer token refused: issuer %s: client %s is not one of its clients",
                     trusted.issuer, claims.client_id)
            raise invalid_token(REFUSED["unknown_client"])
        actor = await self._actor(client_id, claims.entity)
        if trusted.subject_is_user:
            if actor.username != claims.subject or actor.entity_code != claims.entity:
                log.info("bearer token refused: client %s, entity %s: %s", client_id,
                         claims.entity, USER_CHANGED)
                raise invalid_token(USER_CHANGED, client_id, claims.entity)
            subject = f"{actor.client_id}/{actor.username}"
        else:
            subject = f"{trusted.issuer}#{claims.subject}"
        return Principal(
            subject=subject,
            entity=EntityInfo(
                actor.entity_id, actor.entity_code, actor.entity_name, actor.entity_currency,
                currency_scale(actor.entity_currency),
            ),
            scopes=claims.scopes & actor.client_scopes & actor.role_scopes,
            client_id=actor.client_id,
            username=actor.username,
        )

    # --- the token -------------------------------------------------------------------------

    def _issuer_of(self, token: str) -> TrustedIssuer:
        if self._only is not None:
            return self._only
        trusted = self.issuers.get(tokens.unverified_issuer(token))
        if trusted is None:  # the token's `iss` is not logged: it is the caller's text
            raise tokens.InvalidToken(tokens.WRONG_ISSUER)
        return trusted

    async def _verify(self, token: str) -> tuple[TrustedIssuer, tokens.AccessClaims]:
        try:
            trusted = self._issuer_of(token)
            now = self.clock()
            try:
                jwks = await trusted.keys.key_set(now)
                hit = self._verified.get(token)
                if hit is not None and hit[0] is jwks and hit[2] > math.floor(now) - trusted.leeway:
                    return trusted, hit[1]
                try:
                    claims = trusted.verify(token, jwks, now)
                except tokens.UnknownKey:
                    fresh = await trusted.keys.refreshed(now)  # rotated since the last load?
                    if fresh is None:
                        raise
                    jwks, claims = fresh, trusted.verify(token, fresh, now)
                if len(self._verified) >= MAX_VERIFIED_TOKENS:
                    self._verified.clear()
                self._verified[token] = (jwks, claims, math.floor(claims.expires_at.timestamp()))
                return trusted, claims
            except KeysUnavailable as error:
                raise unavailable(error.message, error.retry_after) from None
        except tokens.InvalidToken as error:
            log.info("bearer token refused: %s", error)
            raise invalid_token(str(error)) from None

    # --- whom it acts as -------------------------------------------------------------------

    async def _actor(self, client_id: str, entity: str | None) -> identities.Actor:
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

    async def _load(self, key: tuple[str, str | None]) -> _Cached:
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
