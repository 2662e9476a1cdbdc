"""/graphql with the access tokens of external identity providers (`[[oauth.external]]`),
end to end through the real app, beside the built-in server's: each provider is a real JWKS
server on 127.0.0.1 (`tests.gateway.idp_support`), its keys generated and its tokens signed
here. The resolver's clock (`Clock`: real time plus an offset) drives the tokens' times, the
actor cache and the JWKS refreshes alike, so "61 seconds later" needs no sleep.

Two providers: `okta` names no entity (its clients must be allowed for one entity) and
`entra` names it in a `tenant` claim.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import httpx
import pytest

from gateway.app import create_app
from gateway.auth import identities
from gateway.config import ExternalIssuer, OAuthSettings
from gateway.secrets import KEY_ENV, new_key_text
from resolvers.sources.catalog import SourceCatalog
from tests.conftest import StatementCounter
from tests.gateway.idp_support import IdP, claims, closed_port_url, ec_key, rsa_key, running, sign
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
from tests.gateway.test_bearer_principal import CHALLENGE, NO_TOKEN, Clock, assert_refused, invalid

OKTA = "https://acme.okta.example.com/oauth2/default"
ENTRA = "https://login.entra.example.com/tenant-1/v2.0"
API = "api://ledgergate"
ENTITY = "{ entity { code } }"
UNAVAILABLE = "authentication is not available: the identity provider's keys cannot be fetched"


@dataclass
class External:
    http: httpx.AsyncClient
    app: object
    db: object
    clock: Clock
    okta: IdP
    entra: IdP
    keys: dict  # kid → private key
    acme: Party  # ledgergate client: ACME as bot; okta's "okta-acme", entra's "entra-acme"
    multi: Party  # ACME as bot and BETA as beta-bot; okta's "okta-multi", entra's "entra-multi"

    @property
    def resolver(self):
        return self.app.state.principals

    def okta_token(self, kid: str = "okta-1", **extra) -> str:
        return sign(self.keys[kid], claims(OKTA, API, "okta-acme", now=self.clock(), **extra))

    def entra_token(self, kid: str = "entra-1", **extra) -> str:
        extra = {"tenant": "ACME", "client_id": None, "azp": "entra-acme", **extra}
        return sign(self.keys[kid], claims(ENTRA, API, None, now=self.clock(), **extra))

    async def graphql(self, token: str | None, query: str = ENTITY) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return await self.http.post("/graphql", json={"query": query}, headers=headers)

    async def entity(self, token: str) -> str:
        response = await self.graphql(token)
        assert response.status_code == 200, response.text
        return response.json()["data"]["entity"]["code"]


def providers(okta_url: str, entra_url: str, acme: str, multi: str) -> tuple[ExternalIssuer, ...]:
    return (
        ExternalIssuer(issuer=OKTA, jwks_url=okta_url, audience=API,
                       clients={"okta-acme": acme, "okta-multi": multi}),
        ExternalIssuer(issuer=ENTRA, jwks_url=entra_url, audience=API,
                       clients={"entra-acme": acme, "entra-multi": multi},
                       algorithms=("RS256", "ES256"), entity_claim="tenant", leeway=60),
    )


@pytest.fixture(scope="module")
def idp_keys() -> dict:
    keys = [rsa_key("okta-1"), rsa_key("okta-2"), rsa_key("entra-1"), ec_key("entra-ec")]
    return {key.kid: key for key in keys}


async def _identities(db) -> tuple[Party, Party]:
    await identities.add_role(db, "reader", "ledger:read statistical:read")
    await identities.add_user(db, "ACME", "bot", "reader")
    await identities.add_user(db, "BETA", "beta-bot", "reader")
    acme, acme_secret = await identities.add_client(db, "Acme via IdP", "ledger:read statistical:read")
    multi, multi_secret = await identities.add_client(db, "Both via IdP", "ledger:read")
    await identities.allow(db, acme.client_id, "ACME", "bot")
    await identities.allow(db, multi.client_id, "ACME", "bot")
    await identities.allow(db, multi.client_id, "BETA", "beta-bot")
    return Party(acme.client_id, acme_secret), Party(multi.client_id, multi_secret)


@pytest.fixture
async def external(world, monkeypatch, idp_keys) -> AsyncIterator[External]:
    monkeypatch.setenv(KEY_ENV, new_key_text())
    acme, multi = await _identities(world.db)
    okta = IdP(keys=[idp_keys["okta-1"]])
    entra = IdP(keys=[idp_keys["entra-1"], idp_keys["entra-ec"]])
    async with running(okta) as okta_url, running(entra) as entra_url:
        base = oauth_settings()
        settings = replace(base, oauth=replace(
            base.oauth, external=providers(okta_url, entra_url, acme.client_id, multi.client_id)))
        app = create_app(settings, db=world.db, sources=SourceCatalog())
        clock = Clock()
        app.state.principals.clock = clock
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledgergate.test") as http:
            yield External(http, app, world.db, clock, okta, entra, idp_keys, acme, multi)


# --- accepted ------------------------------------------------------------------------------


async def test_a_provider_token_acts_for_the_mapped_client_user_and_entity(external):
    token = external.okta_token(scope="ledger:read statistical:read audit:read")
    principal = await external.resolver.principal({"authorization": f"Bearer {token}"})
    assert principal.client_id == external.acme.client_id
    assert principal.username == "bot" and principal.entity.code == "ACME"
    # The provider's subject, for audit; it is not a ledgergate user and need not be one.
    assert principal.subject == f"{OKTA}#00u1service"
    # token ∩ client ∩ role: audit:read is the token's only.
    assert principal.scopes == {"ledger:read", "statistical:read"}
    response = await external.graphql(token, "{ entity { code } accounts(first: 1) { edges { node { code } } } }")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["entity"] == {"code": "ACME"}
    assert response.json()["data"]["accounts"]["edges"]


async def test_scp_as_a_list_and_azp(external):
    token = external.okta_token(scope=None, scp=["ledger:read"], client_id=None, azp="okta-acme")
    principal = await external.resolver.principal({"authorization": f"Bearer {token}"})
    assert principal.scopes == {"ledger:read"} and principal.client_id == external.acme.client_id
    # Both present, they must agree.
    both = external.okta_token(azp="okta-multi")
    assert_refused(await external.graphql(both), *invalid("invalid claim: client_id"), both)


async def test_the_entity_claim_chooses_among_the_clients_entities(external):
    assert await external.entity(external.entra_token()) == "ACME"
    assert await external.entity(external.entra_token(azp="entra-multi", tenant="BETA")) == "BETA"
    assert await external.entity(external.entra_token(azp="entra-multi", tenant="ACME")) == "ACME"
    # An ES256 key of the same provider (its algorithms allow it).
    assert await external.entity(external.entra_token(kid="entra-ec")) == "ACME"
    missing = external.entra_token(tenant=None)
    assert_refused(await external.graphql(missing), *invalid("missing claim: tenant"), missing)


async def test_without_an_entity_claim_the_client_must_have_one_entity(external):
    assert await external.entity(external.okta_token()) == "ACME"
    several = external.okta_token(client_id="okta-multi")
    assert_refused(await external.graphql(several),
                   *invalid("client allowed for several entities, and the token names none"), several)


async def test_built_in_tokens_still_work_beside_them(external):
    response = await request_token(external.http, external.acme, scope="ledger:read")
    assert response.status_code == 200, response.text
    assert await external.entity(response.json()["access_token"]) == "ACME"
    # An external provider's token for the same client is not a built-in one, nor the reverse.
    principal = await external.resolver.principal(
        {"authorization": f"Bearer {response.json()['access_token']}"})
    assert principal.subject == f"{external.acme.client_id}/bot"


# --- the negative matrix --------------------------------------------------------------------


def _bad_tokens(external: External) -> dict[str, tuple[str, str]]:
    """name → (token, reason), all against the okta provider."""
    key = external.keys["okta-1"]
    now = external.clock()
    good = claims(OKTA, API, "okta-acme", now=now)
    impostor = external.keys["okta-2"]  # a key the provider does not publish
    header = {"alg": "RS256", "kid": "okta-1"}
    public_pem = key.as_pem(private=False)
    hs_input = f"{segment({**header, 'alg': 'HS256'})}.{segment(good)}"
    hs_mac = hmac.new(public_pem, hs_input.encode(), hashlib.sha256).digest()
    token = sign(key, good)
    head, _body, signature = token.split(".")
    return {
        "malformed": ("not.a.jwt", "malformed"),
        "two parts": (f"{head}.{_body}", "malformed"),
        "expired": (sign(key, claims(OKTA, API, "okta-acme", now=now - 1000, ttl=600)), "expired"),
        "not yet valid": (sign(key, claims(OKTA, API, "okta-acme", now=now + 3600)), "not yet valid"),
        "wrong issuer": (sign(key, claims("https://evil.example.com", API, "okta-acme", now=now)),
                         "wrong issuer"),
        "no issuer": (sign(key, {k: v for k, v in good.items() if k != "iss"}), "missing claim: iss"),
        "wrong audience": (sign(key, claims(OKTA, "another-api", "okta-acme", now=now)),
                           "wrong audience"),
        "the built-in server's audience": (sign(key, claims(OKTA, AUDIENCE, "okta-acme", now=now)),
                                           "wrong audience"),
        "bad signature": (sign(impostor, good, kid="okta-1"), "bad signature"),
        "tampered payload": (f"{head}.{segment({**good, 'client_id': 'okta-multi'})}.{signature}",
                             "bad signature"),
        "alg none": (f"{segment({**header, 'alg': 'none'})}.{segment(good)}.", "unsupported algorithm"),
        "HS256 with the public key": (f"{hs_input}.{b64(hs_mac)}", "unsupported algorithm"),
        "ES256 not allowed for okta": (sign(external.keys["entra-ec"], good), "unsupported algorithm"),
        "unknown kid": (sign(impostor, good, kid="forged"), "unknown key"),
        "no client": (sign(key, {k: v for k, v in good.items() if k != "client_id"}),
                      "missing claim: client_id|azp"),
        "a client the provider may not speak for": (
            sign(key, claims(OKTA, API, external.acme.client_id, now=now)), "unknown client"),
        "another provider's client": (sign(key, claims(OKTA, API, "entra-acme", now=now)),
                                      "unknown client"),
    }


BAD = ["malformed", "two parts", "expired", "not yet valid", "wrong issuer", "no issuer",
       "wrong audience", "the built-in server's audience", "bad signature", "tampered payload",
       "alg none", "HS256 with the public key", "ES256 not allowed for okta", "unknown kid",
       "no client", "a client the provider may not speak for", "another provider's client"]


@pytest.mark.parametrize("case", BAD)
async def test_an_invalid_provider_token_is_401_with_its_reason(external, case, caplog):
    caplog.set_level(logging.DEBUG)
    assert await external.entity(external.okta_token()) == "ACME"  # keys loaded, as when running
    token, reason = _bad_tokens(external)[case]
    statements = StatementCounter(external.db)
    response = await external.graphql(token, "{ entity { code } accounts { edges { node { code } } } }")
    assert_refused(response, *invalid(reason), token)
    # Refused before any SQL but the refusal's audit row: a provider's client not in its
    # table is not even looked up.
    assert split_audit(statements.statements) == ([], 1)
    assert token not in caplog.text
    assert f"bearer token refused: {reason}" in caplog.text or "not one of its clients" in caplog.text
    # Only an unknown kid may fetch the keys again, and not within the refresh interval.
    assert external.okta.fetches == 1


async def test_the_leeway_allows_that_much_clock_skew(external):
    now = external.clock()
    late = sign(external.keys["okta-1"], claims(OKTA, API, "okta-acme", now=now - 620, ttl=600))
    assert await external.entity(late) == "ACME"  # expired 20 s ago; okta's leeway is 30 s
    early = sign(external.keys["okta-1"], claims(OKTA, API, "okta-acme", now=now + 25))
    assert await external.entity(early) == "ACME"
    later = sign(external.keys["okta-1"], claims(OKTA, API, "okta-acme", now=now - 640, ttl=600))
    assert_refused(await external.graphql(later), *invalid("expired"), later)
    # entra's leeway is 60 s.
    assert await external.entity(external.entra_token(exp=int(now) - 50)) == "ACME"


async def test_a_token_signed_by_another_provider_with_its_issuer_is_refused(external):
    # entra's key, okta's iss: okta's keys have no such kid (and entra's are not consulted).
    token = sign(external.keys["entra-1"], claims(OKTA, API, "okta-acme", now=external.clock()))
    assert_refused(await external.graphql(token), *invalid("unknown key"), token)
    assert external.entra.fetches == 0


async def test_no_token(external):
    assert_refused(await external.graphql(None), NO_TOKEN, CHALLENGE)


# --- refusals after issuance ----------------------------------------------------------------


@pytest.mark.parametrize("change, reason", [
    (lambda db, acme: identities.disable_client(db, acme), "client disabled"),
    (lambda db, acme: identities.deactivate_user(db, "ACME", "bot"), "user deactivated"),
    (lambda db, acme: identities.disallow(db, acme, "ACME"), "client not allowed for the entity"),
])
async def test_a_change_after_issuance_refuses_the_token_within_5_seconds(external, change, reason):
    okta, entra = external.okta_token(), external.entra_token()
    assert await external.entity(okta) == "ACME" and await external.entity(entra) == "ACME"
    await change(external.db, external.acme.client_id)
    external.clock.offset = 4.5
    assert await external.entity(okta) == "ACME"  # the cached actor: the documented bound
    external.clock.offset = 5.5
    assert_refused(await external.graphql(okta),
                   *invalid("client not allowed for any entity" if reason.startswith("client not")
                            else reason), okta)
    assert_refused(await external.graphql(entra), *invalid(reason), entra)


async def test_a_token_for_an_entity_the_client_is_not_allowed_for(external):
    token = external.entra_token(tenant="BETA")
    assert_refused(await external.graphql(token), *invalid("client not allowed for the entity"), token)
    nowhere = external.entra_token(tenant="NOPE")
    assert_refused(await external.graphql(nowhere), *invalid("client not allowed for the entity"), nowhere)


# --- the provider's keys --------------------------------------------------------------------


async def test_keys_are_fetched_on_first_use_only(world, monkeypatch, idp_keys):
    monkeypatch.setenv(KEY_ENV, new_key_text())
    acme, multi = await _identities(world.db)
    okta = IdP(keys=[idp_keys["okta-1"]])
    async with running(okta) as url:
        base = oauth_settings()
        settings = replace(base, oauth=replace(
            base.oauth, external=providers(url, url, acme.client_id, multi.client_id)[:1]))
        app = create_app(settings, db=world.db, sources=SourceCatalog())
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            assert okta.fetches == 0  # start-up does not depend on the provider
            token = sign(idp_keys["okta-1"], claims(OKTA, API, "okta-acme"))
            responses = await asyncio.gather(*(
                http.post("/graphql", json={"query": ENTITY}, headers={"Authorization": f"Bearer {token}"})
                for _ in range(10)
            ))
    assert [r.status_code for r in responses] == [200] * 10
    assert okta.fetches == 1  # concurrent first requests wait for one fetch


async def test_a_key_rotated_at_the_provider_is_picked_up_by_its_first_token(external):
    assert await external.entity(external.okta_token()) == "ACME"
    external.okta.keys = [external.keys["okta-1"], external.keys["okta-2"]]
    rotated = external.okta_token(kid="okta-2")
    # Within the refresh interval (60 s) since the last fetch, the new kid is unknown ...
    external.clock.offset = 30
    assert_refused(await external.graphql(rotated), *invalid("unknown key"), rotated)
    assert external.okta.fetches == 1
    # ... after it, its first token fetches the keys once and is accepted.
    external.clock.offset = 61
    rotated = external.okta_token(kid="okta-2")
    assert await external.entity(rotated) == "ACME"
    assert await external.entity(external.okta_token()) == "ACME"  # the old key still published
    assert external.okta.fetches == 2


async def test_forged_kids_fetch_at_most_once_per_interval(external):
    assert await external.entity(external.okta_token()) == "ACME"
    impostor = external.keys["okta-2"]

    async def forged(n: int) -> None:
        for i in range(n):
            token = sign(impostor, claims(OKTA, API, "okta-acme", now=external.clock()), kid=f"forged-{i}")
            assert_refused(await external.graphql(token), *invalid("unknown key"), token)

    await forged(20)
    assert external.okta.fetches == 1
    for offset, fetches in ((60, 2), (90, 2), (119, 2), (120, 3)):
        external.clock.offset = offset
        await forged(10)
        assert external.okta.fetches == fetches
    assert await external.entity(external.okta_token()) == "ACME"  # genuine tokens unaffected


async def test_the_provider_down_at_first_use_is_503_then_recovers(external):
    external.okta.status = 503
    token = external.okta_token()
    response = await external.graphql(token)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "60"
    assert response.json() == {"errors": [{"message": UNAVAILABLE, "extensions": {"code": "UNAUTHENTICATED"}}]}
    external.clock.offset = 20
    response = await external.graphql(token)
    assert response.status_code == 503 and response.headers["retry-after"] == "40"
    assert external.okta.fetches == 1  # not asked again within the interval
    # The other provider and the built-in server are not affected.
    assert await external.entity(external.entra_token()) == "ACME"
    external.okta.status = 200
    external.clock.offset = 60
    assert await external.entity(external.okta_token()) == "ACME"
    assert external.okta.fetches == 2


async def test_an_unreachable_provider_with_credentials_in_its_url(world, monkeypatch, idp_keys, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(KEY_ENV, new_key_text())
    acme, multi = await _identities(world.db)
    url = closed_port_url().replace("http://", "http://reader:s3cr3t-pw@")
    base = oauth_settings()
    settings = replace(base, oauth=replace(
        base.oauth, external=providers(url, url, acme.client_id, multi.client_id)[:1]))
    app = create_app(settings, db=world.db, sources=SourceCatalog())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        token = sign(idp_keys["okta-1"], claims(OKTA, API, "okta-acme"))
        response = await http.post("/graphql", json={"query": ENTITY},
                                   headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503 and response.json()["errors"][0]["message"] == UNAVAILABLE
    assert "s3cr3t" not in response.text and "s3cr3t" not in caplog.text
    assert "the request failed (ConnectError)" in caplog.text


async def test_the_provider_down_later_keeps_its_keys(external):
    assert await external.entity(external.okta_token()) == "ACME"
    external.okta.status = 503
    external.clock.offset = 3601  # past jwks_max_age: refetched on use, which fails
    assert await external.entity(external.okta_token()) == "ACME"
    assert external.okta.fetches == 2
    external.clock.offset = 3700  # an unknown kid meanwhile: refused, the keys kept
    forged = sign(external.keys["okta-2"], claims(OKTA, API, "okta-acme", now=external.clock()), kid="new")
    assert_refused(await external.graphql(forged), *invalid("unknown key"), forged)
    assert await external.entity(external.okta_token()) == "ACME"
    assert external.okta.fetches == 3


# --- only external issuers ------------------------------------------------------------------


async def test_builtin_false_accepts_only_provider_tokens(world, monkeypatch, idp_keys):
    monkeypatch.delenv(KEY_ENV, raising=False)  # no secrets key is needed then
    acme, multi = await _identities(world.db)
    okta = IdP(keys=[idp_keys["okta-1"]])
    async with running(okta) as url:
        settings = replace(oauth_settings(), oauth=OAuthSettings(
            issuer=ISSUER, audience=AUDIENCE, token_ttl=TTL, builtin=False,
            external=providers(url, url, acme.client_id, multi.client_id)[:1]))
        app = create_app(settings, db=world.db, sources=SourceCatalog())
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            token = sign(idp_keys["okta-1"], claims(OKTA, API, "okta-acme"))
            response = await http.post("/graphql", json={"query": ENTITY},
                                       headers={"Authorization": f"Bearer {token}"})
            assert response.json() == {"data": {"entity": {"code": "ACME"}}}
            refused = await request_token(http, acme)
            assert refused.status_code == 400
            assert refused.json() == {
                "error": "unsupported_grant_type",
                "error_description": (
                    "the built-in authorization server is disabled ([oauth] builtin = false): "
                    "get access tokens from the configured identity provider"
                ),
            }
            assert (await http.get("/.well-known/jwks.json")).status_code == 404
            assert (await http.get("/.well-known/oauth-authorization-server")).status_code == 404
            # A token bearing the built-in issuer is not accepted.
            own = sign(idp_keys["okta-1"], claims(ISSUER, AUDIENCE, acme.client_id, entity="ACME"))
            assert_refused(await http.post("/graphql", json={"query": ENTITY},
                                           headers={"Authorization": f"Bearer {own}"}),
                           *invalid("wrong issuer"), own)
    assert app.state.oauth.keys is None  # no signing key is created either


async def test_an_external_issuer_cannot_be_the_built_in_one(world):
    base = oauth_settings()
    clash = ExternalIssuer(issuer=ISSUER + "/", jwks_url="http://127.0.0.1:9/k", audience=API,
                           clients={"x": "lgc_AAAAAAAAAAAAAAAA"})
    with pytest.raises(ValueError, match="the built-in server's issuer"):
        create_app(replace(base, oauth=replace(base.oauth, external=(clash,))), db=world.db)
