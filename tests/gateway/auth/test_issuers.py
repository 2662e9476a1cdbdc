"""`tokens.unverified_issuer` (how the bearer resolver picks the issuer to verify with) and
the resolver's refusal of an ambiguous set of issuers."""

from __future__ import annotations

import base64
import datetime as dt
import time

import pytest
from joserfc import jws

from gateway.auth import tokens
from gateway.auth.issuers import RingKeys, TrustedIssuer
from gateway.auth.keys import generate_signing_key
from gateway.auth.principal import BearerPrincipalResolver
from tests.gateway.oauth_support import segment


def _token(payload) -> str:
    return f"{segment({'alg': 'RS256', 'kid': 'k'})}.{segment(payload)}.c2ln"


def test_the_unverified_issuer():
    assert tokens.unverified_issuer(_token({"iss": "https://idp/", "sub": "x"})) == "https://idp/"


@pytest.mark.parametrize("token, reason", [
    ("a.b", "malformed"),
    ("a..c", "malformed"),
    ("a.!!.c", "malformed"),
    (_token(["iss"]), "malformed"),
    (_token({"sub": "x"}), "missing claim: iss"),
    (_token({"iss": 5}), "invalid claim: iss"),
    (_token({"iss": ""}), "invalid claim: iss"),
    ("é.b.c", "malformed"),
])
def test_an_unverified_issuer_that_cannot_be_read(token, reason):
    with pytest.raises(tokens.InvalidToken) as raised:
        tokens.unverified_issuer(token)
    assert str(raised.value) == reason


def test_a_duplicate_member_passes_the_peek_but_not_verify():
    """The peek takes the last `iss`; `verify`'s strict decoder refuses the token."""
    from joserfc.jwk import KeySet

    payload = '{"iss":"https://a/","iss":"https://b/"}'
    token = f"{segment({'alg': 'RS256', 'kid': 'k'})}.{_b64(payload)}.c2ln"
    assert tokens.unverified_issuer(token) == "https://b/"
    key = generate_signing_key(dt.datetime.now(dt.UTC))
    signed = jws.serialize_compact({"alg": "RS256", "kid": key.kid}, payload.encode(), key.key,
                                   algorithms=["RS256"])
    assert tokens.unverified_issuer(signed) == "https://b/"
    with pytest.raises(tokens.InvalidToken) as raised:
        tokens.verify(signed, jwks=KeySet([key.public_key()]), issuer="https://b/",
                      audience="x", now=time.time(), rules=tokens.ClaimRules.external())
    assert raised.value.reason == tokens.MALFORMED


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def test_issuers_must_be_distinct_and_at_least_one():
    keys = RingKeys(None, unavailable_message="none")
    one = TrustedIssuer(issuer="https://a/", audience="x", keys=keys, rules=tokens.OWN_TOKENS)
    with pytest.raises(ValueError, match="at least one trusted issuer, each of its own iss"):
        BearerPrincipalResolver(None, [])
    with pytest.raises(ValueError, match="each of its own iss"):
        BearerPrincipalResolver(None, [one, one])
