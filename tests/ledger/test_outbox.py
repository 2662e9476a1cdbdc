"""The outbox's claims, leases, retries and dead letters (on the database under test)."""

import asyncio
import datetime as dt
import random

import pytest
from sqlalchemy import select, text

from ledger import outbox
from ledger.outbox import DEAD, DELIVERED, PENDING, OutboxMessage, RetrySchedule

T0 = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


async def _add(world, record="SO-1", versions=(1,), system="crm", entity=None):
    async with world.db.session(entity or world.acme) as s:
        for v in versions:
            s.add(OutboxMessage(system=system, topic="salesOrder", record_key=record, version=v,
                                idempotency_key=f"{entity or world.acme}:{system}:{record}:v{v}",
                                payload={"v": v}, state=PENDING, attempts=0,
                                next_attempt_at=outbox.stamp(T0), created_at=outbox.stamp(T0)))
        await s.commit()


async def _states(world):
    async with world.db.engine.connect() as c:
        rows = await c.execute(select(OutboxMessage.record_key, OutboxMessage.version,
                                      OutboxMessage.state, OutboxMessage.attempts)
                               .order_by(OutboxMessage.id))
        return [tuple(r) for r in rows]


async def test_one_record_goes_out_one_version_at_a_time_in_order(world):
    await _add(world, "SO-1", (1, 2, 3))
    await _add(world, "SO-2", (1,))
    engine = world.db.engine
    first = await outbox.claim(engine, "a", now=at(0))
    assert [(c.record_key, c.version) for c in first] == [("SO-1", 1), ("SO-2", 1)]
    assert await outbox.claim(engine, "b", now=at(1)) == []  # SO-1 v2 waits for v1
    for c in first:
        assert await outbox.delivered(engine, c, "a", now=at(2))
    [second] = await outbox.claim(engine, "b", now=at(3))
    assert (second.version, second.attempts) == (2, 1)


async def test_a_failed_attempt_waits_its_delay_then_dies_when_the_schedule_is_spent(world):
    await _add(world)
    engine, schedule = world.db.engine, RetrySchedule((10.0, 30.0), jitter=0.0)
    [c] = await outbox.claim(engine, "a", now=at(0))
    assert await outbox.failed(engine, c, "a", "500", schedule=schedule, now=at(0)) == PENDING
    assert await outbox.claim(engine, "a", now=at(9)) == []
    [c] = await outbox.claim(engine, "a", now=at(10))
    assert await outbox.failed(engine, c, "a", "500", schedule=schedule, now=at(10)) == PENDING
    assert await outbox.claim(engine, "a", now=at(39)) == []
    [c] = await outbox.claim(engine, "a", now=at(40))
    assert await outbox.failed(engine, c, "a", "timeout", schedule=schedule, now=at(40)) == DEAD
    assert await _states(world) == [("SO-1", 1, DEAD, 3)]
    assert await outbox.claim(engine, "a", now=at(10**6)) == []
    async with engine.begin() as connection:
        assert await outbox.retry_dead(connection) == [c.id]
    [again] = await outbox.claim(engine, "a", now=at(10**6))
    assert again.attempts == 1


async def test_a_refusal_for_good_dies_at_once_and_later_versions_still_go(world):
    await _add(world, versions=(1, 2))
    engine = world.db.engine
    [c] = await outbox.claim(engine, "a", now=at(0))
    assert await outbox.failed(engine, c, "a", "422", schedule=RetrySchedule(), permanent=True, now=at(0)) == DEAD
    [later] = await outbox.claim(engine, "a", now=at(0))
    assert later.version == 2  # it carries the whole record: the dead one is superseded


async def test_a_killed_dispatchers_lease_expires_and_its_messages_are_claimed_again(world):
    await _add(world)
    engine = world.db.engine
    [c] = await outbox.claim(engine, "killed", lease=60, now=at(0))
    assert await outbox.claim(engine, "b", now=at(59)) == []
    [again] = await outbox.claim(engine, "b", now=at(61))
    assert again.idempotency_key == c.idempotency_key  # the same key on every attempt
    # The first owner comes back too late: its result no longer counts.
    assert not await outbox.delivered(engine, c, "killed", now=at(62))
    assert await outbox.delivered(engine, again, "b", now=at(62))
    assert await _states(world) == [("SO-1", 1, DELIVERED, 2)]


async def test_concurrent_claimers_never_share_a_message(world):
    for n in range(40):
        await _add(world, f"SO-{n}", (1, 2))
    engine = world.db.engine
    claims = await asyncio.gather(*(outbox.claim(engine, f"d{i}", limit=7, now=at(0)) for i in range(6)))
    ids = [c.id for batch in claims for c in batch]
    assert len(ids) == len(set(ids)) and len(ids) == 40
    assert all(c.version == 1 for batch in claims for c in batch)


def test_the_schedule_jitters_within_its_bounds_reproducibly():
    schedule = RetrySchedule((10.0, 30.0, 90.0), jitter=0.2)
    rng = random.Random(7)
    waits = [schedule.delay_after(n, rng) for n in (1, 2, 3)]
    assert 8 <= waits[0] <= 12 and 24 <= waits[1] <= 36 and 72 <= waits[2] <= 108
    again = random.Random(7)
    assert waits == [schedule.delay_after(n, again) for n in (1, 2, 3)]
    assert schedule.delay_after(4, rng) is None


@pytest.mark.parametrize("delays,jitter", [((), 0.1), ((-1.0,), 0.1), ((1.0,), 1.0)])
def test_a_bad_schedule_is_refused(delays, jitter):
    with pytest.raises(ValueError):
        RetrySchedule(delays, jitter)


async def test_backlog_counts_each_state(world):
    await _add(world, versions=(1, 2))
    [c] = await outbox.claim(world.db.engine, "a", now=at(0))
    await outbox.delivered(world.db.engine, c, "a", now=at(0))
    assert await outbox.backlog(world.db.engine) == {PENDING: 1, DELIVERED: 1, DEAD: 0}


async def test_a_claim_walks_the_pending_messages_in_id_order_and_stops_at_its_limit(world):
    """Migration 0014: SQLite had read every pending message through the (state, due time)
    index and sorted them all by id for each claim; through (state, id) they come in order."""
    if world.db.engine.dialect.name == "postgresql":
        async with world.db.engine.connect() as conn:
            definition = await conn.scalar(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_outbox_messages_state'"))
        assert definition is not None and "(state, id)" in definition, definition
        return
    for n in range(5):
        await _add(world, f"SO-{n}", (1, 2))
    seen: list[tuple] = []
    world.db.listen("before_cursor_execute",
                    lambda _c, _cur, statement, params, *_: seen.append((statement, params)))
    claimed = await outbox.claim(world.db.engine, "a", limit=3, now=at(0))
    assert [(c.record_key, c.version) for c in claimed] == [("SO-0", 1), ("SO-1", 1), ("SO-2", 1)]
    [(statement, params)] = [(s, p) for s, p in seen if s.lstrip().upper().startswith("UPDATE")]
    async with world.db.engine.connect() as conn:
        plan = [row[-1] for row in (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)).all()]
    assert any("ix_outbox_messages_state" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
