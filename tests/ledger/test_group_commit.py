"""Group commit: concurrent single postings of one entity share a transaction, and each
caller still gets its own outcome."""

import asyncio
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from ledger.audit import AuditTrail
from ledger.drafts import EntryDraft, LineDraft
from ledger.errors import Conflict, InvalidEntry
from ledger.model import AuditEvent, JournalEntry
from ledger.posting_plan import Posting
from ledger.verification import verify_chain

LOCK = "UPDATE entities SET head_seq=entities.head_seq"


def _draft(amount="5", revenue="4000") -> EntryDraft:
    return EntryDraft(
        journal="SALES", date=dt.date(2026, 3, 15), description=f"sale {amount}", source=None,
        lines=(
            LineDraft(account="1100", debit=Decimal(amount), credit=None, quantity=None,
                      memo=None, dimensions=(), sources=()),
            LineDraft(account=revenue, debit=None, credit=Decimal(amount), quantity=None,
                      memo=None, dimensions=(), sources=()),
        ),
    )


def _event(key: str, entity_id: int):
    trail = AuditTrail("req-" + key, client_id="c1", entity_id=entity_id)
    return trail.mutation_event("postJournalEntry", {"key": key})


async def _outcomes(world, postings, events=None):
    queue = world.db.group_commit
    events = events or [_event(p.idempotency_key, world.acme) for p in postings]
    return await asyncio.gather(
        *(queue.post(world.acme, p, audit_event=e) for p, e in zip(postings, events)),
        return_exceptions=True,
    )


async def test_concurrent_postings_share_one_transaction_each_with_its_own_outcome(world, statements):
    postings = [
        Posting(_draft("1"), "a", "c1"),
        Posting(_draft("2", revenue="0000"), "bad", "c1"),  # unknown account
        Posting(_draft("3"), "b", "c1"),
        Posting(_draft("4"), "a", "c1"),  # key a with another request
        Posting(_draft("1"), "a", "c1"),  # key a again, same request: a's entry
        Posting(_draft("6"), "a", "c2"),  # another client's key a: its own
    ]
    outcomes = await _outcomes(world, postings)
    assert sum(LOCK in s for s in statements.statements) == 1  # one transaction
    a, bad, b, conflict, repeat, other = outcomes
    assert a.entry.number == "JE-0000001" and repeat.entry == a.entry  # as written
    a, b, repeat, other = a.id, b.id, repeat.id, other.id
    assert isinstance(bad, InvalidEntry) and "unknown account '0000'" in str(bad)
    assert isinstance(conflict, Conflict)
    assert repeat == a
    async with world.db.session(world.acme) as session:
        numbers = dict((await session.execute(select(JournalEntry.id, JournalEntry.number))).all())
        descriptions = [d for d in await session.scalars(
            select(JournalEntry.description).order_by(JournalEntry.seq))]
        assert (await verify_chain(session)).ok
        audited = list(await session.scalars(select(AuditEvent.detail).order_by(AuditEvent.seq)))
    # Numbered and chained in arrival order.
    assert [numbers[i] for i in (a, b, other)] == ["JE-0000001", "JE-0000002", "JE-0000003"]
    assert descriptions == ["sale 1", "sale 3", "sale 6"]
    # One audit row per caller whose posting stands (the repeat included), in the transaction.
    assert [d["key"] for d in audited] == ["a", "b", "a", "a"]
    assert [d["entries"][0]["number"] for d in audited] == [
        "JE-0000001", "JE-0000002", "JE-0000001", "JE-0000003"]


async def test_a_group_that_fails_whole_is_retried_posting_by_posting(world):
    def broken(entries):
        raise RuntimeError("a bug in one caller's audit row")

    postings = [Posting(_draft(str(n)), f"k{n}", "c1") for n in (1, 2, 3)]
    events = [_event("k1", world.acme), broken, _event("k3", world.acme)]
    first, second, third = await _outcomes(world, postings, events)
    assert isinstance(second, RuntimeError)
    assert first.entry.description == "sale 1" and third.entry.description == "sale 3"
    async with world.db.session(world.acme) as session:
        keys = list(await session.scalars(select(JournalEntry.description).order_by(JournalEntry.seq)))
        assert keys == ["sale 1", "sale 3"]  # the failed one left nothing behind
        assert (await verify_chain(session)).ok


async def test_an_ill_formed_key_is_refused_before_it_queues(world):
    with pytest.raises(InvalidEntry, match="idempotencyKey"):
        await world.db.group_commit.post(world.acme, Posting(_draft(), " padded", "c1"))


async def test_entities_post_apart(world):
    beta = EntryDraft(
        journal="SALES", date=dt.date(2026, 3, 15), description=None, source=None,
        lines=(LineDraft(account="1000", debit=Decimal("1"), credit=None, quantity=None,
                         memo=None, dimensions=(), sources=()),
               LineDraft(account="4000", debit=None, credit=Decimal("1"), quantity=None,
                         memo=None, dimensions=(), sources=())))
    queue = world.db.group_commit
    acme, beta = await asyncio.gather(
        queue.post(world.acme, Posting(_draft(), "x", "c1")),
        queue.post(world.beta, Posting(beta, "x", "c1")),
    )
    assert acme.entry.number == beta.entry.number == "JE-0000001"  # each its own numbering
    async with world.db.session(world.beta) as session:
        assert await session.scalar(select(JournalEntry.id).where(JournalEntry.id == acme.id)) is None


async def test_a_group_waits_for_the_callers_its_last_group_suggests(world, statements):
    from ledger.group_commit import GroupCommit

    queue = GroupCommit(world.db, gather_seconds=0.5)
    queue._last_group[world.acme] = 2  # the last group held two postings
    first = asyncio.create_task(queue.post(world.acme, Posting(_draft("1"), "g1", "c1")))
    await asyncio.sleep(0.05)  # the second caller is still on its way
    second = await queue.post(world.acme, Posting(_draft("2"), "g2", "c1"))
    assert (await first).entry.number == "JE-0000001" and second.entry.number == "JE-0000002"
    assert sum(LOCK in s for s in statements.statements) == 1  # one transaction for both


async def test_a_lone_caller_never_waits(world):
    from ledger.group_commit import GroupCommit

    queue = GroupCommit(world.db, gather_seconds=3600)
    for n in range(3):  # each group held one posting: nobody is expected
        posted = await asyncio.wait_for(
            queue.post(world.acme, Posting(_draft(str(n + 1)), f"l{n}", "c1")), timeout=30)
        assert posted.entry.number == f"JE-000000{n + 1}"
