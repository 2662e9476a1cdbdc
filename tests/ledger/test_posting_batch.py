"""The posting service used in bulk (demo loads, imports): keys, atomicity, scope."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ledger.drafts import EntryDraft, LineDraft
from ledger.errors import Conflict, InvalidEntry
from ledger.model import Account, JournalEntry
from ledger.posting import post_entries
from ledger.posting_plan import Posting
from ledger.tenancy import EntityConfinementError


def draft(amount="1.00", account="1000"):
    value = Decimal(amount)
    return EntryDraft("GJ", dt.date(2026, 5, 5), (LineDraft(account, debit=value), LineDraft("4000", credit=value)))


async def entry_count(db, entity_id):
    async with db.session(entity_id) as s:
        return await s.scalar(select(func.count()).select_from(JournalEntry))


async def test_one_key_twice_in_a_batch_posts_once(world):
    async with world.db.session(world.acme) as s:
        ids = await post_entries(s, [Posting(draft(), "a"), Posting(draft("2.00"), "b"), Posting(draft(), "a")])
    assert ids[0] == ids[2] != ids[1]
    assert await entry_count(world.db, world.acme) == 2


async def test_one_key_with_two_requests_in_a_batch_is_a_conflict(world):
    async with world.db.session(world.acme) as s:
        with pytest.raises(Conflict):
            await post_entries(s, [Posting(draft(), "a"), Posting(draft("2.00"), "a")])
    assert await entry_count(world.db, world.acme) == 0


async def test_one_bad_entry_rejects_the_whole_batch(world):
    async with world.db.session(world.acme) as s:
        with pytest.raises(InvalidEntry) as raised:
            await post_entries(s, [Posting(draft()), Posting(draft(account="7777"))])
    assert [v.path for v in raised.value.violations] == ["entries[1].lines[0].account"]
    assert await entry_count(world.db, world.acme) == 0


async def test_a_session_without_an_entity_reads_nothing(world):
    async with world.db.session(None) as s:
        with pytest.raises(EntityConfinementError):
            await s.scalars(select(Account))


async def test_aggregates_and_joins_are_confined_too(world):
    async with world.db.session(world.beta) as s:
        codes = set(await s.scalars(select(Account.code)))
        count = await s.scalar(select(func.count(Account.id)))
    assert codes == {"1000", "4000", "7777", "9200"} and count == 4
