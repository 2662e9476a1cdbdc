"""The issuers whose access tokens /graphql accepts: the built-in authorization server and
the configured external identity providers, as one kind of thing.

A `TrustedIssuer` is a key source (`RingKeys`: the gateway's own key ring; `JwksCache`: a
provider's JWKS), the parameters `tokens.verify` checks (issuer, audience, algorithms,
leeway, claim rules), and how the verified claims name a client:

- the built-in server's tokens carry the ledgergate client id, the entity and, as `sub`,
  the web-services user the client acts as (which must still be the one it acts as);
- an external provider's tokens carry *its* client id (`client_id` or `azp`), mapped by the
  issuer's `clients` table to a ledgergate client: only the clients listed there, so that
  trusting a provider does not let it speak for every integration. The entity is the
  issuer's `entity_claim`, or else the one entity the client is allowed for. Its `sub` (a
  user or service account at the provider) is not a ledgergate user: it is kept for audit
  in `Principal.subject` as `<issuer>#<sub>` (an issuer has no fragment, so `#` separates),
  and the web-services user is the one the allow-list names for the client and entity.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from joserfc.jwk import KeySet

from ..config import ExternalIssuer
from ..secrets import SecretsError
from . import tokens
from .jwks import JwksCache, JwksUnavailable
from .keys import ALGORITHM
from .keystore import KeyRingCache

log = logging.getLogger("ledgergate.auth")

DEFAULT_KEY_REFRESH = 5.0


class KeysUnavailable(Exception):
    """An issuer's keys cannot be had now (→ 503).

    Attributes:
        message: for the caller: says what is missing, never a key or a URL's credentials.
        retry_after: seconds the caller should wait.
    """

    def __init__(self, message: str, retry_after: int = 30):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class KeySource(Protocol):
    """Where an issuer's public keys come from; `now` is the resolver's clock (seconds)."""

    async def key_set(self, now: float) -> KeySet:
        """The keys to verify with, or KeysUnavailable."""

    async def refreshed(self, now: float) -> KeySet | None:
        """After a token of an unknown `kid`: keys loaded anew, or None (rate-limited)."""


class RingKeys:
    """The built-in server's public keys: its key ring (`KeyRingCache`), reloaded for an
    unknown `kid` at most every `refresh_interval` seconds, so a key rotated by another
    process is picked up."""

    def __init__(self, ring: KeyRingCache | None, *, unavailable_message: str,
                 refresh_interval: float = DEFAULT_KEY_REFRESH):
        self.ring = ring
        self.unavailable_message = unavailable_message
        self.refresh_interval = refresh_interval
        self._refreshed = float("-inf")
        self._public: tuple[object, KeySet | None] = (None, None)

    async def key_set(self, now: float) -> KeySet:
        if self.ring is None:
            raise KeysUnavailable(self.unavailable_message)
        try:
            ring = await self.ring.ring()
        except SecretsError as error:  # messages name no key material
            log.error("signing keys unavailable: %s", error)
            raise KeysUnavailable(
                "authentication is not available: the signing keys cannot be read"
            ) from None
        if self._public[0] is not ring:  # the public keys, built once per loaded ring
            self._public = (ring, ring.public_key_set())
        return self._public[1]

    async def refreshed(self, now: float) -> KeySet | None:
        if self.ring is None or 0 <= now - self._refreshed < self.refresh_interval:
            return None
        self._refreshed = now
        self.ring.invalidate()
        return await self.key_set(now)


JWKS_UNAVAILABLE = (
    "authentication is not available: the identity provider's keys cannot be fetched"
)


class ProviderKeys:
    """An external provider's keys (`JwksCache`), its unavailability as KeysUnavailable."""

    def __init__(self, cache: JwksCache):
        self.cache = cache

    async def key_set(self, now: float) -> KeySet:
        try:
            return await self.cache.key_set(now)
        except JwksUnavailable as error:
            raise KeysUnavailable(JWKS_UNAVAILABLE, error.retry_after) from None

    async def refreshed(self, now: float) -> KeySet | None:
        return await self.cache.refreshed(now)


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuer /graphql accepts tokens of (see the module's docstring).

    Attributes:
        issuer: the exact `iss`.
        audience: what `aud` must be or contain.
        keys: where its public keys come from.
        rules: the claims its tokens must carry (`tokens.OWN_TOKENS`, `ClaimRules.external`).
        algorithms, leeway: as `tokens.verify` takes them.
        clients: its client ids → ledgergate client ids; None: its tokens carry ledgergate
            client ids (the built-in server).
        subject_is_user: `sub` must be the web-services user the client acts as (the
            built-in server's tokens); else `sub` is the provider's, kept for audit.
    """

    issuer: str
    audience: str
    keys: KeySource
    rules: tokens.ClaimRules
    algorithms: tuple[str, ...] = (ALGORITHM,)
    leeway: int = 30
    clients: Mapping[str, str] | None = None
    subject_is_user: bool = False

    def verify(self, token: str, jwks: KeySet, now: float) -> tokens.AccessClaims:
        return tokens.verify(
            token, jwks=jwks, issuer=self.issuer, audience=self.audience, now=now,
            algorithms=self.algorithms, leeway=self.leeway, rules=self.rules,
        )

    def client_id(self, claimed: str) -> str | None:
        """The ledgergate client a token's client id stands for, or None: not one of this
        issuer's clients."""
        if self.clients is None:
            return claimed
        return self.clients.get(claimed)


def builtin_issuer(
    ring: KeyRingCache | None,
    *,
    issuer: str,
    audience: str,
    unavailable_message: str,
    leeway: int = 30,
    key_refresh: float = DEFAULT_KEY_REFRESH,
) -> TrustedIssuer:
    """The built-in authorization server (`gateway.auth.server`): RS256, its key ring."""
    return TrustedIssuer(
        issuer=issuer, audience=audience,
        keys=RingKeys(ring, unavailable_message=unavailable_message, refresh_interval=key_refresh),
        rules=tokens.OWN_TOKENS, leeway=leeway, subject_is_user=True,
    )


def external_issuer(config: ExternalIssuer, **jwks_options) -> TrustedIssuer:
    """An `[[oauth.external]]` provider; `jwks_options` go to `JwksCache` (tests: a
    transport, a timeout)."""
    cache = JwksCache(
        config.jwks_url, issuer=config.issuer, refresh_interval=config.jwks_refresh_interval,
        max_age=config.jwks_max_age, **jwks_options,
    )
    return TrustedIssuer(
        issuer=config.issuer, audience=config.audience, keys=ProviderKeys(cache),
        rules=tokens.ClaimRules.external(entity_claim=config.entity_claim),
        algorithms=config.algorithms, leeway=config.leeway, clients=dict(config.clients),
        subject_is_user=False,
    )


__all__ = [
    "JWKS_UNAVAILABLE",
    "KeySource",
    "KeysUnavailable",
    "ProviderKeys",
    "RingKeys",
    "TrustedIssuer",
    "builtin_issuer",
    "external_issuer",
]
