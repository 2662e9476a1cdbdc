"""Shared fixtures: a fresh database per test (SQLite file, or PostgreSQL when
LEDGERGATE_TEST_DATABASE_URL is set), a small two-entity world, and the real HTTP app."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

# authlib.deprecate installs an "always" filter at the front when first imported; imported
# here, before any test, pytest's own filters (pyproject) go in front of it and apply.
import authlib.deprecate  # noqa: F401
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.app import create_app
from gateway.config import MAX_RATE, RateLimitSettings, Settings
from ledger.migrate import upgrade
from ledger.model import AccountType as AT
from ledger.model import DimensionKind as DK
from ledger.reference import (
    AccountSpec,
    add_accounts,
    add_dimension_values,
    add_journals,
    add_monthly_periods,
    close_periods_through,
    create_entity,
)
from ledger.store import LedgerDatabase, normalize_url
from resolvers.context import Limits
from tests.record_types import linkable_catalog
from tests.callers import GraphQLClient, key_file_for_tests, pin_actor_cache, tester_client

PG_URL = os.environ.get("LEDGERGATE_TEST_DATABASE_URL")


def pytest_report_header(config):
    return f"ledgergate database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}"


@contextlib.asynccontextmanager
async def fresh_database(folder: Path) -> AsyncIterator[LedgerDatabase]:
    """An empty, migrated database of its own: a SQLite file in `folder`, or a PostgreSQL
    database created for it (and dropped after) when LEDGERGATE_TEST_DATABASE_URL is set."""
    if not PG_URL:
        database = LedgerDatabase.from_url(f"sqlite:///{folder / 'ledger.db'}")
        try:
            await upgrade(database.engine)
            yield database
        finally:
            await database.dispose()
        return
    name = f"lg_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    database = LedgerDatabase.from_url(url)
    try:
        await upgrade(database.engine)
        yield database
    finally:
        await database.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[LedgerDatabase]:
    """An empty, migrated database of its own for each test."""
    async with fresh_database(tmp_path) as database:
        yield database


@dataclass
class World:
    db: LedgerDatabase
    acme: int
    beta: int


ACME_ACCOUNTS = [
    AccountSpec("1000", "Cash", AT.ASSET),
    AccountSpec("1100", "Accounts receivable", AT.ASSET),
    AccountSpec("2000", "Accounts payable", AT.LIABILITY),
    AccountSpec("3000", "Retained earnings", AT.EQUITY),
    AccountSpec("4000", "Subscription revenue", AT.REVENUE),
    AccountSpec("5000", "Salaries", AT.EXPENSE),
    AccountSpec("5100", "Old expense", AT.EXPENSE, active=False),
    AccountSpec("9000", "Headcount", AT.STATISTICAL, unit="people", quantity_scale=0),
    AccountSpec("9100", "Storage used", AT.STATISTICAL, unit="GB", quantity_scale=3),
]
BETA_ACCOUNTS = [
    AccountSpec("1000", "Kasse", AT.ASSET),
    AccountSpec("4000", "Room revenue", AT.REVENUE),
    AccountSpec("7777", "Beta only", AT.EXPENSE),
    AccountSpec("9200", "Rooms booked", AT.STATISTICAL, unit="rooms", quantity_scale=0),
]
DIMENSIONS = [
    (DK.DEPARTMENT, "SALES", "Sales"),
    (DK.DEPARTMENT, "ENG", "Engineering"),
    (DK.LOCATION, "NYC", "New York"),
    (DK.CUSTOMER, "C1", "First customer"),
]


async def _entity(db, code, name, currency, accounts, beta_only_dims=()) -> int:
    async with db.session(None) as s:
        entity_id = await create_entity(s, code, name, currency)
        await s.commit()
    async with db.session(entity_id) as s:
        await add_accounts(s, accounts)
        await add_dimension_values(s, [*DIMENSIONS, *beta_only_dims])
        await add_dimension_values(s, [(DK.DEPARTMENT, "OLD", "Closed department")], active=False)
        await add_journals(s, [("GJ", "General journal"), ("SALES", "Sales journal")])
        await add_monthly_periods(s, 2025)
        await add_monthly_periods(s, 2026)
        await close_periods_through(s, dt.date(2025, 12, 31))
        await s.commit()
    return entity_id


@pytest.fixture
async def world(db) -> World:
    acme = await _entity(db, "ACME", "Acme Software Inc.", "USD", ACME_ACCOUNTS)
    beta = await _entity(
        db, "BETA", "Beta Hotels GmbH", "EUR", BETA_ACCOUNTS, [(DK.PROJECT, "BONLY", "Beta only")]
    )
    return World(db, acme, beta)


# Tests send requests as fast as the machine allows (walking every page of a connection,
# say): the per-client rate limits are set out of their reach, so that no test depends on
# the machine's speed. tests/gateway/test_rate_limits.py sets its own, with a fake clock.
UNREACHABLE_RATES = RateLimitSettings(
    requests_per_second=MAX_RATE, burst=MAX_RATE, token_requests_per_minute=MAX_RATE,
    token_requests_per_minute_per_address=MAX_RATE, token_requests_per_minute_per_client=MAX_RATE,
)


def make_settings(**overrides) -> Settings:
    """Settings for the tests' apps: bearer tokens signed with keys sealed by a test secrets
    key (`tests.callers`), rate limits out of reach, query limits overridden by `overrides`."""
    return Settings(
        database_url="sqlite://", limits=Limits(**overrides), secrets_key_file=key_file_for_tests(),
        rate_limit=UNREACHABLE_RATES,
    )


@pytest.fixture
async def http(world) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(), db=world.db, sources=linkable_catalog())
    pin_actor_cache(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledgergate.test") as client:
        yield client


@pytest.fixture
async def gql(http, world) -> GraphQLClient:
    """The tester (every scope) calling the world's app; `entity=` picks the company."""
    return await tester_client(http, world.db)


class StatementCounter:
    def __init__(self, db: LedgerDatabase):
        self.count = 0
        self.statements: list[str] = []
        db.listen("before_cursor_execute", self._seen)  # authentication's own pool too

    def _seen(self, _conn, _cursor, statement, *_args):
        self.count += 1
        self.statements.append(statement)

    def reset(self) -> None:
        self.count = 0
        self.statements.clear()


@pytest.fixture
def statements(world) -> StatementCounter:
    return StatementCounter(world.db)
