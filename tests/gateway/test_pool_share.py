"""One request cannot starve every client (issue 10, item 2): expensive fields are weighed
before anything runs, a request holds a bounded share of the pool, authentication and
token issuance have connections of their own, and a starved request fails UNAVAILABLE."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace

import httpx
from sqlalchemy import event, text

from gateway.app import create_app
from gateway.config import DatabaseSettings
from ledger.store import PoolSettings
from tests.callers import GraphQLClient, fetch_token, provision_tester
from tests.conftest import make_settings

THIRTY_VERIFICATIONS = "{ " + " ".join(f"a{i}: verifyLedger {{ ok }}" for i in range(30)) + " }"
SMALL = "{ accounts(first: 2) { edges { node { code } } } }"


@contextlib.asynccontextmanager
async def client_of(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield http


async def test_thirty_verifications_are_refused_up_front_and_another_entity_still_answers(world, statements):
    app = create_app(make_settings(), db=world.db)
    async with client_of(app) as http:
        client = GraphQLClient(http, await provision_tester(world.db))
        await client.token("ACME"), await client.token("BETA")
        statements.reset()
        big = asyncio.ensure_future(client(THIRTY_VERIFICATIONS, entity="ACME"))
        small = await client(SMALL, entity="BETA")
        refused = await big
    assert small["data"]["accounts"]["edges"], small
    [error] = refused["errors"]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["extensions"]["limit"] == {"name": "cost", "measured": 7_500_060, "maximum": 1_000_000}
    assert "7500060" in error["message"] and "1000000" in error["message"]
    assert "data" not in refused


async def test_a_dashboard_of_a_verification_and_trial_balances_still_runs(world):
    app = create_app(make_settings(), db=world.db)
    async with client_of(app) as http:
        client = GraphQLClient(http, await provision_tester(world.db))
        body = await client(
            "{ verifyLedger { ok } a: trialBalance(from: \"2026-01-01\", to: \"2026-12-31\") { totalDebit }"
            " b: trialBalance(from: \"2026-01-01\", to: \"2026-03-31\") { totalDebit } " + SMALL[1:]
        )
    assert "errors" not in body, body


async def test_a_request_holds_at_most_its_share_of_the_pool(world):
    settings = replace(make_settings(), database=DatabaseSettings(connections_per_request=1))
    app = create_app(settings, db=world.db)
    held, most = [0], [0]

    def checkout(*_):
        held[0] += 1
        most[0] = max(most[0], held[0])

    def checkin(*_):
        held[0] -= 1

    async with client_of(app) as http:
        client = GraphQLClient(http, await provision_tester(world.db))
        await client.token("ACME")
        await client(SMALL)  # authenticated once: the actor is cached, no auth query below
        event.listen(world.db.engine.sync_engine.pool, "checkout", checkout)
        event.listen(world.db.engine.sync_engine.pool, "checkin", checkin)
        try:
            body = await client(
                "{ " + " ".join(f"p{i}: accounts(first: 1) {{ edges {{ node {{ code balance }} }} }}"
                                for i in range(8)) + " periods { name } }"
            )
        finally:
            event.remove(world.db.engine.sync_engine.pool, "checkout", checkout)
            event.remove(world.db.engine.sync_engine.pool, "checkin", checkin)
    assert "errors" not in body, body
    assert most[0] == 1


async def test_a_starved_request_is_unavailable_while_tokens_and_authentication_still_work(world):
    # GraphQL's pool: one connection, held by the test; a checkout waits at most 0.5 s.
    tiny = world.db.with_own_pool(PoolSettings(size=1, max_overflow=0, timeout=0.5))
    settings = replace(make_settings(), database=DatabaseSettings(pool_timeout=0.5))
    app = create_app(settings, db=tiny)
    party = await provision_tester(world.db)
    try:
        async with client_of(app) as http, tiny.engine.connect() as holder:
            await holder.execute(text("SELECT 1"))  # the pool's only connection, checked out
            token = await fetch_token(http, party, "BETA")  # (a) token issuance
            response = await http.post("/graphql", json={"query": SMALL},
                                       headers={"Authorization": f"Bearer {token}"})
    finally:
        await tiny.dispose()
    # (b) authentication passed (not 401/UNAUTHENTICATED); the query could not get a
    # connection and says so, retryably.
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "2"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert error["message"] == "The database is busy; retry in a few seconds"
