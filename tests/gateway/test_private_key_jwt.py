"""`private_key_jwt` client authentication at `/oauth/token` (OpenID Connect Core §9,
RFC 7523 §2.2) through the real app: clients added with a public JWK set sign assertions
with keys generated here (joserfc); the negative matrix, replay, key rotation, the rate
limits and audit rows, and `ledgergate clients add --jwks` / `clients set-keys`."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import text

from gateway.app import create_app
from gateway.auth import identities
from gateway.auth.client_assertion import ASSERTION_TYPE, LEEWAY, MAX_LIFETIME
from gateway.auth.tokens import verify
from gateway.cli import main
from gateway.config import RateLimitSettings
from gateway.secrets import KEY_ENV, new_key_text
from resolvers.sources.catalog import SourceCatalog
from tests.gateway.oauth_support import (
    AUDIENCE,
    ISSUER,
    Party,
    add_party,
    asgi_client,
    b64,
    basic_auth,
    oauth_settings,
    request_token,
    segment,
)

TOKEN_URL = ISSUER + "/oauth/token"
AUTH_FAILED = {"error": "invalid_client", "error_description": "client authentication failed"}
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
UNKNOWN_ID = "lgc_AAAAAAAAAAAAAAAA"


def rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"})


def ec_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig"})


def public_jwks(*keys) -> str:
    return json.dumps({"keys": [key.as_dict(private=False) for key in keys]})


def sign(key, claims: dict, alg: str = "RS256", kid: str | None = "use-key") -> str:
    header = {"alg": alg}
    if kid == "use-key":
        kid = key.kid
    if kid is not None:
        header["kid"] = kid
    return jwt.encode(header, claims, key, algorithms=[alg])


def claims_for(client_id: str, **changes) -> dict:
    """An assertion's claims for `client_id`, valid now; a change to None drops the claim."""
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "exp": now + 60,
              "iat": now, "jti": secrets.token_urlsafe(16)}
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


@dataclass
class Keyed:
    app: object
    http: httpx.AsyncClient
    db: object
    rsa: RSAKey
    ec: ECKey
    client_id: str  # private_key_jwt with rsa and ec; ACME as bot
    disabled_id: str  # private_key_jwt with rsa, disabled
    secret: Party  # a client with a secret; ACME as bot

    def assertion(self, key=None, alg: str = "RS256", client_id: str | None = None,
                  kid: str | None = "use-key", **changes) -> str:
        return sign(key or self.rsa, claims_for(client_id or self.client_id, **changes), alg, kid)

    async def token(self, assertion: str, headers: dict | None = None, **form) -> httpx.Response:
        form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion, **form}
        return await self.http.post("/oauth/token", data=form, headers=headers or {})

    async def audit_rows(self):
        async with self.db.engine.connect() as connection:
            return (await connection.execute(text(
                "SELECT event, outcome, client_id FROM audit_events ORDER BY id"
            ))).all()


async def _setup(world, monkeypatch, settings) -> tuple:
    monkeypatch.setenv(KEY_ENV, new_key_text())
    db = world.db
    await identities.add_role(db, "reader", "ledger:read")
    await identities.add_user(db, "ACME", "bot", "reader")
    rsa, ec = rsa_key("rsa-1"), ec_key("ec-1")
    client = await identities.add_key_client(db, "Keyed", "ledger:read", public_jwks(rsa, ec))
    await identities.allow(db, client.client_id, "ACME", "bot")
    disabled = await identities.add_key_client(db, "Gone", "ledger:read", public_jwks(rsa))
    await identities.allow(db, disabled.client_id, "ACME", "bot")
    await identities.disable_client(db, disabled.client_id)
    secret = await add_party(db, "Secret", "ledger:read", "ACME", "bot")
    app = create_app(settings, db=db, sources=SourceCatalog())
    return app, db, rsa, ec, client.client_id, disabled.client_id, secret


@pytest.fixture
async def keyed(world, monkeypatch) -> AsyncIterator[Keyed]:
    app, *rest = await _setup(world, monkeypatch, oauth_settings())
    async with asgi_client(app) as http:
        yield Keyed(app, http, *rest)


async def _assert_issued(keyed: Keyed, response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["token_type"], body["scope"]) == ("Bearer", "ledger:read")
    jwks = KeySet.import_key_set((await keyed.http.get("/.well-known/jwks.json")).json())
    claims = verify(body["access_token"], jwks=jwks, issuer=ISSUER, audience=AUDIENCE,
                    now=dt.datetime.now(dt.UTC))
    assert (claims.client_id, claims.subject, claims.entity) == (keyed.client_id, "bot", "ACME")


def _assert_auth_failed(response: httpx.Response) -> None:
    assert (response.status_code, response.json()) == (401, AUTH_FAILED), response.text
    assert response.headers["www-authenticate"] == 'Basic realm="ledgergate"'
    for name, value in NO_STORE.items():
        assert response.headers[name] == value
    assert "access_token" not in response.text


# --- success ---------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
async def test_an_assertion_signed_with_a_clients_key_gets_a_token(keyed, alg):
    key = keyed.ec if alg == "ES256" else keyed.rsa
    await _assert_issued(keyed, await keyed.token(keyed.assertion(key, alg)))


@pytest.mark.parametrize("changes", [
    {"aud": ISSUER},  # the issuer is an audience too
    {"aud": ["https://elsewhere.example.com", TOKEN_URL]},
    {"iat": None, "nbf": int(time.time())},  # iat is optional
    {"kid": None},  # without a kid each fitting key is tried
])
async def test_accepted_variants(keyed, changes):
    changes = dict(changes)
    kid = changes.pop("kid", "use-key")
    await _assert_issued(keyed, await keyed.token(keyed.assertion(kid=kid, **changes)))


async def test_a_matching_client_id_parameter_is_accepted(keyed):
    response = await keyed.token(keyed.assertion(), client_id=keyed.client_id)
    await _assert_issued(keyed, response)


# --- refusals --------------------------------------------------------------------------------


def _hs256_with_the_public_key(keyed: Keyed) -> str:
    # The algorithm-confusion attack: the public key (which anyone has) as an HMAC secret.
    pem = keyed.rsa.as_pem(private=False)
    signing_input = f"{segment({'alg': 'HS256', 'kid': 'rsa-1'})}.{segment(claims_for(keyed.client_id))}"
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


REFUSALS = {
    "wrong key": (lambda k: k.assertion(rsa_key("rsa-1")), "bad signature"),
    "unknown kid": (lambda k: k.assertion(rsa_key("rsa-9")), "no key of the client has kid 'rsa-9'"),
    "EC key for RS256": (lambda k: k.assertion(k.ec, "ES256", kid="rsa-1"),
                         "no key of the client has kid 'rsa-1' for ES256"),
    "unknown client": (lambda k: k.assertion(client_id=UNKNOWN_ID),
                       f"client {UNKNOWN_ID}, unknown, disabled or without keys"),
    "disabled client": (lambda k: k.assertion(client_id=k.disabled_id),
                        "unknown, disabled or without keys"),
    "client with a secret": (lambda k: k.assertion(client_id=k.secret.client_id),
                             "unknown, disabled or without keys"),
    "iss not a client id": (lambda k: k.assertion(sub="x", iss="someone"),
                            "client -, unknown, disabled or without keys"),
    "wrong sub": (lambda k: k.assertion(sub=UNKNOWN_ID), "sub is not the client id"),
    "wrong aud": (lambda k: k.assertion(aud="https://elsewhere.example.com/oauth/token"),
                  "aud names neither the token endpoint nor the issuer"),
    "no aud": (lambda k: k.assertion(aud=None), "aud names neither"),
    "expired": (lambda k: k.assertion(exp=int(time.time()) - LEEWAY - 1), "expired"),
    "exp too far ahead": (lambda k: k.assertion(exp=int(time.time()) + 3600),
                          f"exp is more than {MAX_LIFETIME} s ahead"),
    "no exp": (lambda k: k.assertion(exp=None), "exp missing or not a number"),
    "nbf in the future": (lambda k: k.assertion(nbf=int(time.time()) + 600), "nbf in the future"),
    "iat in the future": (lambda k: k.assertion(iat=int(time.time()) + 600), "iat in the future"),
    "no jti": (lambda k: k.assertion(jti=None), "jti missing"),
    "alg none": (lambda k: f"{segment({'alg': 'none', 'kid': 'rsa-1'})}."
                           f"{segment(claims_for(k.client_id))}.", "algorithm 'none' is not accepted"),
    "HS256 with the public key": (_hs256_with_the_public_key, "algorithm 'HS256' is not accepted"),
    "embedded jwk": (lambda k: f"{segment({'alg': 'RS256', 'jwk': {}})}."
                               f"{segment(claims_for(k.client_id))}.c2ln", "assertion malformed"),
    "malformed": (lambda k: "not-a-jwt", "assertion malformed (no readable iss)"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
async def test_every_failure_is_the_same_invalid_client(keyed, case, caplog):
    caplog.set_level(logging.DEBUG)
    make, reason = REFUSALS[case]
    assertion = make(keyed)
    response = await keyed.token(assertion)
    _assert_auth_failed(response)
    refusals = [r.getMessage() for r in caplog.records if "client assertion refused" in r.getMessage()]
    assert len(refusals) == 1 and reason in refusals[0], refusals
    assert assertion not in caplog.text
    for part in assertion.split("."):
        assert len(part) < 8 or part not in caplog.text
    assert not any(row.event == "token_issued" for row in await keyed.audit_rows())


async def test_a_replayed_assertion_is_refused(keyed, caplog):
    caplog.set_level(logging.INFO)
    assertion = keyed.assertion()
    await _assert_issued(keyed, await keyed.token(assertion))
    _assert_auth_failed(await keyed.token(assertion))
    assert "jti used before (a replay)" in caplog.text
    assert assertion not in caplog.text
    # The jti is the client's: another assertion with a new jti is fine.
    await _assert_issued(keyed, await keyed.token(keyed.assertion()))


async def test_one_assertion_sent_twice_at_once_gets_one_token(keyed):
    assertion = keyed.assertion()
    responses = await asyncio.gather(keyed.token(assertion), keyed.token(assertion))
    assert sorted(r.status_code for r in responses) == [200, 401]


async def test_used_jtis_are_kept_until_the_assertion_expires_then_purged(keyed):
    db, client = keyed.db, keyed.client_id
    assert await identities.use_assertion_jti(db, client, "one", expires_at=1_000, now=900)
    assert not await identities.use_assertion_jti(db, client, "one", expires_at=1_000, now=950)
    assert await identities.use_assertion_jti(db, client, "two", expires_at=2_000, now=1_001)
    async with db.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT jti FROM client_assertion_jtis"))).all()
    assert [row.jti for row in rows] == ["two"]  # "one" expired and was deleted
    assert await identities.use_assertion_jti(db, client, "one", expires_at=3_000, now=1_001)


async def test_a_wrong_assertion_type_is_invalid_client(keyed):
    response = await keyed.token(keyed.assertion(),
                                 client_assertion_type="urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
    assert (response.status_code, response.json()) == (401, {
        "error": "invalid_client",
        "error_description": f"client_assertion_type must be {ASSERTION_TYPE}",
    })


@pytest.mark.parametrize("case", ["basic and assertion", "secret and assertion", "no type",
                                  "no assertion", "other client_id"])
async def test_mixed_or_partial_mechanisms_are_invalid_request(keyed, case):
    assertion = keyed.assertion()
    form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion}
    headers = {}
    description = "use one client authentication method, not two"
    if case == "basic and assertion":
        headers = basic_auth(keyed.secret)
    elif case == "secret and assertion":
        form.update(client_id=keyed.client_id, client_secret="anything")
    elif case == "no type":
        del form["client_assertion_type"]
        description = "client_assertion and client_assertion_type go together"
    elif case == "no assertion":
        del form["client_assertion"]
        description = "client_assertion and client_assertion_type go together"
    else:
        form["client_id"] = keyed.secret.client_id
        description = "client_id differs from the client assertion's iss"
    response = await keyed.http.post("/oauth/token", data=form, headers=headers)
    assert (response.status_code, response.json()) == (
        400, {"error": "invalid_request", "error_description": description})
    assert "access_token" not in response.text
    # The assertion was not spent: it still works alone.
    if case not in ("no assertion",):
        await _assert_issued(keyed, await keyed.token(assertion))


@pytest.mark.parametrize("basic", [True, False])
async def test_a_key_client_has_no_secret(keyed, basic):
    # Not even the marker stored in place of its hash.
    for guess in (identities.NO_SECRET, "", "x" * 43):
        response = await request_token(keyed.http, Party(keyed.client_id, guess), basic=basic)
        _assert_auth_failed(response)


async def test_rotating_the_keys_refuses_the_old_one_at_once(keyed):
    await _assert_issued(keyed, await keyed.token(keyed.assertion()))
    new = rsa_key("rsa-2")
    info = await identities.set_client_keys(keyed.db, keyed.client_id, public_jwks(new))
    assert info.method == "private_key_jwt"
    _assert_auth_failed(await keyed.token(keyed.assertion()))
    _assert_auth_failed(await keyed.token(keyed.assertion(keyed.ec, "ES256")))
    await _assert_issued(keyed, await keyed.token(keyed.assertion(new)))


async def test_a_secret_client_moved_to_keys_and_back(keyed):
    party = keyed.secret
    key = ec_key("k")
    await identities.set_client_keys(keyed.db, party.client_id, public_jwks(key))
    _assert_auth_failed(await request_token(keyed.http, party))  # its secret is gone
    assertion = sign(key, claims_for(party.client_id), "ES256")
    assert (await keyed.token(assertion)).status_code == 200
    _, secret = await identities.reset_client_secret(keyed.db, party.client_id)
    assert (await request_token(keyed.http, Party(party.client_id, secret))).status_code == 200
    _assert_auth_failed(await keyed.token(sign(key, claims_for(party.client_id), "ES256")))


async def test_the_metadata_names_the_method_and_algorithms(keyed):
    document = (await keyed.http.get("/.well-known/oauth-authorization-server")).json()
    assert "private_key_jwt" in document["token_endpoint_auth_methods_supported"]
    assert document["token_endpoint_auth_signing_alg_values_supported"] == ["ES256", "PS256", "RS256"]


# --- audit rows and rate limits ----------------------------------------------------------


async def test_audit_rows_name_the_presented_client(keyed):
    await keyed.token(keyed.assertion())
    await keyed.token(keyed.assertion(rsa_key("rsa-1")))  # wrong key
    await keyed.token(keyed.assertion(iss="not a client id", sub="x"))
    await keyed.token("garbage")
    assert await keyed.audit_rows() == [
        ("token_issued", "OK", keyed.client_id),
        ("token_refused", "invalid_client", keyed.client_id),
        ("token_refused", "invalid_client", None),
        ("token_refused", "invalid_client", None),
    ]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_assertions_count_against_the_client_and_the_address(world, monkeypatch):
    rates = RateLimitSettings(requests_per_second=2, burst=3, token_requests_per_minute=4,
                              token_requests_per_minute_per_address=6)
    app, db, rsa, ec, client_id, disabled_id, secret = await _setup(
        world, monkeypatch, replace(oauth_settings(), rate_limit=rates))
    app.state.rate_limits.clock = Clock()
    async with asgi_client(app, "10.7.0.1") as http:
        keyed = Keyed(app, http, db, rsa, ec, client_id, disabled_id, secret)
        for _ in range(4):  # wrong keys, all counted against the iss they present
            _assert_auth_failed(await keyed.token(keyed.assertion(rsa_key("rsa-1"))))
        response = await keyed.token(keyed.assertion())  # the right key, from there: too late
        assert response.status_code == 429
        assert response.json() == {
            "error": "temporarily_unavailable",
            "error_description": "too many token requests for this client from this address "
                                 "(at most 4 a minute); retry after 15 s",
        }
    async with asgi_client(app, "10.7.0.2") as http:
        keyed.http = http
        # From its own address the client is not locked out by the guesses from another.
        assert (await keyed.token(keyed.assertion())).status_code == 200
        # The client with a secret has a budget of its own.
        assert (await request_token(http, secret)).status_code == 200
        for _ in range(4):
            await keyed.token(keyed.assertion(client_id=UNKNOWN_ID))
        response = await keyed.token(keyed.assertion(client_id="lgc_BBBBBBBBBBBBBBBB"))
        assert (response.status_code, response.json()["error_description"]) == (
            429, "too many token requests from this address (at most 6 a minute); retry after 10 s")
    # Over the limit: no audit row each (as for secrets).
    rows = await keyed.audit_rows()
    assert [row.outcome for row in rows].count("temporarily_unavailable") == 0


# --- ledgergate clients add --jwks / set-keys ---------------------------------------------


@pytest.fixture
def clients_cli(tmp_path, db, monkeypatch, capsys):
    monkeypatch.delenv("LEDGERGATE_DATABASE_URL", raising=False)
    url = db.engine.url.render_as_string(hide_password=False)
    config = tmp_path / "lg.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')

    async def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = await asyncio.to_thread(main, [*argv, "--config", str(config)])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


async def test_clients_add_with_a_jwks_and_set_keys(clients_cli, db, tmp_path):
    first, second = rsa_key("one"), ec_key("two")
    jwks = tmp_path / "client.jwks"
    jwks.write_text(public_jwks(first))
    code, out, err = await clients_cli("clients", "add", "Signer", "--scopes", "ledger:read",
                                       "--jwks", str(jwks))
    assert code == 0, err
    assert out.startswith("client_id=lgc_") and out.count("\n") == 1 and "secret" not in out
    client_id = out.strip().removeprefix("client_id=")
    assert "authenticates with private_key_jwt" in err and "has no secret" in err
    code, out, _ = await clients_cli("clients", "list")
    assert out == f"{client_id}\tSigner\tactive\tprivate_key_jwt\tledger:read\t-\n"

    _, keys = await identities.client_key_set(db, client_id)
    assert [key.kid for key in keys.keys] == ["one"]
    async with db.engine.connect() as connection:
        stored = await connection.scalar(
            text("SELECT jwks FROM api_clients WHERE client_id = :c"), {"c": client_id})
    assert '"d"' not in stored and first.as_dict(private=False)["n"] in stored

    jwks.write_text(public_jwks(second))
    code, out, err = await clients_cli("clients", "set-keys", client_id, "--jwks", str(jwks))
    assert (code, out) == (0, "")
    assert err.startswith(f"new keys for client {client_id} (Signer): assertions signed with a key "
                          "not in the set given are refused from now on")
    _, keys = await identities.client_key_set(db, client_id)
    assert [key.kid for key in keys.keys] == ["two"]

    code, out, err = await clients_cli("clients", "set-keys", UNKNOWN_ID, "--jwks", str(jwks))
    assert (code, err) == (2, f"ledgergate: no client {UNKNOWN_ID}\n")


def _private(key) -> str:
    return json.dumps({"keys": [key.as_dict(private=True)]})


@pytest.mark.filterwarnings("ignore:Key size should be")
@pytest.mark.parametrize("content, message", [
    ("{not json", "the JWK set is not JSON"),
    ('{"keys": []}', "the JWK set has no keys"),
    ('[{"kty": "RSA"}]', 'not a JWK set: a JSON object with a "keys" list is expected'),
    ("private rsa", "key 1 (kid 'p') is a private key (it has d, p, q, dp, dq, qi): give only the "
                    "public keys; the private key stays with the client"),
    ("private ec", "key 1 (kid 'p') is a private key (it has d): give only the public keys; the "
                   "private key stays with the client"),
    ('{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}',
     "key 1 (kid 's') is a symmetric key (kty oct): private_key_jwt needs public RSA or EC keys"),
    ("small rsa", "key 1 (kid 'p') is an RSA key of 1024 bits: at least 2048 are needed"),
    ("p384", "key 1 (kid 'p') is on curve P-384: ES256 needs P-256"),
    ('{"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "alg": "HS256"}]}',
     "key 1 has alg 'HS256': use one of ES256, PS256, RS256"),
    ('{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}]}',
     "key 1 has kty 'OKP': use RSA or EC (P-256) keys"),
    ("twins", "two keys of the JWK set have the same kid"),
])
async def test_a_bad_jwks_file_is_refused_precisely(clients_cli, db, tmp_path, content, message):
    made = {
        "private rsa": lambda: _private(rsa_key("p")),
        "private ec": lambda: _private(ec_key("p")),
        "small rsa": lambda: public_jwks(RSAKey.generate_key(1024, parameters={"kid": "p"},
                                                             private=True, auto_kid=False)),
        "p384": lambda: public_jwks(ECKey.generate_key("P-384", parameters={"kid": "p"})),
        "twins": lambda: public_jwks(rsa_key("same"), ec_key("same")),
    }
    path = tmp_path / "bad.jwks"
    path.write_text(made[content]() if content in made else content)
    code, out, err = await clients_cli("clients", "add", "Bad", "--scopes", "ledger:read",
                                       "--jwks", str(path))
    assert (code, out, err) == (2, "", f"ledgergate: {path}: {message}\n")
    assert await identities.list_clients(db) == []
    if content in ("private rsa", "private ec"):
        assert '"d"' not in err


async def test_a_missing_jwks_file_is_named(clients_cli, tmp_path):
    path = tmp_path / "nowhere.jwks"
    code, out, err = await clients_cli("clients", "set-keys", UNKNOWN_ID, "--jwks", str(path))
    assert (code, err) == (2, f"ledgergate: cannot read the JWK set {path}: No such file or directory\n")
