"""The reference cache: postings stop reading accounts, journals, dimension values and
periods once known, and still see every change at once, whoever makes it."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text, update

from ledger.drafts import EntryDraft, LineDraft
from ledger.errors import InvalidEntry
from ledger.model import Account, Period
from ledger.posting import lock_entity, post_entries
from ledger.posting_plan import Posting, resolve_refs
from ledger.store import LedgerDatabase

REFERENCE_TABLES = ("FROM accounts", "FROM journals", "FROM dimension_values", "FROM periods")


def _draft(day=dt.date(2026, 3, 15), revenue="4000") -> EntryDraft:
    return EntryDraft(
        journal="SALES", date=day, description=None, source=None,
        lines=(
            LineDraft(account="1100", debit=Decimal("5"), credit=None,
                      quantity=None, memo=None, dimensions=(("CUSTOMER", "C1"),), sources=()),
            LineDraft(account=revenue, debit=None, credit=Decimal("5"),
                      quantity=None, memo=None, dimensions=(), sources=()),
        ),
    )


async def _post(db: LedgerDatabase, entity_id: int, key: str, **draft) -> int:
    async with db.session(entity_id) as session:
        return (await post_entries(session, [Posting(_draft(**draft), key)]))[0]


async def test_a_second_posting_reads_no_reference_row(world, statements):
    await _post(world.db, world.acme, "first")
    statements.reset()
    await _post(world.db, world.acme, "second")
    assert statements.count > 0
    assert not [s for s in statements.statements if any(t in s for t in REFERENCE_TABLES)]


async def test_a_change_through_another_process_is_seen_by_the_next_posting(world):
    await _post(world.db, world.acme, "warm")
    # Another gateway process: its own engine, pool and cache on the same database.
    other = LedgerDatabase.from_url(world.db.engine.url.render_as_string(hide_password=False))
    try:
        async with other.session(world.acme) as session:
            await session.execute(update(Account).where(Account.code == "4000").values(active=False))
            await session.commit()
    finally:
        await other.dispose()
    with pytest.raises(InvalidEntry, match="account '4000' is inactive"):
        await _post(world.db, world.acme, "after")


async def test_a_change_in_plain_sql_is_seen_by_the_next_posting(world):
    await _post(world.db, world.acme, "warm")
    async with world.db.engine.begin() as connection:
        await connection.execute(text(
            "UPDATE periods SET closed = true WHERE name = '2026-03' AND entity_id = :e"
        ), {"e": world.acme})
    with pytest.raises(InvalidEntry, match="period 2026-03 is closed"):
        await _post(world.db, world.acme, "after")


async def test_another_entitys_change_keeps_this_entitys_book(world, statements):
    await _post(world.db, world.acme, "warm")
    async with world.db.session(world.beta) as session:
        await session.execute(update(Account).where(Account.code == "4000").values(name="Rooms"))
        await session.commit()
    statements.reset()
    await _post(world.db, world.acme, "after")
    assert not [s for s in statements.statements if any(t in s for t in REFERENCE_TABLES)]


async def test_what_a_rolled_back_transaction_changed_never_reaches_the_cache(world):
    """Closing a period and posting in one transaction (as the year-end close does) reads
    the transaction's own rows; they must not outlive its rollback."""
    await _post(world.db, world.acme, "warm")
    async with world.db.session(world.acme) as session:
        entity = await lock_entity(session)
        await session.execute(update(Period).where(Period.name == "2026-03").values(closed=True))
        [refs] = await resolve_refs(session, entity, [_draft()])
        assert refs.period.closed
        await session.rollback()
    await _post(world.db, world.acme, "after")  # 2026-03 is open: the rollback undid it
