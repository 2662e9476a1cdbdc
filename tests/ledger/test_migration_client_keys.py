"""Migration 0009 (idempotency keys per client) keeps every stored key and the triggers
that make them posted history, on SQLite (a table rebuild) and PostgreSQL."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from ledger.migrate import upgrade
from ledger.store import LedgerDatabase
from tests.conftest import PG_URL

ROWS = [
    "INSERT INTO entities (id, code, name, base_currency, head_seq, head_hash) "
    "VALUES (1, 'ACME', 'Acme', 'USD', 1, 'h1')",
    "INSERT INTO journals (id, code, name, active, entity_id) VALUES (1, 'GJ', 'General', true, 1)",
    "INSERT INTO journal_entries (id, seq, number, journal_id, date, posted_at, prev_hash, hash, "
    "entity_id) VALUES (1, 1, 'JE-0000001', 1, '2026-01-02', 't', 'h0', 'h1', 1)",
    "INSERT INTO idempotency_keys (key, request_hash, entry_id, entity_id) "
    "VALUES ('order-1', 'r1', 1, 1)",
]


@pytest.fixture
async def database_at_0008(tmp_path):
    from tests.conftest import fresh_database

    async with fresh_database(tmp_path) as database:
        # fresh_database migrates to head; start this test's own database at 0008 instead.
        if not PG_URL:
            path = tmp_path / "at0008.db"
            old = LedgerDatabase.from_url(f"sqlite:///{path}")
            try:
                await upgrade(old.engine, "0008")
                yield old
            finally:
                await old.dispose()
            return
        async with database.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(database.engine, "0008")
        yield database


async def test_stored_keys_survive_and_stay_immutable(database_at_0008):
    engine = database_at_0008.engine
    async with engine.begin() as conn:
        for statement in ROWS:
            await conn.execute(text(statement))
    await upgrade(engine)
    async with engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT client_id, key, request_hash, entry_id FROM idempotency_keys"))).all()
    assert [tuple(r) for r in rows] == [("", "order-1", "r1", 1)]
    async with engine.begin() as conn:  # another client may now hold the same key
        await conn.execute(text(
            "INSERT INTO idempotency_keys (key, client_id, request_hash, entry_id, entity_id) "
            "VALUES ('order-1', 'lgc_other', 'r2', 1, 1)"))
    with pytest.raises(IntegrityError):  # but one client only once
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO idempotency_keys (key, client_id, request_hash, entry_id, entity_id) "
                "VALUES ('order-1', 'lgc_other', 'r3', 1, 1)"))
    for statement in ("UPDATE idempotency_keys SET request_hash = 'x'",
                      "DELETE FROM idempotency_keys"):
        with pytest.raises(DBAPIError, match="posted history"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
