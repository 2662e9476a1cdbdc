"""Verifying a client assertion: the JWT a client signs with its private key to authenticate
at the token endpoint (`private_key_jwt`: OpenID Connect Core §9, RFC 7523 §2.2, RFC 7521
§4.2).

`verify_assertion` is strict and fails closed with `AssertionRefused(reason)`; the reason is
for the INFO log only (the client is told `invalid_client` and nothing more), and never
quotes the assertion. It checks, in order:

1. the header as for access tokens (`tokens`: three base64url parts, only alg, kid, typ,
   x5t, x5t#S256 — no embedded or remote keys), `alg` one of `client_keys.ALGORITHMS`
   (so `none` and HS256 keyed with a public key never verify);
2. the key: by `kid` among the client's keys, or, without a kid, each usable key in turn
   (a client with one key need not name it); then the signature and a strict JSON payload;
3. the claims: `iss` = `sub` = the client id; `aud` (a string or a list) containing the
   token endpoint's URL or the issuer; `exp` a number in the future (with LEEWAY) and at
   most MAX_LIFETIME ahead, so that a stolen assertion is short-lived and the `jti` kept
   against replay can be forgotten soon; `nbf` and `iat`, if present, not in the future
   (with LEEWAY); `jti` a non-empty string of at most MAX_JTI characters.

Whether the `jti` was seen before is the caller's to check (`identities.use_assertion_jti`),
with the returned `Assertion.expires_at` as how long to remember it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from . import tokens
from .client_keys import ALGORITHMS

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
LEEWAY = 30
MAX_LIFETIME = 300
MAX_JTI = 255


class AssertionRefused(Exception):
    """The assertion does not authenticate the client; `reason` is safe to log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Assertion:
    """What a verified assertion says that the caller still needs."""

    jti: str
    expires_at: int  # epoch seconds, the leeway included: until then it must not be reused


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _signed_payload(assertion: str, keys: KeySet) -> dict:
    try:
        header = tokens.parse_header(assertion)
    except tokens.InvalidToken as invalid:
        raise AssertionRefused(f"assertion {invalid.reason}") from None
    alg = header["alg"]
    if alg not in ALGORITHMS:
        raise AssertionRefused(f"algorithm {alg[:20]!r} is not accepted")
    kid = header.get("kid")
    candidates = [k for k in keys.keys if kid is None or k.kid == kid]
    candidates = [k for k in candidates if tokens.usable_key(k, alg)]
    if not candidates:
        raise AssertionRefused(
            f"no key of the client {'has kid ' + repr(kid[:64]) if kid else 'fits'} for {alg}"
        )
    registry = JWSRegistry(algorithms=[alg])
    for key in candidates:
        try:
            decoded = jwt.decode(assertion, key, algorithms=[alg], registry=registry,
                                 decoder_cls=tokens.StrictJSON)
        except BadSignatureError:
            continue
        except (JoseError, ValueError, TypeError, KeyError):
            raise AssertionRefused("assertion malformed") from None
        return decoded.claims
    raise AssertionRefused("bad signature")


def verify_assertion(
    assertion: str, *, keys: KeySet, client_id: str, audiences: tuple[str, ...], now: int
) -> Assertion:
    """The verified assertion of `client_id`, or AssertionRefused.

    Args:
        keys: the client's public keys (`client_keys.load_client_jwks`).
        audiences: the values one of which `aud` must be or contain (the token endpoint's
            URL and the issuer).
        now: epoch seconds.
    """
    if not isinstance(assertion, str) or len(assertion) > tokens.MAX_TOKEN_LENGTH:
        raise AssertionRefused("assertion malformed")
    if not assertion.isascii():
        raise AssertionRefused("assertion malformed")
    claims = _signed_payload(assertion, keys)
    for name in ("iss", "sub"):
        if claims.get(name) != client_id:
            raise AssertionRefused(f"{name} is not the client id")
    aud = claims.get("aud")
    audience = [aud] if isinstance(aud, str) else aud
    if not isinstance(audience, list) or not any(a in audiences for a in audience if isinstance(a, str)):
        raise AssertionRefused("aud names neither the token endpoint nor the issuer")
    exp = claims.get("exp")
    if not _number(exp):
        raise AssertionRefused("exp missing or not a number")
    if exp <= now - LEEWAY:
        raise AssertionRefused("expired")
    if exp > now + MAX_LIFETIME + LEEWAY:
        raise AssertionRefused(f"exp is more than {MAX_LIFETIME} s ahead")
    for name in ("nbf", "iat"):
        if name in claims:
            if not _number(claims[name]):
                raise AssertionRefused(f"{name} not a number")
            if claims[name] > now + LEEWAY:
                raise AssertionRefused(f"{name} in the future")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI:
        raise AssertionRefused(f"jti missing or not a string of 1-{MAX_JTI} characters")
    return Assertion(jti, math.ceil(exp) + LEEWAY)
