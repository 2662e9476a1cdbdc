"""Access tokens: what `issue` signs, and the negative matrix of `verify`.

Forged and odd tokens are built by hand here (base64url, json, hmac and `cryptography`), not
with the library under test, so each attack is exactly what it says.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import warnings

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc.jwk import ECKey, KeySet, RSAKey

from gateway.auth.keys import KeyRing, SigningKey, generate_signing_key
from gateway.auth.tokens import (
    OWN_TOKENS,
    REASONS,
    AccessClaims,
    ClaimRules,
    InvalidToken,
    UnknownKey,
    issue,
    verify,
)

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
NOW = int(T0.timestamp())
ISSUER = "https://ledgergate.example/"
AUDIENCE = "ledgergate"
SCOPES = {"ledger:read", "source:hr:read"}


@pytest.fixture(scope="module")
def ring():
    return KeyRing.new(T0)


@pytest.fixture(scope="module")
def jwks(ring):
    return ring.public_key_set()


@pytest.fixture(scope="module")
def impostor(ring):
    """Another private key that claims the ring's kid."""
    return RSAKey.generate_key(2048, parameters={"kid": ring.current.kid})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


_PADDING = {"RS": lambda h: padding.PKCS1v15(),
            "PS": lambda h: padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)}
_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def sign(signing_input: str, key: RSAKey, alg: str) -> str:
    digest = _HASHES[alg[2:]]()
    return b64(key.private_key.sign(signing_input.encode(), _PADDING[alg[:2]](digest), digest))


def claims(**changes):
    """Our own token's claims at NOW, with changes; a None value removes the claim."""
    base = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "ws-user-1", "client_id": "bi-tool",
        "entity": "ACME", "scope": "ledger:read source:hr:read",
        "iat": NOW, "nbf": NOW, "exp": NOW + 900, "jti": "jti-1",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def header(ring, **changes):
    base = {"alg": "RS256", "kid": ring.current.kid, "typ": "at+jwt"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def token(ring, payload=None, head=None, key=None, alg=None, raw_payload=None):
    head = header(ring) if head is None else head
    body = raw_payload if raw_payload is not None else segment(claims() if payload is None else payload)
    signing_input = f"{segment(head)}.{body}"
    alg = alg or head.get("alg", "RS256")
    return f"{signing_input}.{sign(signing_input, key or ring.current.key, alg)}"


def check(value, jwks, **kwargs):
    kwargs = {"issuer": ISSUER, "audience": AUDIENCE, "now": NOW, **kwargs}
    return verify(value, jwks=jwks, **kwargs)


def refused(value, jwks, reason, claim=None, **kwargs) -> InvalidToken:
    """Asserts the exact reason, and that the error carries nothing of the token."""
    with pytest.raises(InvalidToken) as caught:
        check(value, jwks, **kwargs)
    error = caught.value
    assert (error.reason, error.claim) == (reason, claim)
    assert error.reason in REASONS
    assert str(error) == (f"{reason}: {claim}" if claim else reason)
    assert error.__cause__ is None
    if isinstance(value, str):
        for part in value.split("."):
            if len(part) > 8:
                assert part not in str(error)
    return error


# --- issue ---------------------------------------------------------------------------------


def decode_part(part: str):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_issue_signs_an_rfc9068_access_token(ring, jwks):
    value = issue(ring, issuer=ISSUER, audience=AUDIENCE, subject="ws-user-1", client_id="bi-tool",
                  entity="ACME", scopes={"source:hr:read", "ledger:read", "audit:read"}, now=T0)
    head, body, _ = value.split(".")
    assert decode_part(head) == {"alg": "RS256", "kid": ring.current.kid, "typ": "at+jwt"}
    payload = decode_part(body)
    jti = payload.pop("jti")
    assert payload == {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "ws-user-1", "client_id": "bi-tool", "entity": "ACME",
        "scope": "audit:read ledger:read source:hr:read",
        "iat": NOW, "nbf": NOW, "exp": NOW + 900,
    }
    assert isinstance(jti, str) and len(jti) >= 22
    assert check(value, jwks) == AccessClaims(
        subject="ws-user-1", client_id="bi-tool", entity="ACME",
        scopes=frozenset({"audit:read", "ledger:read", "source:hr:read"}), jti=jti,
        expires_at=T0 + dt.timedelta(seconds=900), issuer=ISSUER,
    )


def test_issue_takes_a_ttl_and_epoch_seconds(ring, jwks):
    value = issue(ring, issuer=ISSUER, audience=AUDIENCE, subject="u", client_id="c", entity="E",
                  scopes=["ledger:read"], now=NOW + 0.9, ttl=60)
    payload = decode_part(value.split(".")[1])
    assert (payload["iat"], payload["exp"]) == (NOW, NOW + 60)
    assert check(value, jwks).expires_at == T0 + dt.timedelta(seconds=60)


def test_every_token_has_its_own_jti(ring):
    jtis = {
        decode_part(issue(ring, issuer=ISSUER, audience=AUDIENCE, subject="u", client_id="c",
                          entity="E", scopes=SCOPES, now=T0).split(".")[1])["jti"]
        for _ in range(50)
    }
    assert len(jtis) == 50


@pytest.mark.parametrize(("changes", "error"), [
    ({"scopes": set()}, ValueError),
    ({"scopes": {"a b"}}, ValueError),
    ({"scopes": "ledger:read"}, TypeError),
    ({"ttl": 0}, ValueError),
    ({"ttl": 24 * 3600 + 1}, ValueError),
    ({"ttl": 1.5}, ValueError),
    ({"subject": ""}, ValueError),
    ({"entity": None}, ValueError),
    ({"now": dt.datetime(2026, 3, 1)}, ValueError),
    ({"now": "2026-03-01"}, TypeError),
])
def test_issue_refuses_bad_arguments(ring, changes, error):
    arguments = {"issuer": ISSUER, "audience": AUDIENCE, "subject": "u", "client_id": "c",
                 "entity": "E", "scopes": SCOPES, "now": T0, **changes}
    with pytest.raises(error):
        issue(ring, **arguments)


# --- the negative matrix -------------------------------------------------------------------


def test_a_hand_built_token_verifies(ring, jwks):
    """The baseline every negative case below changes one thing of."""
    assert check(token(ring), jwks) == AccessClaims(
        subject="ws-user-1", client_id="bi-tool", entity="ACME",
        scopes=frozenset(SCOPES), jti="jti-1", expires_at=T0 + dt.timedelta(seconds=900),
        issuer=ISSUER)


@pytest.mark.parametrize("value", [None, ""])
def test_no_token(jwks, value):
    refused(value, jwks, "no token")


@pytest.mark.parametrize("value", [
    "abc",
    "a.b",
    "a.b.c.d",
    "..",
    ".e30.sig",
    "eyJhbGciOiJSUzI1NiJ9..sig",
    "!!!.e30.sig",
    "eyJhbGciOiJSUzI1NiJ9=.e30.sig",  # padding is not base64url
    f"{b64(b'not json')}.e30.sig",
    f"{b64(b'[1,2]')}.e30.sig",
    f"{segment({'kid': 'k'})}.e30.sig",
    f"{segment({'alg': 5})}.e30.sig",
    f"{segment({'alg': 'RS256', 'kid': 7})}.e30.sig",
    b64(b'{"alg":"RS256","alg":"none"}') + ".e30.sig",  # duplicate member
    b64(b'{"alg":NaN}') + ".e30.sig",
    "é.e30.sig",
    "a" * 20000 + ".e30.sig",
    b"eyJhbGciOiJSUzI1NiJ9.e30.sig",
    12345,
])
def test_malformed(jwks, value):
    refused(value, jwks, "malformed")


@pytest.mark.parametrize("extra", [
    {"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}},
    {"jku": "https://attacker.example/jwks.json"},
    {"x5u": "https://attacker.example/cert.pem"},
    {"x5c": ["MIIB"]},
    {"crit": ["exp"]},
    {"b64": False, "crit": ["b64"]},
    {"cty": "JWT"},
    {"nonce": "x"},
])
def test_a_header_parameter_outside_the_allow_list_is_malformed(ring, jwks, extra):
    refused(token(ring, head=header(ring, **extra)), jwks, "malformed")


def test_a_payload_that_is_not_base64url_or_json_is_malformed(ring, jwks):
    refused(token(ring, raw_payload="!!!"), jwks, "malformed")
    refused(token(ring, raw_payload=b64(b"not json")), jwks, "malformed")
    refused(token(ring, raw_payload=b64(b'["a"]')), jwks, "malformed")
    refused(token(ring, raw_payload=b64(b"\xff\xfe")), jwks, "malformed")
    duplicate = json.dumps(claims())[:-1] + ', "sub": "admin"}'
    refused(token(ring, raw_payload=b64(duplicate.encode())), jwks, "malformed")
    infinite = json.dumps(claims())[:-1] + ', "x": Infinity}'
    refused(token(ring, raw_payload=b64(infinite.encode())), jwks, "malformed")


def test_expired(ring, jwks):
    refused(token(ring, claims(exp=NOW - 31)), jwks, "expired")
    refused(token(ring, claims(exp=NOW - 3600, iat=NOW - 7200, nbf=NOW - 7200)), jwks, "expired")


def test_not_yet_valid(ring, jwks):
    refused(token(ring, claims(nbf=NOW + 31)), jwks, "not yet valid")
    refused(token(ring, claims(iat=NOW + 31, nbf=None)), jwks, "not yet valid")


def test_expired_is_named_whatever_else_is_wrong(ring, jwks):
    refused(token(ring, claims(iss="https://evil.example/", aud="x", exp=NOW - 60)), jwks, "expired")


def test_leeway_edges(ring, jwks):
    # exp: valid while now - leeway < exp
    assert check(token(ring, claims(exp=NOW - 29)), jwks).subject == "ws-user-1"
    refused(token(ring, claims(exp=NOW - 30)), jwks, "expired")
    # nbf and iat: valid while they are <= now + leeway
    assert check(token(ring, claims(nbf=NOW + 30, iat=NOW + 30)), jwks).subject == "ws-user-1"
    refused(token(ring, claims(nbf=NOW + 31)), jwks, "not yet valid")
    # without leeway
    assert check(token(ring, claims(exp=NOW + 1)), jwks, leeway=0).subject == "ws-user-1"
    refused(token(ring, claims(exp=NOW)), jwks, "expired", leeway=0)
    assert check(token(ring, claims(nbf=NOW, iat=NOW)), jwks, leeway=0).subject == "ws-user-1"
    refused(token(ring, claims(nbf=NOW + 1)), jwks, "not yet valid", leeway=0)
    # `now` may be an aware datetime
    refused(token(ring, claims(exp=NOW + 60)), jwks, "expired", now=T0 + dt.timedelta(seconds=90))


@pytest.mark.parametrize("leeway", [-1, 301, 1.5, True])
def test_leeway_is_bounded(ring, jwks, leeway):
    with pytest.raises(ValueError):
        check(token(ring), jwks, leeway=leeway)


def test_wrong_issuer(ring, jwks):
    refused(token(ring, claims(iss="https://evil.example/")), jwks, "wrong issuer")
    refused(token(ring, claims(iss="https://ledgergate.example")), jwks, "wrong issuer")


def test_wrong_audience(ring, jwks):
    refused(token(ring, claims(aud="other-api")), jwks, "wrong audience")
    refused(token(ring, claims(aud=["other-api", "third"])), jwks, "wrong audience")
    refused(token(ring, claims(aud=[])), jwks, "wrong audience")
    assert check(token(ring, claims(aud=["other-api", AUDIENCE])), jwks).subject == "ws-user-1"


def test_bad_signature_tampered_payload(ring, jwks):
    head, _, signature = token(ring).split(".")
    forged = f"{head}.{segment(claims(scope='ledger:read ledger:post audit:read'))}.{signature}"
    refused(forged, jwks, "bad signature")


def test_bad_signature_tampered_or_missing_signature(ring, jwks):
    head, body, signature = token(ring).split(".")
    flipped = ("B" if signature[10] == "A" else "A").join((signature[:10], signature[11:]))
    refused(f"{head}.{body}.{flipped}", jwks, "bad signature")
    refused(f"{head}.{body}.", jwks, "bad signature")
    refused(f"{head}.{body}.!!", jwks, "bad signature")


def test_bad_signature_another_key_with_the_same_kid(ring, jwks, impostor):
    refused(token(ring, key=impostor), jwks, "bad signature")


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none(ring, jwks, alg):
    unsigned = f"{segment(header(ring, alg=alg))}.{segment(claims())}."
    refused(unsigned, jwks, "unsupported algorithm")
    refused(unsigned + "c2ln", jwks, "unsupported algorithm")


def test_hs256_signed_with_the_rsa_public_key(ring, jwks):
    """The algorithm-confusion attack: the public key's bytes used as the HMAC secret."""
    public = ring.current.public_key()
    for secret in (public.as_pem(), public.as_der(), json.dumps(ring.jwks()["keys"][0]).encode(),
                   ring.jwks()["keys"][0]["n"].encode()):
        signing_input = f"{segment(header(ring, alg='HS256'))}.{segment(claims())}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        refused(f"{signing_input}.{b64(mac)}", jwks, "unsupported algorithm")


@pytest.mark.parametrize("algorithms", [("HS256",), ("RS256", "HS256"), ("none",), ("RS256", "none"), (), "RS256"])
def test_verify_cannot_be_told_to_accept_symmetric_or_no_signatures(ring, jwks, algorithms):
    with pytest.raises((ValueError, TypeError)):
        check(token(ring), jwks, algorithms=algorithms)


@pytest.mark.parametrize("alg", ["RS512", "RS384", "PS256", "PS512"])
def test_an_algorithm_outside_the_allowed_list_signed_by_the_same_key(ring, jwks, alg):
    refused(token(ring, head=header(ring, alg=alg)), jwks, "unsupported algorithm")


def test_an_allowed_algorithm_the_key_is_not_published_for(ring, jwks):
    # The published JWK says alg RS256: a PS256 signature by the same key is not accepted
    # even when PS256 is an allowed algorithm.
    refused(token(ring, head=header(ring, alg="PS256")), jwks, "unusable key",
            algorithms=("RS256", "PS256"))


def test_an_allowed_algorithm_with_a_key_that_allows_it(ring):
    unrestricted = KeySet([RSAKey.import_key({k: v for k, v in ring.jwks()["keys"][0].items()
                                              if k != "alg"})])
    value = token(ring, head=header(ring, alg="PS256"))
    assert check(value, unrestricted, algorithms=("RS256", "PS256")).subject == "ws-user-1"
    refused(value, unrestricted, "unsupported algorithm")


def test_unknown_kid(ring, jwks):
    error = refused(token(ring, head=header(ring, kid="rotated-away")), jwks, "unknown key")
    assert isinstance(error, UnknownKey)
    assert isinstance(error, InvalidToken)


def test_missing_kid(ring, jwks):
    error = refused(token(ring, head=header(ring, kid=None)), jwks, "missing key id")
    assert not isinstance(error, UnknownKey)
    refused(token(ring, head=header(ring, kid="")), jwks, "missing key id")


def test_a_kid_naming_a_key_of_the_wrong_type_or_use(ring):
    kid = ring.current.kid
    ec = ECKey.generate_key("P-256", parameters={"kid": kid}, private=False)
    refused(token(ring), KeySet([ec]), "unusable key")
    public = {k: v for k, v in ring.jwks()["keys"][0].items() if k not in ("alg", "use")}
    refused(token(ring), KeySet([RSAKey.import_key({**public, "use": "enc"})]), "unusable key")
    refused(token(ring), KeySet([RSAKey.import_key({**public, "key_ops": ["encrypt"]})]), "unusable key")
    assert check(token(ring), KeySet([ec, RSAKey.import_key(public)])).subject == "ws-user-1"


def test_a_key_under_2048_bits_is_not_used(ring):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = RSAKey.generate_key(1024, parameters={"kid": "small"})
    refused(token(ring, head=header(ring, kid="small"), key=small), KeySet([small]), "unusable key")


@pytest.mark.parametrize("name", ["exp", "iss", "aud", "sub", "jti", "iat", "entity"])
def test_missing_claims(ring, jwks, name):
    refused(token(ring, claims(**{name: None})), jwks, "missing claim", name)


def test_missing_client_id(ring, jwks):
    refused(token(ring, claims(client_id=None)), jwks, "missing claim", "client_id")
    refused(token(ring, claims(client_id=None, azp="bi-tool")), jwks, "missing claim", "client_id")


def test_every_missing_claim_is_named(ring, jwks):
    refused(token(ring, {"scope": "ledger:read"}), jwks, "missing claim",
            "aud,entity,exp,iat,iss,jti,sub,client_id")


@pytest.mark.parametrize(("changes", "name"), [
    ({"exp": "tomorrow"}, "exp"),
    ({"exp": True}, "exp"),
    ({"exp": 10**12}, "exp"),  # far beyond year 9999
    ({"nbf": "now"}, "nbf"),
    ({"iat": [1]}, "iat"),
    ({"iss": 7}, "iss"),
    ({"aud": 7}, "aud"),
    ({"sub": 7}, "sub"),
    ({"sub": ""}, "sub"),
    ({"jti": ""}, "jti"),
    ({"jti": 7}, "jti"),
    ({"client_id": ""}, "client_id"),
    ({"client_id": ["bi-tool"]}, "client_id"),
    ({"entity": ""}, "entity"),
    ({"entity": 1}, "entity"),
    ({"scope": "ledger:read  ledger:post"}, "scope"),
    ({"scope": 5}, "scope"),
    ({"scope": ["ledger:read", "a b"]}, "scope"),
])
def test_invalid_claims(ring, jwks, changes, name):
    refused(token(ring, claims(**changes)), jwks, "invalid claim", name)


def test_no_scope_claim_is_no_scopes(ring, jwks):
    assert check(token(ring, claims(scope=None)), jwks).scopes == frozenset()


@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+JWS", None])
def test_our_tokens_must_say_at_jwt(ring, jwks, typ):
    refused(token(ring, head=header(ring, typ=typ)), jwks, "wrong token type")


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt"])
def test_at_jwt_is_compared_as_a_media_type(ring, jwks, typ):
    assert check(token(ring, head=header(ring, typ=typ)), jwks).subject == "ws-user-1"


def test_the_type_is_judged_only_after_the_signature(ring, jwks, impostor):
    refused(token(ring, head=header(ring, typ="JWT"), key=impostor), jwks, "bad signature")


# --- rotation ------------------------------------------------------------------------------


def test_a_token_of_the_old_key_verifies_while_it_is_published_not_after(ring):
    old = issue(ring, issuer=ISSUER, audience=AUDIENCE, subject="u", client_id="c", entity="E",
                scopes=SCOPES, now=T0)
    rotated = ring.rotate(T0 + dt.timedelta(minutes=5))
    new = issue(rotated, issuer=ISSUER, audience=AUDIENCE, subject="u", client_id="c",
                entity="E", scopes=SCOPES, now=T0 + dt.timedelta(minutes=5))
    assert decode_part(new.split(".")[0])["kid"] == rotated.current.kid != ring.current.kid
    later = T0 + dt.timedelta(minutes=6)
    assert check(old, rotated.public_key_set(), now=later).subject == "u"
    assert check(new, rotated.public_key_set(), now=later).subject == "u"

    retired = rotated.retire_older_than(T0 + dt.timedelta(minutes=5), now=later)
    assert retired.get(ring.current.kid).retired
    refused(old, retired.public_key_set(), "unknown key", now=later)
    assert check(new, retired.public_key_set(), now=later).subject == "u"
    # the old ring's key set does not know the new key
    refused(new, ring.public_key_set(), "unknown key", now=later)


# --- external issuers ----------------------------------------------------------------------


EXTERNAL_ISSUER = "https://idp.example/"


@pytest.fixture(scope="module")
def idp():
    key = generate_signing_key(T0)
    return KeyRing((key,))


def external(idp, payload, typ="JWT"):
    head = {"alg": "RS256", "kid": idp.current.kid}
    if typ:
        head["typ"] = typ
    return token(idp, payload, head=head)


def idp_claims(**changes):
    base = {"iss": EXTERNAL_ISSUER, "aud": AUDIENCE, "sub": "svc-user", "exp": NOW + 300}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def check_external(value, idp, rules=None):
    return verify(value, jwks=idp.public_key_set(), issuer=EXTERNAL_ISSUER, audience=AUDIENCE,
                  now=NOW, rules=rules or ClaimRules.external(entity_claim="org"))


@pytest.mark.parametrize(("changes", "client_id", "scopes"), [
    ({"azp": "app-1", "scp": ["ledger:read", "audit:read"]}, "app-1", {"ledger:read", "audit:read"}),
    ({"client_id": "app-1", "scope": "ledger:read"}, "app-1", {"ledger:read"}),
    ({"azp": "app-1", "scp": "ledger:read audit:read"}, "app-1", {"ledger:read", "audit:read"}),
    ({"azp": "app-1", "client_id": "app-1"}, "app-1", set()),
    ({"azp": "app-1", "scope": "ledger:read", "scp": ["audit:read"]}, "app-1", {"ledger:read", "audit:read"}),
])
def test_external_claims_map_to_the_same_principal(idp, changes, client_id, scopes):
    assert check_external(external(idp, idp_claims(org="ACME", **changes)), idp) == AccessClaims(
        subject="svc-user", client_id=client_id, entity="ACME", scopes=frozenset(scopes),
        jti=None, expires_at=T0 + dt.timedelta(seconds=300), issuer=EXTERNAL_ISSUER)


def test_external_tokens_may_lack_typ_jti_and_iat_unless_told_otherwise(idp):
    value = external(idp, idp_claims(azp="app-1", org="ACME"), typ=None)
    assert check_external(value, idp).jti is None
    with pytest.raises(InvalidToken) as caught:
        check_external(value, idp, ClaimRules.external(entity_claim="org", require_jti=True))
    assert (caught.value.reason, caught.value.claim) == ("missing claim", "jti")
    with pytest.raises(InvalidToken) as caught:
        check_external(value, idp, ClaimRules.external(entity_claim="org", token_types=("at+jwt",)))
    assert caught.value.reason == "wrong token type"


def test_external_without_an_entity_claim(idp):
    value = external(idp, idp_claims(azp="app-1"))
    assert check_external(value, idp, ClaimRules.external()).entity is None
    with pytest.raises(InvalidToken) as caught:
        check_external(value, idp)
    assert (caught.value.reason, caught.value.claim) == ("missing claim", "org")


@pytest.mark.parametrize(("changes", "reason", "claim"), [
    ({}, "missing claim", "client_id|azp"),
    ({"azp": "app-1", "client_id": "app-2"}, "invalid claim", "client_id"),
    ({"azp": "app-1", "scp": [1]}, "invalid claim", "scp"),
    ({"azp": "app-1", "scp": {"a": 1}}, "invalid claim", "scp"),
    ({"azp": "app-1", "iss": ISSUER}, "wrong issuer", None),
])
def test_external_claims_that_do_not_map(idp, changes, reason, claim):
    with pytest.raises(InvalidToken) as caught:
        check_external(external(idp, idp_claims(org="ACME", **changes)), idp)
    assert (caught.value.reason, caught.value.claim) == (reason, claim)


def test_our_own_rules_do_not_accept_azp_or_scp(ring, jwks):
    value = token(ring, claims(client_id=None, azp="bi-tool", scope=None, scp=["audit:read"]))
    refused(value, jwks, "missing claim", "client_id")


@pytest.mark.parametrize("arguments", [
    {"client_id_claims": ()},
    {"scope_claims": ()},
    {"client_id_claims": ("sub",)},
    {"entity_claim": "exp"},
    {"entity_claim": ""},
    {"scope_claims": ("scope", "client_id")},
    {"token_types": "at+jwt"},
    {"token_types": ()},
])
def test_claim_rules_refuse_nonsense(arguments):
    with pytest.raises(ValueError):
        ClaimRules(**arguments)


def test_the_default_rules_are_our_own():
    rules = OWN_TOKENS
    assert (rules.client_id_claims, rules.scope_claims, rules.entity_claim) == (("client_id",), ("scope",), "entity")
    assert (rules.require_jti, rules.require_iat, rules.token_types) == (True, True, ("at+jwt",))
    assert ClaimRules(token_types=("application/AT+JWT",)).token_types == ("at+jwt",)


def test_a_signing_key_object_is_not_a_key_set(ring):
    with pytest.raises(TypeError):
        verify(token(ring), jwks=ring.current.public_key(), issuer=ISSUER, audience=AUDIENCE, now=NOW)
    assert isinstance(ring.current, SigningKey)


def es_token(key: ECKey, alg: str, payload) -> str:
    signing_input = f"{segment({'alg': alg, 'kid': key.kid, 'typ': 'JWT'})}.{segment(payload)}"
    digest = _HASHES[alg[2:]]()
    r, s = decode_dss_signature(key.private_key.sign(signing_input.encode(), ec.ECDSA(digest)))
    size = (key.private_key.curve.key_size + 7) // 8
    return f"{signing_input}.{b64(r.to_bytes(size, 'big') + s.to_bytes(size, 'big'))}"


def test_an_external_issuer_signing_with_es256():
    key = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    published = KeySet([ECKey.import_key(key.as_dict(private=False))])
    value = es_token(key, "ES256", idp_claims(azp="app-1", scope="ledger:read"))
    rules = ClaimRules.external()
    claims_ = verify(value, jwks=published, issuer=EXTERNAL_ISSUER, audience=AUDIENCE, now=NOW,
                     algorithms=("ES256", "RS256"), rules=rules)
    assert (claims_.client_id, claims_.scopes) == ("app-1", frozenset({"ledger:read"}))
    with pytest.raises(InvalidToken) as caught:
        verify(value, jwks=published, issuer=EXTERNAL_ISSUER, audience=AUDIENCE, now=NOW, rules=rules)
    assert caught.value.reason == "unsupported algorithm"
    # A P-384 key under the same kid is not used for ES256.
    other = ECKey.generate_key("P-384", parameters={"kid": "ec-1"}, private=False)
    with pytest.raises(InvalidToken) as caught:
        verify(value, jwks=KeySet([other]), issuer=EXTERNAL_ISSUER, audience=AUDIENCE, now=NOW,
               algorithms=("ES256",), rules=rules)
    assert caught.value.reason == "unusable key"
