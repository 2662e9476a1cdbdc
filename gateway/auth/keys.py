"""Signing keys of the built-in authorization server, and their rotation.

A `KeyRing` is immutable: `keys[0]` is the current key, which signs; after it come the keys it
replaced, most recent first. A replaced key stays published in the JWK Set, so tokens it
signed still verify, until it is retired. `retire_older_than(cutoff)` retires every replaced
key that stopped signing at or before `cutoff`; with `cutoff = now - token ttl - leeway`, no
token it signed can still be valid.

`to_private_dict` / `from_private_dict` carry the private keys: the caller encrypts them at
rest. Nothing here logs or puts key material into an error message or a repr.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from joserfc.util import base64_to_int

ALGORITHM = "RS256"
KEY_SIZE = 2048
# The members of a published RSA JWK: an allow-list, so no private member can slip through.
_PUBLIC_MEMBERS = ("kty", "n", "e")


def _aware(value: object, what: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{what} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return value.astimezone(dt.UTC)


def _parse_time(value: object, what: str) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError(f"signing key: {what} must be an ISO 8601 string")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"signing key: {what} is not an ISO 8601 time") from None
    return _aware(parsed, f"signing key: {what}")


@dataclass(frozen=True)
class SigningKey:
    """One RS256 signing key.

    Attributes:
        kid: the key id: `kid_of(key)`, "lgk_" and the RFC 7638 thumbprint of the public
            key; keys made before the prefix have the bare thumbprint, still accepted.
        key: the private RSA key (2048 bits or more); never in a repr.
        created_at: when the key began to sign.
        retired_at: when it was withdrawn from the JWK Set, or None while published.
    """

    kid: str
    key: RSAKey = field(repr=False, compare=False)
    created_at: dt.datetime
    retired_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.key, RSAKey) or not self.key.is_private:
            raise ValueError("signing key: key must be a private RSA key")
        if self.key.private_key.key_size < KEY_SIZE:
            raise ValueError(f"signing key: RSA keys must be at least {KEY_SIZE} bits")
        if self.kid not in (kid_of(self.key), self.key.thumbprint()):
            raise ValueError("signing key: kid is not the RFC 7638 thumbprint of the key")
        object.__setattr__(self, "created_at", _aware(self.created_at, "created_at"))
        if self.retired_at is not None:
            object.__setattr__(self, "retired_at", _aware(self.retired_at, "retired_at"))

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    def public_jwk(self) -> dict[str, str]:
        """The public JWK: kty, n, e, kid, alg RS256, use sig; no private member."""
        public = self.key.as_dict(private=False)
        jwk = {name: public[name] for name in _PUBLIC_MEMBERS}
        jwk.update(kid=self.kid, alg=ALGORITHM, use="sig")
        return jwk

    def public_key(self) -> RSAKey:
        return RSAKey.import_key(self.public_jwk())

    def to_private_dict(self) -> dict[str, Any]:
        """JSON-able, WITH the private key: encrypt it before it touches a disk."""
        return {
            "kid": self.kid,
            "alg": ALGORITHM,
            "created_at": self.created_at.isoformat(),
            "retired_at": None if self.retired_at is None else self.retired_at.isoformat(),
            "jwk": self.key.as_dict(private=True),
        }

    @classmethod
    def from_private_dict(cls, data: Mapping[str, Any]) -> SigningKey:
        """Reads `to_private_dict`'s form, checking that the key is a private RSA key of at
        least 2048 bits whose thumbprint is the kid. Errors never quote key material."""
        if not isinstance(data, Mapping):
            raise ValueError("signing key: not a JSON object")
        kid, jwk = data.get("kid"), data.get("jwk")
        if not isinstance(kid, str) or not kid:
            raise ValueError("signing key: kid missing")
        if data.get("alg", ALGORITHM) != ALGORITHM:
            raise ValueError(f"signing key {kid}: alg must be {ALGORITHM}")
        if not isinstance(jwk, Mapping) or jwk.get("kty") != "RSA" or "d" not in jwk:
            raise ValueError(f"signing key {kid}: jwk must be a private RSA JWK")
        if jwk.get("kid", kid) != kid:
            raise ValueError(f"signing key {kid}: jwk kid differs")
        try:
            bits = base64_to_int(jwk["n"]).bit_length()
        except (ValueError, TypeError, KeyError):
            raise ValueError(f"signing key {kid}: jwk is not a valid RSA key") from None
        if bits < KEY_SIZE:  # refused before import, which would only warn
            raise ValueError(f"signing key {kid}: RSA keys must be at least {KEY_SIZE} bits")
        try:
            key = RSAKey.import_key({**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"})
        except (JoseError, ValueError, TypeError, KeyError):
            raise ValueError(f"signing key {kid}: jwk is not a valid RSA key") from None
        retired = data.get("retired_at")
        return cls(
            kid=kid,
            key=key,
            created_at=_parse_time(data.get("created_at"), "created_at"),
            retired_at=None if retired is None else _parse_time(retired, "retired_at"),
        )


def generate_signing_key(now: dt.datetime, *, size: int = KEY_SIZE) -> SigningKey:
    """A fresh RSA key (2048 bits unless larger asked for), kid = `kid_of` it."""
    if not isinstance(size, int) or size < KEY_SIZE or size % 8:
        raise ValueError(f"signing key size must be a multiple of 8 of at least {KEY_SIZE} bits")
    key = RSAKey.generate_key(size, parameters={"alg": ALGORITHM, "use": "sig"})
    kid = kid_of(key)
    key = RSAKey.import_key({**key.as_dict(private=True), "kid": kid})
    return SigningKey(kid=kid, key=key, created_at=now)


KID_PREFIX = "lgk_"


def kid_of(key: RSAKey) -> str:
    """The key id of a new key. A bare base64url thumbprint begins with "-" one time in 64,
    and `ledgergate keys retire -Abc…` then reads as an option: the prefix keeps every key
    id safe on a command line (and says whose key it is, as `lgc_` does for clients)."""
    return KID_PREFIX + key.thumbprint()


@dataclass(frozen=True)
class KeyRing:
    """The current signing key first, then the keys it replaced, most recent first."""

    keys: tuple[SigningKey, ...]

    def __post_init__(self) -> None:
        keys = tuple(self.keys)
        object.__setattr__(self, "keys", keys)
        if not keys or not all(isinstance(k, SigningKey) for k in keys):
            raise ValueError("key ring: needs at least one SigningKey")
        if keys[0].retired:
            raise ValueError("key ring: the current key is retired")
        if len({k.kid for k in keys}) != len(keys):
            raise ValueError("key ring: duplicate kid")

    @classmethod
    def new(cls, now: dt.datetime) -> KeyRing:
        return cls((generate_signing_key(now),))

    @property
    def current(self) -> SigningKey:
        return self.keys[0]

    @property
    def published(self) -> tuple[SigningKey, ...]:
        """The keys whose tokens verify: the current one and those not yet retired."""
        return tuple(k for k in self.keys if not k.retired)

    def get(self, kid: str) -> SigningKey | None:
        return next((k for k in self.keys if k.kid == kid), None)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public JWK Set, for `/.well-known/jwks.json`."""
        return {"keys": [k.public_jwk() for k in self.published]}

    def public_key_set(self) -> KeySet:
        """The published public keys as a joserfc KeySet, for `tokens.verify`. Building it
        costs ~0.1 ms: build it once per ring and reuse it for every request."""
        return KeySet([k.public_key() for k in self.published])

    def rotate(self, now: dt.datetime) -> KeyRing:
        """A ring whose new current key is fresh; the previous one stays published."""
        now = _aware(now, "now")
        if now < self.current.created_at:
            raise ValueError("key ring: cannot rotate to a time before the current key's creation")
        return KeyRing((generate_signing_key(now), *self.keys))

    def retire(self, kid: str, *, now: dt.datetime) -> KeyRing:
        """Withdraws a replaced key from the JWK Set; tokens it signed stop verifying.
        Retiring a retired key changes nothing; the current key cannot be retired."""
        now = _aware(now, "now")
        key = self.get(kid)
        if key is None:
            raise KeyError(f"no signing key with kid {kid!r}")
        if key is self.current:
            raise ValueError("key ring: the current key cannot be retired; rotate first")
        if key.retired:
            return self
        return KeyRing(tuple(replace(k, retired_at=now) if k is key else k for k in self.keys))

    def retire_older_than(self, cutoff: dt.datetime, *, now: dt.datetime) -> KeyRing:
        """Retires every replaced key that stopped signing at or before `cutoff` (it stopped
        when its successor was created). Pass `now - ttl - leeway` as the cutoff."""
        cutoff, now = _aware(cutoff, "cutoff"), _aware(now, "now")
        keys = list(self.keys)
        for i in range(1, len(keys)):
            if not keys[i].retired and keys[i - 1].created_at <= cutoff:
                keys[i] = replace(keys[i], retired_at=now)
        return self if keys == list(self.keys) else KeyRing(tuple(keys))

    def purge_retired(self) -> KeyRing:
        """The ring without its retired keys, so their private halves can be destroyed."""
        return KeyRing(self.published)

    def to_private_dict(self) -> dict[str, Any]:
        """JSON-able, WITH the private keys: encrypt it before it touches a disk."""
        return {"keys": [k.to_private_dict() for k in self.keys]}

    @classmethod
    def from_private_dict(cls, data: Mapping[str, Any]) -> KeyRing:
        if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
            raise ValueError("key ring: expected an object with a list of keys")
        return cls(tuple(SigningKey.from_private_dict(k) for k in data["keys"]))
