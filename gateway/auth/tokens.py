"""JWT access tokens (RFC 9068): issued by the built-in server, verified from it or from an
external issuer.

`issue` signs with the key ring's current key: RS256, header `kid` and `typ: at+jwt`; claims
iss, aud, sub (the web-services user), client_id, entity, scope, iat, nbf, exp, jti.

`verify` is strict and fails closed, raising `InvalidToken` with a short reason from
`REASONS` that never quotes the token. The steps, in order:

1. shape: a str of three base64url parts with a JSON-object header of only the parameters
   alg, kid, typ, x5t, x5t#S256 (no embedded `jwk`, `jku`, `x5u`, `x5c`, `crit` or `b64`);
2. `alg` in the allowed list, which may only name asymmetric signature algorithms, so `none`
   and HS256 keyed with the public key (the algorithm-confusion attack) never verify;
3. the key: by `kid` in the given key set (absent: `UnknownKey`, the cue to refresh an
   external JWKS), of the type the alg needs, `use` sig, RSA of 2048 bits or more;
4. the signature (joserfc), then a strict JSON payload (no duplicate members, NaN or
   Infinity);
5. `typ`, then the claims: exp, nbf and iat with leeway (joserfc's `JWTClaimsRegistry`),
   iss, aud (a string or a list), and the essential claims of the `ClaimRules`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyCurveError,
    InvalidKeyTypeError,
    JoseError,
    KeyParameterError,
)
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey
from joserfc.jws import JWSRegistry
from joserfc.util import urlsafe_b64decode

from .keys import ALGORITHM, KeyRing
from .scopes import format_scope, is_scope_token, parse_scope

TOKEN_TYPE = "at+jwt"
DEFAULT_TTL = 900
MAX_TTL = 24 * 3600
MAX_LEEWAY = 300
MAX_TOKEN_LENGTH = 16 * 1024
MIN_RSA_BITS = 2048

# The algorithms `verify` may be told to accept, and the key type each needs.
_KEY_TYPES: dict[str, type] = {
    **{f"{family}{bits}": RSAKey for family in ("RS", "PS") for bits in (256, 384, 512)},
    **{f"ES{bits}": ECKey for bits in (256, 384, 512)},
    "Ed25519": OKPKey,  # RFC 9864; the polymorphic "EdDSA" is deprecated there
}
SIGNATURE_ALGORITHMS = frozenset(_KEY_TYPES)
_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "Ed25519": "Ed25519"}
_HEADER_PARAMETERS = frozenset({"alg", "kid", "typ", "x5t", "x5t#S256"})
_REGISTERED = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti"})

NO_TOKEN = "no token"
MALFORMED = "malformed"
UNSUPPORTED_ALGORITHM = "unsupported algorithm"
MISSING_KEY_ID = "missing key id"
UNKNOWN_KEY = "unknown key"
UNUSABLE_KEY = "unusable key"
BAD_SIGNATURE = "bad signature"
WRONG_TYPE = "wrong token type"
EXPIRED = "expired"
NOT_YET_VALID = "not yet valid"
WRONG_ISSUER = "wrong issuer"
WRONG_AUDIENCE = "wrong audience"
MISSING_CLAIM = "missing claim"
INVALID_CLAIM = "invalid claim"
REASONS = frozenset({
    NO_TOKEN, MALFORMED, UNSUPPORTED_ALGORITHM, MISSING_KEY_ID, UNKNOWN_KEY, UNUSABLE_KEY,
    BAD_SIGNATURE, WRONG_TYPE, EXPIRED, NOT_YET_VALID, WRONG_ISSUER, WRONG_AUDIENCE,
    MISSING_CLAIM, INVALID_CLAIM,
})


class InvalidToken(Exception):
    """The token does not verify.

    Attributes:
        reason: one of REASONS; safe to log and to return to the caller.
        claim: for MISSING_CLAIM / INVALID_CLAIM, the claim name(s), comma-separated.
    """

    def __init__(self, reason: str, claim: str | None = None):
        assert reason in REASONS, reason
        self.reason = reason
        self.claim = claim
        super().__init__(f"{reason}: {claim}" if claim else reason)


class UnknownKey(InvalidToken):
    """No key of the key set has the token's `kid`: an external issuer may have rotated,
    so refresh its JWKS (rate-limited) and verify once more."""

    def __init__(self) -> None:
        super().__init__(UNKNOWN_KEY)


def _media_type(value: str) -> str:
    value = value.lower()
    return value[len("application/"):] if value.startswith("application/") else value


@dataclass(frozen=True)
class ClaimRules:
    """Which claims a token must carry and where its client id, scopes and entity are.

    Attributes:
        client_id_claims: claims naming the client, e.g. ("client_id", "azp"); one must be
            present, and if several are they must agree.
        scope_claims: claims holding the scopes, a space-separated string (`scope`, or `scp`
            of some issuers) or a list of strings (`scp`); none present is no scopes.
        entity_claim: the claim naming the entity (required when set), or None when the
            issuer does not carry one and the caller maps it otherwise.
        require_jti, require_iat: whether `jti` / `iat` are essential.
        token_types: accepted `typ` header values (compared case-insensitively, with or
            without `application/`), or None to accept any or none.
    """

    client_id_claims: tuple[str, ...] = ("client_id",)
    scope_claims: tuple[str, ...] = ("scope",)
    entity_claim: str | None = "entity"
    require_jti: bool = True
    require_iat: bool = True
    token_types: tuple[str, ...] | None = (TOKEN_TYPE,)

    def __post_init__(self) -> None:
        names = [*self.client_id_claims, *self.scope_claims]
        if self.entity_claim is not None:
            names.append(self.entity_claim)
        if not self.client_id_claims or not self.scope_claims:
            raise ValueError("claim rules: client_id_claims and scope_claims must not be empty")
        if not all(isinstance(n, str) and n and n not in _REGISTERED for n in names):
            raise ValueError("claim rules: claim names must be non-empty, not registered claims")
        if len(set(names)) != len(names):
            raise ValueError("claim rules: a claim can serve one purpose only")
        if self.token_types is not None:
            if isinstance(self.token_types, str) or not self.token_types:
                raise ValueError("claim rules: token_types must be a non-empty tuple or None")
            if not all(isinstance(t, str) and t for t in self.token_types):
                raise ValueError("claim rules: token types must be non-empty strings")
            object.__setattr__(self, "token_types", tuple(_media_type(t) for t in self.token_types))

    @classmethod
    def external(
        cls,
        *,
        entity_claim: str | None = None,
        token_types: tuple[str, ...] | None = None,
        require_jti: bool = False,
    ) -> ClaimRules:
        """Rules for an external issuer: client id in `client_id` or `azp`, scopes in `scope`
        or `scp`; `jti`, `iat` and `typ` as the issuer sends them."""
        return cls(
            client_id_claims=("client_id", "azp"),
            scope_claims=("scope", "scp"),
            entity_claim=entity_claim,
            require_jti=require_jti,
            require_iat=False,
            token_types=token_types,
        )


OWN_TOKENS = ClaimRules()


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says."""

    subject: str
    client_id: str
    entity: str | None
    scopes: frozenset[str]
    jti: str | None
    expires_at: dt.datetime
    issuer: str


def _epoch(now: object) -> int:
    if isinstance(now, dt.datetime):
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        return math.floor(now.timestamp())
    if isinstance(now, int | float) and not isinstance(now, bool) and math.isfinite(now):
        return math.floor(now)
    raise TypeError("now must be an aware datetime or epoch seconds")


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty str")
    return value


def issue(
    ring: KeyRing,
    *,
    issuer: str,
    audience: str,
    subject: str,
    client_id: str,
    entity: str,
    scopes: Iterable[str],
    now: dt.datetime | int | float,
    ttl: int = DEFAULT_TTL,
) -> str:
    """A signed access token (RS256, `typ: at+jwt`, the ring's current key's `kid`)."""
    for value, what in ((issuer, "issuer"), (audience, "audience"), (subject, "subject"),
                        (client_id, "client_id"), (entity, "entity")):
        _text(value, what)
    scope = format_scope(scopes)
    if not scope:
        raise ValueError("an access token needs at least one scope")
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 < ttl <= MAX_TTL:
        raise ValueError(f"ttl must be whole seconds in 1..{MAX_TTL}")
    issued = _epoch(now)
    key = ring.current
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "client_id": client_id,
        "entity": entity,
        "scope": scope,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "jti": secrets.token_urlsafe(16),
    }
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": TOKEN_TYPE}
    return jwt.encode(header, claims, key.key, algorithms=[ALGORITHM], default_type=None)


class _StrictJSON(json.JSONDecoder):
    """JSON without duplicate member names (which parsers resolve differently) or the
    non-standard NaN / Infinity."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        super().__init__(**kwargs)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError("not JSON")


def _header(token: str) -> dict[str, Any]:
    parts = token.split(".")
    # An empty signature is left to the alg check (`none`) or the signature check.
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise InvalidToken(MALFORMED)
    try:
        header = json.loads(urlsafe_b64decode(parts[0].encode("ascii")), cls=_StrictJSON)
    except (ValueError, TypeError):  # incl. binascii.Error, UnicodeError
        raise InvalidToken(MALFORMED) from None
    if not isinstance(header, dict) or not isinstance(header.get("alg"), str):
        raise InvalidToken(MALFORMED)
    if set(header) - _HEADER_PARAMETERS:
        raise InvalidToken(MALFORMED)
    for name in ("kid", "typ"):
        if name in header and not isinstance(header[name], str):
            raise InvalidToken(MALFORMED)
    return header


# For other JWTs verified as strictly (`client_assertion`).
parse_header = _header
StrictJSON = _StrictJSON


def unverified_issuer(token: str) -> str:
    """The `iss` of a token's payload, NOT verified: only to choose whose keys and rules to
    verify it with (`verify` then checks `iss` exactly). InvalidToken: the payload is not a
    JSON object (MALFORMED) or has no string `iss` (MISSING_CLAIM / INVALID_CLAIM).

    Parsed with orjson, not the strict decoder: it runs on every request of a gateway with
    several issuers, and what it lets through (a duplicate member) `verify` refuses."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidToken(MALFORMED)
    parts = token.split(".")
    if len(parts) != 3 or not parts[1]:
        raise InvalidToken(MALFORMED)
    try:
        payload = orjson.loads(urlsafe_b64decode(parts[1].encode("ascii")))
    except (ValueError, TypeError):  # incl. orjson.JSONDecodeError, binascii.Error
        raise InvalidToken(MALFORMED) from None
    if not isinstance(payload, dict):
        raise InvalidToken(MALFORMED)
    issuer = payload.get("iss")
    if issuer is None:
        raise InvalidToken(MISSING_CLAIM, "iss")
    if not isinstance(issuer, str) or not issuer:
        raise InvalidToken(INVALID_CLAIM, "iss")
    return issuer


def _key_for(jwks: KeySet, header: dict[str, Any]) -> RSAKey | ECKey | OKPKey:
    kid = header.get("kid")
    if not kid:
        raise InvalidToken(MISSING_KEY_ID)
    alg = header["alg"]
    candidates = [k for k in jwks.keys if k.kid == kid]
    if not candidates:
        raise UnknownKey()
    for key in candidates:
        if usable_key(key, alg):
            return key
    raise InvalidToken(UNUSABLE_KEY)


def usable_key(key: object, alg: str) -> bool:
    """Whether `key` may verify a signature of `alg` (one of SIGNATURE_ALGORITHMS): the key
    type and curve the alg needs, `use` sig, `alg` and `key_ops` (if any) allowing it, RSA
    of MIN_RSA_BITS or more."""
    if not isinstance(key, _KEY_TYPES[alg]):
        return False
    if key.get("use") not in (None, "sig") or key.alg not in (None, alg):
        return False
    ops = key.get("key_ops")
    if ops is not None and "verify" not in ops:
        return False
    if isinstance(key, RSAKey) and key.public_key.key_size < MIN_RSA_BITS:
        return False
    return not (alg in _CURVES and key.curve_name != _CURVES[alg])


def _check_algorithms(algorithms: Collection[str]) -> list[str]:
    if isinstance(algorithms, str):
        raise TypeError("algorithms must be a collection of names, not one str")
    allowed = list(algorithms)
    if not allowed or not all(a in _KEY_TYPES for a in allowed):
        raise ValueError(f"algorithms must be a non-empty subset of {sorted(_KEY_TYPES)}")
    return allowed


def verify(
    token: str | None,
    *,
    jwks: KeySet,
    issuer: str,
    audience: str,
    now: dt.datetime | int | float,
    algorithms: Collection[str] = (ALGORITHM,),
    leeway: int = 30,
    rules: ClaimRules = OWN_TOKENS,
) -> AccessClaims:
    """The claims of a valid access token, or InvalidToken (UnknownKey for an unknown kid).

    Args:
        jwks: the public keys to trust (`KeyRing.public_key_set()`, or an issuer's JWKS).
        issuer, audience: the exact `iss` expected, and the value `aud` must be or contain.
        now: the current time; exp, nbf and iat are checked against it with `leeway`.
        algorithms: accepted `alg` values, asymmetric signature algorithms only.
        leeway: allowed clock skew in seconds, 0..300.
        rules: the essential claims and claim names (`OWN_TOKENS`, `ClaimRules.external()`).
    """
    allowed = _check_algorithms(algorithms)
    if not isinstance(leeway, int) or isinstance(leeway, bool) or not 0 <= leeway <= MAX_LEEWAY:
        raise ValueError(f"leeway must be whole seconds in 0..{MAX_LEEWAY}")
    if not isinstance(jwks, KeySet):
        raise TypeError("jwks must be a joserfc KeySet")
    _text(issuer, "issuer")
    _text(audience, "audience")
    moment = _epoch(now)

    if token is None or token == "":
        raise InvalidToken(NO_TOKEN)
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidToken(MALFORMED)
    header = _header(token)
    if header["alg"] not in allowed:
        raise InvalidToken(UNSUPPORTED_ALGORITHM)
    key = _key_for(jwks, header)

    try:
        decoded = jwt.decode(
            token, key, algorithms=allowed,
            registry=JWSRegistry(algorithms=allowed), decoder_cls=_StrictJSON,
        )
    except BadSignatureError:
        raise InvalidToken(BAD_SIGNATURE) from None
    except (KeyParameterError, InvalidKeyTypeError, InvalidKeyCurveError):
        raise InvalidToken(UNUSABLE_KEY) from None  # _key_for should have caught these
    except (JoseError, ValueError, TypeError, KeyError):
        raise InvalidToken(MALFORMED) from None

    if rules.token_types is not None:
        typ = header.get("typ")
        if typ is None or _media_type(typ) not in rules.token_types:
            raise InvalidToken(WRONG_TYPE)
    return _claims(decoded.claims, rules, issuer=issuer, audience=audience, now=moment,
                   leeway=leeway)


def _claims(claims: dict[str, Any], rules: ClaimRules, *, issuer: str, audience: str,
            now: int, leeway: int) -> AccessClaims:
    essential = ["exp", "iss", "aud", "sub"]
    if rules.require_jti:
        essential.append("jti")
    if rules.require_iat:
        essential.append("iat")
    if rules.entity_claim is not None:
        essential.append(rules.entity_claim)
    missing = sorted(name for name in essential if claims.get(name) is None)
    if not any(claims.get(name) is not None for name in rules.client_id_claims):
        missing.append("|".join(rules.client_id_claims))
    if missing:
        raise InvalidToken(MISSING_CLAIM, ",".join(missing))

    # Presence is settled above. The options make joserfc refuse blank values and compare
    # iss and aud (which may be a list); an empty option would skip those checks.
    present = {"allow_blank": False}
    registry = jwt.JWTClaimsRegistry(
        now=now, leeway=leeway,
        exp=present, nbf=present, iat=present, sub=present, jti=present,
        iss={"allow_blank": False, "value": issuer}, aud={"allow_blank": False, "value": audience},
    )
    # One claim at a time, in a fixed order, so that the reason does not depend on the order
    # of the token's members: time first, then who issued it and for whom.
    for name in ("exp", "nbf", "iat", "iss", "aud", "sub", "jti"):
        if name not in claims:
            continue
        try:
            getattr(registry, f"validate_{name}")(claims[name])
        except ExpiredTokenError:
            raise InvalidToken(EXPIRED) from None
        except ClaimError:  # nbf / iat in the future, wrong iss / aud, or a wrong type
            if name in ("nbf", "iat") and _is_number(claims[name]):
                raise InvalidToken(NOT_YET_VALID) from None
            if name == "iss" and isinstance(claims[name], str):
                raise InvalidToken(WRONG_ISSUER) from None
            if name == "aud" and _is_audience(claims[name]):
                raise InvalidToken(WRONG_AUDIENCE) from None
            raise InvalidToken(INVALID_CLAIM, name) from None

    try:
        expires_at = dt.datetime.fromtimestamp(claims["exp"], dt.UTC)
    except (OverflowError, ValueError, OSError):
        raise InvalidToken(INVALID_CLAIM, "exp") from None

    client_ids = [claims[n] for n in rules.client_id_claims if claims.get(n) is not None]
    if not all(isinstance(c, str) and c for c in client_ids) or len(set(client_ids)) != 1:
        raise InvalidToken(INVALID_CLAIM, "client_id")
    client_id = client_ids[0]

    entity = None
    if rules.entity_claim is not None:
        entity = claims[rules.entity_claim]
        if not isinstance(entity, str) or not entity:
            raise InvalidToken(INVALID_CLAIM, rules.entity_claim)

    return AccessClaims(
        subject=claims["sub"],
        client_id=client_id,
        entity=entity,
        scopes=_scopes(claims, rules),
        jti=claims.get("jti"),
        expires_at=expires_at,
        issuer=claims["iss"],
    )


def _scopes(claims: dict[str, Any], rules: ClaimRules) -> frozenset[str]:
    scopes: set[str] = set()
    for name in rules.scope_claims:
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            try:
                scopes |= parse_scope(value)
            except ValueError:
                raise InvalidToken(INVALID_CLAIM, name) from None
        elif isinstance(value, list) and all(is_scope_token(v) for v in value):
            scopes |= set(value)
        else:
            raise InvalidToken(INVALID_CLAIM, name)
    return frozenset(scopes)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_audience(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
