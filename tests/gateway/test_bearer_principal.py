"""/graphql with bearer tokens (`gateway.auth.principal`), through the real app: a token from
`/oauth/token` acts for its client, user and entity; every bad token is a 401 with the
RFC 6750 challenge, the reason, no data and no SQL beyond the actor lookup; a client
disabled, a user deactivated or an entity disallowed after issuance is refused within the
actor cache's lifetime (5 s), not at the token's expiry; entities stay isolated.

The resolver's clock (`app.state.principals.clock`) is a `Clock` here: real time plus an
offset the tests advance, so "6 seconds later" needs no sleep and tokens from the real
endpoint still verify.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import httpx
import pytest
from joserfc import jwt
from sqlalchemy import text

from gateway.app import create_app
from gateway.auth import identities, keystore, tokens
from gateway.auth.keys import generate_signing_key
from gateway.auth.principal import BearerPrincipalResolver
from gateway.secrets import KEY_ENV, new_key_text, parse_key
from resolvers.sources.catalog import SourceCatalog
from tests.conftest import StatementCounter
from tests.gateway.oauth_support import (
    AUDIENCE,
    ISSUER,
    TTL,
    Party,
    b64,
    oauth_settings,
    request_token,
    segment,
    split_audit,
)

ENTITY = "{ entity { code name baseCurrency } }"
CHALLENGE = 'Bearer realm="ledgergate"'
NO_TOKEN = "Authentication required: send an access token as Authorization: Bearer <token>"
NOT_BEARER = NO_TOKEN + " (the Authorization header does not use the Bearer scheme)"
ACME_SCOPES = "ledger:read statistical:read"


class Clock:
    """Epoch seconds: real time plus `offset`."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Bearer:
    http: httpx.AsyncClient
    app: object
    db: object
    clock: Clock
    acme: Party  # ACME as bot (role reader)
    beta: Party  # BETA as beta-bot (role poster)
    statements: StatementCounter

    @property
    def resolver(self) -> BearerPrincipalResolver:
        return self.app.state.principals

    async def token(self, party: Party | None = None, **form) -> str:
        response = await request_token(self.http, party or self.acme, **form)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    async def ring(self):
        return await self.app.state.oauth.keys.ring()

    async def issue(self, **overrides) -> str:
        """A token signed by the gateway's current key, claims overridden."""
        claims = dict(issuer=ISSUER, audience=AUDIENCE, subject="bot", client_id=self.acme.client_id,
                      entity="ACME", scopes=ACME_SCOPES.split(), now=time.time(), ttl=TTL)
        claims.update(overrides)
        return tokens.issue(await self.ring(), **claims)

    async def graphql(self, token: str | None, query: str = ENTITY, *, authorization=None,
                      variables=None) -> httpx.Response:
        headers = {}
        if authorization is not None:
            headers["Authorization"] = authorization
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return await self.http.post("/graphql", json={"query": query, "variables": variables or {}},
                                    headers=headers)


@pytest.fixture
async def bearer(world, monkeypatch) -> AsyncIterator[Bearer]:
    monkeypatch.setenv(KEY_ENV, new_key_text())
    db = world.db
    await identities.add_role(db, "reader", "ledger:read statistical:read")
    await identities.add_role(db, "poster", "ledger:read ledger:post")
    await identities.add_user(db, "ACME", "bot", "reader")
    await identities.add_user(db, "ACME", "other-bot", "reader")
    await identities.add_user(db, "BETA", "beta-bot", "poster")

    async def client(name, scopes, entity, user):
        info, secret = await identities.add_client(db, name, scopes)
        await identities.allow(db, info.client_id, entity, user)
        return Party(info.client_id, secret)

    acme = await client("Acme reader", "ledger:read ledger:post statistical:read", "ACME", "bot")
    beta = await client("Beta poster", "ledger:read ledger:post", "BETA", "beta-bot")

    app = create_app(oauth_settings(), db=db, sources=SourceCatalog())
    clock = Clock()
    app.state.principals.clock = clock
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledgergate.test") as http:
        yield Bearer(http, app, db, clock, acme, beta, StatementCounter(db))


def assert_refused(response: httpx.Response, message: str, challenge: str, *secrets: str) -> None:
    """401, the challenge, exactly one UNAUTHENTICATED error with `message`, no data, and
    none of `secrets` (the token) anywhere in the response."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == challenge
    assert response.json() == {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
    for secret in secrets:
        assert secret not in response.text and secret not in str(response.headers)


def invalid(reason: str) -> tuple[str, str]:
    """The message and the challenge of an invalid token."""
    return (
        f"Invalid access token: {reason}",
        f'Bearer realm="ledgergate", error="invalid_token", error_description="{reason}"',
    )


# --- a good token ---------------------------------------------------------------------------


async def test_a_token_from_the_token_endpoint_reads_its_entity(bearer):
    token = await bearer.token()
    response = await bearer.graphql(token)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"entity": {"code": "ACME", "name": "Acme Software Inc.",
                                                   "baseCurrency": "USD"}}}
    beta = await bearer.graphql(await bearer.token(bearer.beta))
    assert beta.json()["data"]["entity"]["code"] == "BETA"


async def test_the_principal(bearer):
    token = await bearer.token(scope="ledger:read")
    principal = await bearer.resolver.principal({"authorization": f"Bearer {token}"})
    assert principal.subject == f"{bearer.acme.client_id}/bot"
    assert (principal.entity.code, principal.entity.name, principal.entity.base_currency,
            principal.entity.money_scale) == ("ACME", "Acme Software Inc.", "USD", 2)
    assert principal.entity.id == (await identities.actor(bearer.db, bearer.acme.client_id, "ACME")).entity_id
    assert principal.scopes == {"ledger:read"}
    # The scheme is case-insensitive (RFC 7235).
    again = await bearer.resolver.principal({"authorization": f"bearer {token}"})
    assert again == principal


async def test_scopes_are_those_of_the_token_the_client_and_the_role_as_they_are_now(bearer):
    token = await bearer.token()  # ledger:read statistical:read (the role's)
    headers = {"authorization": f"Bearer {token}"}
    assert (await bearer.resolver.principal(headers)).scopes == {"ledger:read", "statistical:read"}
    async with bearer.db.engine.begin() as connection:
        await connection.execute(text("UPDATE roles SET scopes = 'ledger:read' WHERE name = 'reader'"))
    # Within the cache's 5 seconds the actor looked up before is used ...
    bearer.clock.offset = 4
    assert (await bearer.resolver.principal(headers)).scopes == {"ledger:read", "statistical:read"}
    # ... after them, the role's scopes as they are now.
    bearer.clock.offset = 6
    assert (await bearer.resolver.principal(headers)).scopes == {"ledger:read"}
    # A token with a scope the role never had (forged here) does not gain it.
    forged = await bearer.issue(scopes=["ledger:read", "ledger:post", "audit:read"])
    principal = await bearer.resolver.principal({"authorization": f"Bearer {forged}"})
    assert principal.scopes == {"ledger:read"}


# --- the negative matrix --------------------------------------------------------------------


async def test_no_token(bearer):
    bearer.statements.reset()
    response = await bearer.graphql(None)
    assert_refused(response, NO_TOKEN, CHALLENGE)
    assert split_audit(bearer.statements.statements) == ([], 1)  # its audit row only


@pytest.mark.parametrize("authorization", ["Basic Ym90OnNlY3JldA==", "Token abc", "Bearer", "Bearer "])
async def test_not_a_bearer_token(bearer, authorization):
    response = await bearer.graphql(None, authorization=authorization)
    if authorization.startswith("Bearer"):  # the Bearer scheme without a token
        assert_refused(response, *invalid("malformed"))
    else:
        assert_refused(response, NOT_BEARER, CHALLENGE)


def _forged(header: dict, claims: dict, key) -> str:
    return jwt.encode(header, claims, key, algorithms=[header["alg"]], default_type=None)


async def _bad_tokens(bearer: Bearer) -> dict[str, tuple[str, str]]:
    """name → (token, reason)."""
    ring = await bearer.ring()
    kid = ring.current.kid
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "bot", "client_id": bearer.acme.client_id,
              "entity": "ACME", "scope": ACME_SCOPES, "iat": now, "nbf": now, "exp": now + TTL,
              "jti": "j" * 22}
    header = {"alg": "RS256", "kid": kid, "typ": "at+jwt"}
    impostor = generate_signing_key(ring.current.created_at).key  # another key, the same kid
    public = ring.current.public_key()
    hs_input = f"{segment({**header, 'alg': 'HS256'})}.{segment(claims)}"
    hs_mac = hmac.new(public.as_pem(), hs_input.encode(), hashlib.sha256).digest()
    good = await bearer.issue()
    head, body, signature = good.split(".")
    return {
        "malformed": ("not.a.jwt", "malformed"),
        "garbage characters": ("abc$def", "malformed"),
        "two parts": (f"{head}.{body}", "malformed"),
        "expired": (await bearer.issue(now=now - TTL - 100), "expired"),
        "not yet valid": (await bearer.issue(now=now + 3600), "not yet valid"),
        "wrong issuer": (await bearer.issue(issuer="https://evil.example.com"), "wrong issuer"),
        "wrong audience": (await bearer.issue(audience="another-api"), "wrong audience"),
        "bad signature": (_forged(header, claims, impostor), "bad signature"),
        "tampered payload": (f"{head}.{segment({**claims, 'entity': 'BETA'})}.{signature}",
                             "bad signature"),
        "alg none": (f"{segment({**header, 'alg': 'none'})}.{segment(claims)}.", "unsupported algorithm"),
        "HS256 with the public key": (f"{hs_input}.{b64(hs_mac)}", "unsupported algorithm"),
        "unknown kid": (_forged({**header, "kid": "nope"}, claims, impostor), "unknown key"),
        "no kid": (_forged({"alg": "RS256", "typ": "at+jwt"}, claims, ring.current.key), "missing key id"),
        "wrong typ": (_forged({**header, "typ": "JWT"}, claims, ring.current.key), "wrong token type"),
        "no entity": (_forged(header, {k: v for k, v in claims.items() if k != "entity"},
                              ring.current.key), "missing claim: entity"),
    }


BAD = ["malformed", "garbage characters", "two parts", "expired", "not yet valid", "wrong issuer",
       "wrong audience", "bad signature", "tampered payload", "alg none", "HS256 with the public key",
       "unknown kid", "no kid", "wrong typ", "no entity"]


@pytest.mark.parametrize("case", BAD)
async def test_an_invalid_token_is_401_with_its_reason_and_no_sql(bearer, case, caplog):
    caplog.set_level(logging.DEBUG)
    await bearer.graphql(await bearer.token())  # the key ring is loaded, as in a running gateway
    token, reason = (await _bad_tokens(bearer))[case]
    bearer.statements.reset()
    response = await bearer.graphql(token, "{ entity { code } accounts { edges { node { code } } } }")
    assert_refused(response, *invalid(reason), token)
    # Nothing is looked up for a token that does not verify; an unknown kid reloads the key
    # ring once (a key rotated by another process), at most every 5 seconds. The refusal's
    # audit row is the one write (`ledger.audit`).
    expected = ["signing_keys"] if case == "unknown kid" else []
    assert split_audit(bearer.statements.statements) == (expected, 1)
    assert token not in caplog.text
    assert f"bearer token refused: {reason}" in caplog.text


async def test_an_unknown_kid_reloads_the_ring_at_most_every_5_seconds(bearer):
    token = (await _bad_tokens(bearer))["unknown kid"][0]
    bearer.statements.reset()
    for _ in range(3):
        assert (await bearer.graphql(token)).status_code == 401
    assert split_audit(bearer.statements.statements) == (["signing_keys"], 3)
    bearer.clock.offset = 6
    assert (await bearer.graphql(token)).status_code == 401
    assert split_audit(bearer.statements.statements) == (["signing_keys", "signing_keys"], 4)


async def test_a_key_rotated_by_another_process_is_picked_up_on_its_first_token(bearer):
    await bearer.graphql(await bearer.token())  # ring loaded: one key
    key = parse_key(os.environ[KEY_ENV], KEY_ENV)
    rotated = await keystore.rotate(bearer.db.engine, key, dt.datetime.now(dt.UTC))
    token = tokens.issue(rotated, issuer=ISSUER, audience=AUDIENCE, subject="bot",
                         client_id=bearer.acme.client_id, entity="ACME", scopes=["ledger:read"],
                         now=time.time(), ttl=TTL)
    response = await bearer.graphql(token)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["entity"]["code"] == "ACME"


# --- refusals after issuance ----------------------------------------------------------------


async def _disable(bearer: Bearer) -> None:
    await identities.disable_client(bearer.db, bearer.acme.client_id)


async def _deactivate(bearer: Bearer) -> None:
    await identities.deactivate_user(bearer.db, "ACME", "bot")


async def _disallow(bearer: Bearer) -> None:
    await identities.disallow(bearer.db, bearer.acme.client_id, "ACME")


async def _remap(bearer: Bearer) -> None:
    """The client now acts in ACME as another user: the token's `sub` is not it."""
    await identities.disallow(bearer.db, bearer.acme.client_id, "ACME")
    await identities.allow(bearer.db, bearer.acme.client_id, "ACME", "other-bot")


@pytest.mark.parametrize("change, reason", [
    (_disable, "client disabled"),
    (_deactivate, "user deactivated"),
    (_disallow, "client not allowed for the entity"),
    (_remap, "the client no longer acts as the token's user"),
])
async def test_a_change_after_issuance_refuses_the_token_within_5_seconds(bearer, change, reason, caplog):
    caplog.set_level(logging.DEBUG)
    token = await bearer.token()
    assert (await bearer.graphql(token)).status_code == 200  # the actor is now cached
    await change(bearer)

    # Within the cache's lifetime (5 s) the actor looked up before is still used: that is
    # the documented bound, and no SQL runs for it (`entity` comes with the principal).
    bearer.clock.offset = 4.5
    bearer.statements.reset()
    response = await bearer.graphql(token, "{ entity { code baseCurrency } }")
    assert response.status_code == 200 and response.json()["data"]["entity"]["code"] == "ACME"
    assert bearer.statements.count == 0

    # After it, the token is refused: the actor lookup, then the refusal's audit row; no data.
    bearer.clock.offset = 5.5
    bearer.statements.reset()
    response = await bearer.graphql(token, "{ entity { code } accounts { edges { node { code } } } }")
    assert_refused(response, *invalid(reason), token)
    work, audit_rows = split_audit(bearer.statements.statements)
    assert "api_clients" in bearer.statements.statements[0]
    # Then the refusal's audit row: its entity, named by the token, looked up by code.
    assert (work[1:], audit_rows) == (["entities"], 1)
    # The refusal is cached as well: another attempt runs no SQL but its audit row's.
    bearer.statements.reset()
    assert_refused(await bearer.graphql(token), *invalid(reason), token)
    assert split_audit(bearer.statements.statements) == (["entities"], 1)
    assert token not in caplog.text
    assert f"client {bearer.acme.client_id}, entity ACME" in caplog.text


async def test_with_no_actor_cache_every_request_looks_the_actor_up(bearer):
    bearer.resolver.actor_ttl = 0
    token = await bearer.token()
    assert (await bearer.graphql(token)).status_code == 200
    await _disable(bearer)
    assert_refused(await bearer.graphql(token), *invalid("client disabled"), token)


async def test_a_token_for_an_entity_the_client_was_never_allowed_for(bearer):
    forged = await bearer.issue(entity="BETA")  # signed by the gateway, but never issuable
    bearer.resolver.actor_ttl = 0
    assert_refused(await bearer.graphql(forged), *invalid("client not allowed for the entity"), forged)
    unknown = await bearer.issue(client_id="lgc_AAAAAAAAAAAAAAAA")
    assert_refused(await bearer.graphql(unknown), *invalid("unknown client"), unknown)


async def test_a_token_whose_user_is_not_the_one_the_client_acts_as(bearer):
    forged = await bearer.issue(subject="other-bot")
    assert_refused(await bearer.graphql(forged),
                   *invalid("the client no longer acts as the token's user"), forged)


# --- entity isolation -----------------------------------------------------------------------


NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Account { code } } }"


async def test_another_entitys_ids_behave_as_ids_that_do_not_exist(bearer):
    acme, beta = await bearer.token(), await bearer.token(bearer.beta)
    accounts = (await bearer.graphql(acme, "{ accounts { edges { node { id code } } } }")).json()
    acme_ids = {e["node"]["code"]: e["node"]["id"] for e in accounts["data"]["accounts"]["edges"]}
    assert "5000" in acme_ids  # Salaries: ACME only
    found = await bearer.graphql(acme, NODE, variables={"id": acme_ids["5000"]})
    assert found.json() == {"data": {"node": {"__typename": "Account", "id": acme_ids["5000"], "code": "5000"}}}
    missing = base64.urlsafe_b64encode(b"Account:999999").decode().rstrip("=")
    for node_id in [*acme_ids.values(), missing]:
        response = await bearer.graphql(beta, NODE, variables={"id": node_id})
        assert response.status_code == 200
        assert response.json() == {"data": {"node": None}}
    assert (await bearer.graphql(beta)).json()["data"]["entity"]["code"] == "BETA"


# --- logs, defaults, configuration ----------------------------------------------------------


async def test_tokens_never_appear_in_logs_or_responses(bearer, caplog):
    caplog.set_level(logging.DEBUG)
    token = await bearer.token()
    used = [token, *(t for t, _ in (await _bad_tokens(bearer)).values())]
    responses = [await bearer.graphql(t) for t in used]
    await _disable(bearer)
    bearer.clock.offset = 6
    responses.append(await bearer.graphql(token))
    responses.append(await bearer.graphql(token, "{ nope }"))
    for response in responses:
        for t in used:
            assert t not in response.text and t not in str(response.headers)
    for t in used:
        assert t not in caplog.text
        signature = t.rsplit(".", 1)[-1]
        if len(signature) > 20:  # nor any recognisable part of one
            assert signature not in caplog.text


async def test_the_principal_is_always_the_bearer_one(world, monkeypatch):
    monkeypatch.setenv(KEY_ENV, new_key_text())
    assert isinstance(create_app(oauth_settings(), db=world.db).state.principals,
                      BearerPrincipalResolver)
    chosen = object()
    assert create_app(oauth_settings(), db=world.db, principals=chosen).state.principals is chosen
    # The old development principal's entity header does nothing: no unauthenticated mode.
    app = create_app(oauth_settings(), db=world.db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        response = await http.post("/graphql", json={"query": ENTITY},
                                   headers={"X-Ledgergate-Entity": "ACME"})
    assert_refused(response, NO_TOKEN, CHALLENGE)


async def test_without_a_secrets_key_graphql_is_503(world, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    app = create_app(replace(oauth_settings(), secrets_key_file=None), db=world.db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        response = await http.post("/graphql", json={"query": ENTITY},
                                   headers={"Authorization": "Bearer a.b.c"})
        assert response.status_code == 503
        assert response.json() == {"errors": [{
            "message": (
                "authentication is not available: the secrets key that encrypts its signing "
                "keys is not configured (set LEDGERGATE_SECRETS_KEY or [secrets] key_file)"
            ),
            "extensions": {"code": "UNAUTHENTICATED"},
        }]}
        assert (await http.get("/healthz")).status_code == 200


# --- the verified-token cache ------------------------------------------------------------


async def test_a_token_is_verified_once_while_the_keys_stay_the_same(bearer, monkeypatch):
    calls = []
    real = tokens.verify
    monkeypatch.setattr(tokens, "verify", lambda *a, **k: calls.append(1) or real(*a, **k))
    token = await bearer.token()
    for _ in range(5):
        assert (await bearer.graphql(token)).json()["data"]["entity"]["code"] == "ACME"
    assert len(calls) == 1
    # A token not seen before is verified, and a forged one never becomes a hit.
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    for _ in range(2):
        assert_refused(await bearer.graphql(forged), *invalid("bad signature"), forged)
    assert len(calls) == 3


async def test_a_cached_token_still_expires(bearer):
    token = await bearer.token()
    assert (await bearer.graphql(token)).status_code == 200
    bearer.resolver.actor_ttl = 3600  # the actor is not what is tested here
    # Past exp but within the 30-s leeway (10 s of margin for the seconds the test takes),
    # then past both.
    bearer.clock.offset = TTL + 20
    assert (await bearer.graphql(token)).status_code == 200
    bearer.clock.offset = TTL + 40
    assert_refused(await bearer.graphql(token), *invalid("expired"), token)


async def test_a_cached_token_of_a_retired_key_is_refused_once_the_ring_reloads(bearer):
    token = await bearer.token()
    assert (await bearer.graphql(token)).status_code == 200
    ring = await bearer.ring()
    await keystore.rotate(bearer.db.engine, bearer.app.state.oauth.keys.secrets_key,
                          dt.datetime.now(dt.UTC))
    await keystore.retire(bearer.db.engine, ring.current.kid, dt.datetime.now(dt.UTC))
    bearer.app.state.oauth.keys.invalidate()  # the ring's 30-s reload, now
    assert_refused(await bearer.graphql(token), *invalid("unknown key"), token)
