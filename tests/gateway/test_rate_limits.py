"""Per-client rate limits (`gateway.rate_limit`) through the real app, with real clients and
bearer tokens: /graphql per client (429, Retry-After, RATE_LIMITED, nothing executed),
/oauth/token per presented client id and per remote address; the configuration.

The limiters' clock (`app.state.rate_limits.clock`) is a `Clock` the tests move by hand:
no test sleeps, and every Retry-After is exact. Bearer tokens are checked against real
time (the principal resolver's clock), so tokens from the real endpoint verify.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.auth import identities
from gateway.config import ConfigError, RateLimitSettings, load_settings
from gateway.rate_limit import Limiter, Rate, RateLimits, address_key
from gateway.secrets import KEY_ENV, new_key_text
from tests.record_types import linkable_catalog
from tests.conftest import StatementCounter
from tests.gateway.oauth_support import Party, add_party, asgi_client, oauth_settings, request_token
from tests.support import counts, sale

ENTITY = "{ entity { code } }"
# 2 requests a second per client, 3 at once; 4 token attempts a minute per client id and
# address (one every 15 s), 6 per address (one every 10 s), 12 per client id in all.
RATES = RateLimitSettings(
    requests_per_second=2, burst=3, token_requests_per_minute=4,
    token_requests_per_minute_per_address=6, token_requests_per_minute_per_client=12,
)
GRAPHQL_LIMITED = (
    "Rate limit exceeded: this client may send 2 requests per second (bursts of 3); "
    "retry after 1 s"
)
POST = """mutation Post($input: JournalEntryInput!, $key: String!) {
  postJournalEntry(input: $input, idempotencyKey: $key) { entry { number } } }"""
UNKNOWN_IDS = [f"lgc_{n:016d}" for n in range(10)]  # well-formed, never issued


class Clock:
    """Seconds, moved by hand; whole numbers and halves keep the arithmetic exact."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Limited:
    app: object
    db: object
    clock: Clock
    acme: Party  # ACME as bot, ledger:read
    beta: Party  # BETA as beta-bot, ledger:read
    poster: Party  # ACME as clerk, ledger:read ledger:post
    statements: StatementCounter
    _addresses = itertools.count(1)

    def http(self, address: str = "127.0.0.1"):
        return asgi_client(self.app, address)

    async def token(self, party: Party, scope: str = "ledger:read") -> str:
        """A token, fetched from an address of its own (so no address budget runs out)."""
        n = next(self._addresses)
        async with self.http(f"10.99.{n // 200}.{n % 200 + 1}") as http:
            response = await request_token(http, party, scope=scope)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]


@pytest.fixture
async def limited(world, monkeypatch) -> AsyncIterator[Limited]:
    monkeypatch.setenv(KEY_ENV, new_key_text())
    db = world.db
    await identities.add_role(db, "reader", "ledger:read")
    await identities.add_role(db, "poster", "ledger:read ledger:post")
    await identities.add_user(db, "ACME", "bot", "reader")
    await identities.add_user(db, "ACME", "clerk", "poster")
    await identities.add_user(db, "BETA", "beta-bot", "reader")
    acme = await add_party(db, "Acme reader", "ledger:read", "ACME", "bot")
    beta = await add_party(db, "Beta reader", "ledger:read", "BETA", "beta-bot")
    poster = await add_party(db, "Acme poster", "ledger:read ledger:post", "ACME", "clerk")
    app = create_app(replace(oauth_settings(), rate_limit=RATES), db=db,
                     sources=linkable_catalog())
    clock = Clock()
    app.state.rate_limits.clock = clock
    yield Limited(app, db, clock, acme, beta, poster, StatementCounter(db))


async def _graphql(http, token: str, query: str = ENTITY, variables: dict | None = None):
    return await http.post("/graphql", json={"query": query, "variables": variables or {}},
                           headers={"Authorization": f"Bearer {token}"})


def assert_graphql_limited(response, retry_after: int = 1) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["retry-after"] == str(retry_after)
    assert response.json() == {"errors": [{
        "message": GRAPHQL_LIMITED.replace("after 1 s", f"after {retry_after} s"),
        "extensions": {"code": "RATE_LIMITED", "limit": {"requestsPerSecond": 2, "burst": 3},
                       "retryAfter": retry_after},
    }]}


# --- /graphql -------------------------------------------------------------------------------


async def test_the_request_after_the_burst_is_429_with_retry_after_and_nothing_runs(limited):
    token = await limited.token(limited.acme)
    async with limited.http() as http:
        for _ in range(3):
            response = await _graphql(http, token)
            assert response.status_code == 200, response.text
            assert response.json() == {"data": {"entity": {"code": "ACME"}}}
        limited.statements.reset()
        assert_graphql_limited(await _graphql(http, token))
        # Refused before execution: not one statement (the actor is cached from before).
        assert limited.statements.count == 0
        # A refused request consumes nothing more: the next one is told the same.
        assert_graphql_limited(await _graphql(http, token))


async def test_other_clients_keep_their_own_budget(limited):
    acme, beta = await limited.token(limited.acme), await limited.token(limited.beta)
    async with limited.http() as http:
        for _ in range(3):
            assert (await _graphql(http, acme)).status_code == 200
        assert_graphql_limited(await _graphql(http, acme))
        for _ in range(3):
            response = await _graphql(http, beta)
            assert response.status_code == 200 and response.json()["data"]["entity"]["code"] == "BETA"
        assert_graphql_limited(await _graphql(http, beta))


async def test_the_budget_refills_as_the_clock_moves(limited):
    token = await limited.token(limited.acme)
    async with limited.http() as http:
        for _ in range(3):
            assert (await _graphql(http, token)).status_code == 200
        assert_graphql_limited(await _graphql(http, token))
        # One request per half second comes back: exactly one now ...
        limited.clock.now += 0.5
        assert (await _graphql(http, token)).status_code == 200
        assert_graphql_limited(await _graphql(http, token))
        # ... two a second later, and after a long pause the whole burst, no more.
        limited.clock.now += 1
        assert [(await _graphql(http, token)).status_code for _ in range(3)] == [200, 200, 429]
        limited.clock.now += 60
        assert [(await _graphql(http, token)).status_code for _ in range(4)] == [200, 200, 200, 429]


async def test_a_bad_token_consumes_no_budget(limited):
    token = await limited.token(limited.acme)
    head, body, signature = token.split(".")
    forged = f"{head}.{body}.{signature[::-1]}"  # names ACME's client, does not verify
    for n in range(5):  # from addresses of their own: the refusals' own limit is tested below
        async with limited.http(f"10.98.0.{n + 1}") as http:
            response = await _graphql(http, forged)
            assert response.status_code == 401 and "RATE_LIMITED" not in response.text
            assert (await http.post("/graphql", json={"query": ENTITY})).status_code == 401
    assert len(limited.app.state.rate_limits.graphql) == 0
    async with limited.http() as http:
        assert [(await _graphql(http, token)).status_code for _ in range(4)] == [200, 200, 200, 429]


async def test_refused_tokens_from_one_address_are_limited_and_not_audited_past_it(limited):
    """Each refused bearer token is an audit row: past the per-address budget (6 a minute
    here) the refusals are answered 429 and written no more, so a flood of bad tokens is not
    a flood of database writes. Other addresses, and good tokens, are unaffected."""
    from sqlalchemy import func, select

    from ledger.model import AuditEvent

    async def refusals() -> int:
        async with limited.db.engine.connect() as connection:
            return await connection.scalar(
                select(func.count()).select_from(AuditEvent.__table__)
                .where(AuditEvent.event == "authentication_refused")
            )

    token = await limited.token(limited.acme)
    async with limited.http("10.97.0.1") as http:
        statuses = [(await http.post("/graphql", json={"query": ENTITY})).status_code for _ in range(8)]
        assert statuses == [401] * 6 + [429] * 2
        over = await http.post("/graphql", json={"query": ENTITY}, headers={"Authorization": "Bearer x.y.z"})
        assert over.status_code == 429 and over.headers["retry-after"] == "10"
        assert over.json()["errors"][0]["extensions"] == {
            "code": "RATE_LIMITED", "limit": {"requestsPerMinute": 6}, "retryAfter": 10}
        assert (await _graphql(http, token)).status_code == 200  # a good token still answers
        assert await refusals() == 6
        limited.clock.now += 10
        assert (await http.post("/graphql", json={"query": ENTITY})).status_code == 401
    async with limited.http("10.97.0.2") as http:
        assert (await http.post("/graphql", json={"query": ENTITY})).status_code == 401
    assert await refusals() == 8


async def test_a_limited_mutation_writes_nothing(limited, world):
    token = await limited.token(limited.poster, "ledger:read ledger:post")

    async def post(key: str):
        return await _graphql(http, token, POST, {"input": sale("10.00"), "key": key})

    async with limited.http() as http:
        for n in range(3):
            response = await post(f"k{n}")
            assert response.status_code == 200 and "errors" not in response.json(), response.text
        before = await counts(world.db, world.acme)  # entries, lines, source links, keys
        assert before[0] == 3
        limited.statements.reset()
        assert_graphql_limited(await post("k3"))
        assert limited.statements.count == 0
        assert await counts(world.db, world.acme) == before
        # The same mutation, admitted once the budget allows, does post: the refusal was
        # the limit's, not the mutation's.
        limited.clock.now += 0.5
        response = await post("k3")
        assert response.status_code == 200 and "errors" not in response.json(), response.text
        assert (await counts(world.db, world.acme))[0] == 4


async def test_graphql_rejections_before_the_principal_consume_nothing(limited):
    token = await limited.token(limited.acme)
    async with limited.http() as http:
        for _ in range(5):
            response = await http.post("/graphql", content=b"{", headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            assert response.status_code == 400
        assert [(await _graphql(http, token)).status_code for _ in range(4)] == [200, 200, 200, 429]


# --- /oauth/token ---------------------------------------------------------------------------


def assert_token_limited(response, description: str, retry_after: int, *secrets: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["retry-after"] == str(retry_after)
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {"error": "temporarily_unavailable",
                               "error_description": f"{description}; retry after {retry_after} s"}
    for secret in secrets:
        assert secret not in response.text


PER_CLIENT = "too many token requests for this client from this address (at most 4 a minute)"
CLIENT_CEILING = "too many token requests for this client from all addresses (at most 12 a minute)"
PER_ADDRESS = "too many token requests from this address (at most 6 a minute)"


async def test_token_attempts_per_client_id_count_failures_too(limited, caplog):
    caplog.set_level(logging.DEBUG)
    acme = limited.acme
    async with limited.http("10.1.0.1") as http:
        for _ in range(4):  # a guessing attacker: four wrong secrets
            response = await request_token(http, Party(acme.client_id, "wrong-secret"))
            assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    # The fifth attempt for that client id from that address, even with the right secret, is
    # refused before the secret is checked.
    async with limited.http("10.1.0.1") as http:
        limited.statements.reset()
        assert_token_limited(await request_token(http, acme), PER_CLIENT, 15, acme.secret)
        assert not any("api_clients" in s for s in limited.statements.statements)
        assert_token_limited(await request_token(http, acme, basic=False), PER_CLIENT, 15,
                             acme.secret)
    # Another client is not affected (from another address: this one has used its own).
    async with limited.http("10.1.0.3") as http:
        assert (await request_token(http, limited.beta)).status_code == 200
    async with limited.http("10.1.0.1") as http:
        # One attempt every 15 s comes back; Retry-After counts down exactly.
        limited.clock.now += 10
        assert_token_limited(await request_token(http, acme), PER_CLIENT, 5, acme.secret)
        limited.clock.now += 10  # 5 s for the pair, and the address's own one every 10 s
        response = await request_token(http, acme, scope="ledger:read")
        assert response.status_code == 200, response.text
    assert acme.secret not in caplog.text
    assert f"token request refused: client {acme.client_id} over its rate limit" in caplog.text


async def test_guessing_a_clients_secret_from_one_address_does_not_lock_the_client_out(limited):
    """As found from outside: 100 wrong secrets for a client id from one address made the
    right secret from another address get 429."""
    acme = limited.acme
    async with limited.http("10.7.0.1") as attacker:
        for _ in range(4):
            assert (await request_token(attacker, Party(acme.client_id, "guess"))).status_code == 401
        for _ in range(20):  # what follows from there is refused, and counts no further
            assert (await request_token(attacker, Party(acme.client_id, "guess"))).status_code == 429
    async with limited.http("10.7.0.2") as legitimate:
        response = await request_token(legitimate, acme)
        assert response.status_code == 200, response.text
    # Many addresses together still meet the client's ceiling (12 a minute in all).
    for n, attempts in ((3, 4), (4, 3)):  # 4 + 1 + 4 + 3 = 12
        async with limited.http(f"10.7.0.{n}") as http:
            for _ in range(attempts):
                assert (await request_token(http, Party(acme.client_id, "guess"))).status_code == 401
    async with limited.http("10.7.0.9") as http:
        assert_token_limited(await request_token(http, acme), CLIENT_CEILING, 5, acme.secret)


async def test_an_unknown_client_id_has_a_budget_too(limited):
    async with limited.http("10.3.0.1") as http:
        unknown = Party(UNKNOWN_IDS[0], "guess")
        for _ in range(4):
            assert (await request_token(http, unknown)).status_code == 401
        assert_token_limited(await request_token(http, unknown), PER_CLIENT, 15)
    # Anything that cannot be a client id shares one budget: made-up names, none at all.
    async with limited.http("10.3.0.2") as http:
        for name in ["alice", "bob", "", "x" * 5000]:
            assert (await request_token(http, Party(name, "guess"))).status_code == 401
        assert_token_limited(await request_token(http, Party("carol", "guess")), PER_CLIENT, 15)
        assert len(limited.app.state.rate_limits.token_client) == 2
        assert (await request_token(http, limited.acme)).status_code == 200


async def test_token_attempts_per_address(limited):
    async with limited.http("10.2.0.1") as http:
        # Every POST counts against its address, however wrong and whichever client id.
        for client_id in UNKNOWN_IDS[:4]:
            assert (await request_token(http, Party(client_id, "guess"))).status_code == 401
        for _ in range(2):
            response = await http.post("/oauth/token", content=b"grant_type=client_credentials",
                                       headers={"Content-Type": "text/plain"})
            assert response.status_code == 400
        limited.statements.reset()
        assert_token_limited(await request_token(http, limited.acme), PER_ADDRESS, 10,
                             limited.acme.secret)
        assert limited.statements.count == 0
    async with limited.http("10.2.0.2") as http:  # another address: its own budget
        assert (await request_token(http, limited.acme)).status_code == 200
    # IPv6 peers are counted per /64: another address in it shares the budget.
    async with limited.http("2001:db8:1:2::1") as http:
        for client_id in UNKNOWN_IDS[4:10]:
            assert (await request_token(http, Party(client_id, "guess"))).status_code == 401
    async with limited.http("2001:db8:1:2:ffff::9") as http:
        assert_token_limited(await request_token(http, limited.acme), PER_ADDRESS, 10)
    async with limited.http("2001:db8:1:3::1") as http:
        assert (await request_token(http, limited.acme)).status_code == 200
    limited.clock.now += 10
    async with limited.http("10.2.0.1") as http:
        assert (await request_token(http, limited.acme)).status_code == 200
        assert_token_limited(await request_token(http, limited.acme), PER_ADDRESS, 10)


def test_address_keys():
    assert address_key("10.0.0.7") == "10.0.0.7"
    assert address_key("::ffff:10.0.0.7") == "10.0.0.7"
    assert address_key("2001:db8::1") == address_key("2001:db8::abcd:1") == "2001:db8::/64"
    assert address_key("2001:db8:0:1::1") == "2001:db8:0:1::/64"
    assert address_key(None) == address_key("") == "?"
    assert address_key("testclient") == "testclient"


# --- the limiter ----------------------------------------------------------------------------


def test_gcra_is_exact_at_epoch_scale():
    limiter = Limiter(Rate(count=7, period=60, burst=7))  # 7 a minute: every 8.571… s
    now = 1_764_000_000.0
    assert [limiter.acquire("k", now) for _ in range(7)] == [None] * 7
    assert limiter.acquire("k", now) == 9  # 60/7 s, rounded up
    assert limiter.acquire("k", now + 60 / 7 - 0.001) == 1
    assert limiter.acquire("k", now + 60) is None
    thirds = Limiter(Rate(count=3, period=10, burst=1))  # every 3.333… s
    assert thirds.acquire("k", now) is None
    assert thirds.acquire("k", now) == 4  # rounded up, never down
    assert thirds.acquire("k", now + 3) == 1
    per_second = Limiter(Rate(count=1000, period=1, burst=1))
    assert per_second.acquire("k", now) is None
    assert per_second.acquire("k", now) == 1  # a millisecond away, never 0
    assert per_second.acquire("k", now + 0.002) is None


def test_memory_stays_bounded_least_recently_used_first():
    limiter = Limiter(Rate(count=1, period=60, burst=1), max_keys=3)
    for key in "abc":
        assert limiter.acquire(key, 0) is None
    assert limiter.acquire("a", 1) == 59  # refused, but touched: now the most recent
    assert limiter.acquire("d", 1) is None
    assert len(limiter) == 3
    assert limiter.acquire("b", 2) is None  # "b" was dropped: it starts afresh
    assert limiter.acquire("a", 2) == 58  # "a" was kept
    for n in range(10_000):
        limiter.acquire(f"k{n}", 3)
    assert len(limiter) == 3


# --- configuration --------------------------------------------------------------------------


async def test_off_limits_nothing(world, monkeypatch):
    monkeypatch.setenv(KEY_ENV, new_key_text())
    await identities.add_role(world.db, "reader", "ledger:read")
    await identities.add_user(world.db, "ACME", "bot", "reader")
    acme = await add_party(world.db, "Acme reader", "ledger:read", "ACME", "bot")
    settings = replace(oauth_settings(), rate_limit=replace(RATES, enabled=False))
    app = create_app(settings, db=world.db, sources=linkable_catalog())
    assert app.state.rate_limits is None
    async with asgi_client(app) as http:
        for _ in range(8):
            assert (await request_token(http, Party(acme.client_id, "wrong"))).status_code == 401
        response = await request_token(http, acme)
        assert response.status_code == 200
        token = response.json()["access_token"]
        assert {(await _graphql(http, token)).status_code for _ in range(10)} == {200}


def test_the_defaults():
    settings = load_settings(None)
    assert settings.rate_limit == RateLimitSettings(
        enabled=True, requests_per_second=50, burst=100, token_requests_per_minute=20,
        token_requests_per_minute_per_address=60,
    )
    limits = RateLimits.from_settings(settings.rate_limit)
    assert (limits.graphql.rate, limits.token_client.rate, limits.token_address.rate) == (
        Rate(50, 1, 100), Rate(20, 60, 20), Rate(60, 60, 60))


def test_the_section_is_read(tmp_path):
    path = tmp_path / "ledgergate.toml"
    path.write_text(
        "[rate_limit]\nenabled = false\nrequests_per_second = 5\nburst = 7\n"
        "token_requests_per_minute = 3\ntoken_requests_per_minute_per_address = 9\n"
    )
    assert load_settings(path).rate_limit == RateLimitSettings(
        enabled=False, requests_per_second=5, burst=7, token_requests_per_minute=3,
        token_requests_per_minute_per_address=9,
    )
    path.write_text("[rate_limit]\nburst = 1\n")
    assert load_settings(path).rate_limit == replace(RateLimitSettings(), burst=1)


@pytest.mark.parametrize("text, message", [
    ("rate_limit = 5", "[rate_limit] must be a table"),
    ("[rate_limit]\nrequests_per_minute = 5",
     "unknown key(s) rate_limit.['requests_per_minute']; expected enabled, requests_per_second, "
     "burst, token_requests_per_minute, token_requests_per_minute_per_address, "
     "token_requests_per_minute_per_client"),
    ("[rate_limit]\nrequests_per_second = 0",
     "rate_limit.requests_per_second must be between 1 and 1000000, got 0"),
    ("[rate_limit]\nburst = -1", "rate_limit.burst must be between 1 and 1000000, got -1"),
    ("[rate_limit]\ntoken_requests_per_minute = 1000001",
     "rate_limit.token_requests_per_minute must be between 1 and 1000000, got 1000001"),
    ("[rate_limit]\nrequests_per_second = 2.5",
     "rate_limit.requests_per_second must be an integer, got 2.5"),
    ("[rate_limit]\nburst = true", "rate_limit.burst must be an integer, got True"),
    ("[rate_limit]\ntoken_requests_per_minute_per_address = \"60\"",
     "rate_limit.token_requests_per_minute_per_address must be an integer, got '60'"),
    ("[rate_limit]\nenabled = 1", "rate_limit.enabled must be true or false, got 1"),
])
def test_config_errors(tmp_path, text, message):
    path = tmp_path / "ledgergate.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert str(error.value) == f"{path}: {message}"


def test_the_readme_documents_the_defaults(tmp_path):
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = next(b for b in re.findall(r"```toml\n(.*?)```", readme, re.S) if "[rate_limit]" in b)
    path = tmp_path / "ledgergate.toml"
    path.write_text(block)
    assert load_settings(path).rate_limit == RateLimitSettings()
