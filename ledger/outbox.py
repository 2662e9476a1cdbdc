"""The transactional outbox: messages other systems must receive, written in the same
transaction as the change they report (`ledger.documents.sales_orders`), delivered after
it commits by a dispatcher (`gateway.outbox_dispatcher`) through these functions.

Delivery is at least once; the receiver applies a message once because each carries an
idempotency key that never changes across attempts. Order per record: a message is only
claimed when no earlier version of the same record (same company, system, topic, key) is
still PENDING, so one record's messages go out one at a time, in version order; each also
carries its version (and the record's whole state), so a receiver can ignore anything older
than what it has.

Several dispatchers may run at once (several gateway processes on one PostgreSQL
database): a claim is one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`, which
leases the messages to one dispatcher until `lease_expires_at`; a dispatcher killed in the
middle leaves leases that expire, and its messages are claimed again. On SQLite the same
statement runs without the row locks (SQLite has one writer at a time).

The dispatcher works for every company at once: these functions run on a plain engine
connection, outside the entity-confined sessions (`ledger.tenancy`), and say so. Timestamps
are ISO-8601 UTC text with microseconds, compared as text (the format sorts as time does).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Sequence

from sqlalchemy import (
    JSON,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from .changes import announce_all_on, announce_on
from .model import Base, EntityScoped, Id


class OutboxMessage(EntityScoped, Base):
    """A message another system must receive, written in the transaction of the change it
    reports and delivered after it commits (`gateway` runs the dispatcher).

    Attributes:
        system: the configured source system to deliver to.
        topic / record_key / version: what it is about (`salesOrder`, `SO-000001`, 3);
            messages of one record are delivered in version order.
        idempotency_key: sent with every attempt, the same each time, so the receiver
            applies the message once.
        state: PENDING, DELIVERED or DEAD.
        next_attempt_at / lease_expires_at / created_at / delivered_at: ISO-8601 UTC text.
        lease_owner: the dispatcher that claimed it until `lease_expires_at`.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        # A claim walks the pending messages in id order. Each database takes its own index
        # for it: SQLite this one (it cannot match the partial index below to a bound
        # `state = ?`; migration 0014), which also serves the counts by state; PostgreSQL
        # the partial one (with this one alone, a claim at 10,000 pending and 30,000
        # delivered took 30 ms instead of 6; without either, the delivered messages, which
        # only grow, are walked too: 34 ms at 60,000).
        Index("ix_outbox_messages_state", "state", "id"),
        Index("ix_outbox_messages_pending", "id", postgresql_where=text("state = 'PENDING'"),
              sqlite_where=text("state = 'PENDING'")),
        Index("ix_outbox_messages_record", "entity_id", "system", "topic", "record_key", "version"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    system: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(64))
    record_key: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="PENDING")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[str] = mapped_column(String(32))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))
    delivered_at: Mapped[str | None] = mapped_column(String(32))


PENDING, DELIVERED, DEAD = "PENDING", "DELIVERED", "DEAD"
# What a delivery's change is announced as (`ledger.changes`): key `<topic>:<record key>`.
DELIVERY_TOPIC = "delivery"
# After each failed attempt, the wait before the next (seconds): Intacct's 10 s, 30 s and
# 90 s, then longer; after the last, the message is DEAD until an operator retries it.
DEFAULT_DELAYS = (10.0, 30.0, 90.0, 300.0, 1800.0, 7200.0)
MAX_ERROR = 1000
_TABLE = OutboxMessage.__table__
_M = _TABLE.c


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(frozen=True)
class RetrySchedule:
    """`delays[n]`: seconds to wait after the (n+1)th failed attempt, each stretched or
    shrunk at random by up to `jitter` (so messages that failed together do not all come
    back together); past the last, DEAD."""

    delays: tuple[float, ...] = DEFAULT_DELAYS
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if not self.delays or any(not (d >= 0) for d in self.delays):
            raise ValueError("retry delays must be a non-empty list of seconds, each 0 or more")
        if not 0 <= self.jitter < 1:
            raise ValueError("retry jitter must be at least 0 and less than 1")

    def delay_after(self, attempts: int, rng: random.Random | None = None) -> float | None:
        """The wait after `attempts` failed attempts, or None: no more attempts."""
        if attempts > len(self.delays):
            return None
        base = self.delays[attempts - 1]
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return base * (1 + spread)


@dataclasses.dataclass(frozen=True)
class Claimed:
    """A message leased to one dispatcher."""

    id: int
    entity_id: int
    system: str
    topic: str
    record_key: str
    version: int
    idempotency_key: str
    payload: dict
    attempts: int  # this attempt included


def _claimable(now: str):
    earlier = _TABLE.alias("earlier")
    blocked = select(earlier.c.id).where(
        earlier.c.entity_id == _M.entity_id, earlier.c.system == _M.system,
        earlier.c.topic == _M.topic, earlier.c.record_key == _M.record_key,
        earlier.c.version < _M.version, earlier.c.state == PENDING,
    ).exists()
    return and_(
        _M.state == PENDING, _M.next_attempt_at <= now,
        (_M.lease_expires_at.is_(None)) | (_M.lease_expires_at < now),
        ~blocked,
    )


async def claim(engine: AsyncEngine, owner: str, *, limit: int = 100, lease: float = 60.0,
                now: dt.datetime | None = None) -> list[Claimed]:
    """Lease up to `limit` due messages to `owner` for `lease` seconds, oldest first, at
    most one per record; each claim counts as an attempt."""
    moment = now or utc_now()
    at, until = stamp(moment), stamp(moment + dt.timedelta(seconds=lease))
    chosen = select(_M.id).where(_claimable(at)).order_by(_M.id).limit(limit)
    if engine.dialect.name == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    statement = (
        update(_TABLE).where(_M.id.in_(chosen.scalar_subquery()))
        .values(lease_owner=owner, lease_expires_at=until, attempts=_M.attempts + 1)
        .returning(_M.id, _M.entity_id, _M.system, _M.topic, _M.record_key, _M.version,
                   _M.idempotency_key, _M.payload, _M.attempts)
    )
    async with engine.begin() as connection:
        rows = (await connection.execute(statement)).all()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)


async def delivered(engine: AsyncEngine, messages: Claimed | Sequence[Claimed], owner: str,
                    now: dt.datetime | None = None, announcements=None) -> int:
    """Mark messages delivered, in one transaction; returns how many `owner` still held (a
    message whose lease it lost is another dispatcher's now, which will deliver it again
    under the same key: the receiver ignores it). Each is announced (`ledger.changes`; on
    SQLite to `announcements`, after the commit)."""
    batch = [messages] if isinstance(messages, Claimed) else list(messages)
    if not batch:
        return 0
    async with engine.begin() as connection:
        rows = await connection.execute(
            update(_TABLE).where(_M.id.in_([m.id for m in batch]), _M.lease_owner == owner,
                                 _M.state == PENDING)
            .values(state=DELIVERED, delivered_at=stamp(now or utc_now()), lease_owner=None,
                    lease_expires_at=None, last_error=None)
            .returning(_M.id))
        done = {row.id for row in rows}
        pending = await announce_all_on(connection, [
            (m.entity_id, DELIVERY_TOPIC, f"{m.topic}:{m.record_key}") for m in batch if m.id in done])
    if announcements is not None:
        for message in pending:
            announcements.emit(message)
    return len(done)


async def _announce(connection, message: Claimed) -> str | None:
    return await announce_on(connection, message.entity_id, DELIVERY_TOPIC,
                             f"{message.topic}:{message.record_key}")


async def failed(engine: AsyncEngine, message: Claimed, owner: str, error: str, *,
                 schedule: RetrySchedule, permanent: bool = False, now: dt.datetime | None = None,
                 rng: random.Random | None = None, announcements=None) -> str | None:
    """Record a failed attempt: PENDING again after the schedule's wait, or DEAD when the
    schedule is spent or the receiver refused it for good (`permanent`). Returns the new
    state, or None if `owner` had lost its lease."""
    moment = now or utc_now()
    wait = None if permanent else schedule.delay_after(message.attempts, rng)
    values = {"lease_owner": None, "lease_expires_at": None, "last_error": error[:MAX_ERROR]}
    if wait is None:
        values["state"] = DEAD
    else:
        values["next_attempt_at"] = stamp(moment + dt.timedelta(seconds=wait))
    async with engine.begin() as connection:
        result = await connection.execute(
            update(_TABLE).where(_M.id == message.id, _M.lease_owner == owner, _M.state == PENDING)
            .values(**values))
        if result.rowcount != 1:
            return None
        pending = await _announce(connection, message)
    if pending and announcements is not None:
        announcements.emit(pending)
    return values.get("state", PENDING)


async def retry_dead(connection, *, ids: Sequence[int] = (), entity_id: int | None = None,
                     now: dt.datetime | None = None) -> list[int]:
    """DEAD messages (those of `ids`, or all; of one company if `entity_id`) back to
    PENDING, due now, with a fresh schedule, in the transaction of `connection` (an
    `AsyncConnection` or `AsyncSession`; the caller commits, with its audit row). Returns
    the ids retried."""
    condition = OutboxMessage.state == DEAD
    if ids:
        condition = condition & OutboxMessage.id.in_(list(ids))
    if entity_id is not None:
        condition = condition & (OutboxMessage.entity_id == entity_id)
    # The mapped class, not the table: through an entity's session the update is confined
    # by `ledger.tenancy` like every other statement of it.
    rows = await connection.execute(
        update(OutboxMessage).where(condition)
        .values(state=PENDING, attempts=0, next_attempt_at=stamp(now or utc_now()))
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False))
    return sorted(r.id for r in rows)


async def backlog(engine: AsyncEngine) -> dict[str, int]:
    """How many messages are in each state, for the logs and `ledgergate outbox list`."""
    async with engine.connect() as connection:
        rows = await connection.execute(select(_M.state, func.count()).group_by(_M.state))
        counts = {PENDING: 0, DELIVERED: 0, DEAD: 0}
        counts.update({state: n for state, n in rows})
        return counts


async def listing(engine: AsyncEngine, *, state: str | None = None, entity_id: int | None = None,
                  limit: int = 100) -> list:
    """The newest messages (of one state, of one company), for operators; each row with its
    company's code as `entity`."""
    from .model import Entity

    statement = (select(_M.id, Entity.code.label("entity"), _M.system, _M.topic, _M.record_key,
                        _M.version, _M.state, _M.attempts, _M.next_attempt_at, _M.delivered_at,
                        _M.last_error)
                 .join(Entity, Entity.id == _M.entity_id).order_by(_M.id.desc()).limit(limit))
    if state is not None:
        statement = statement.where(_M.state == state)
    if entity_id is not None:
        statement = statement.where(_M.entity_id == entity_id)
    async with engine.connect() as connection:
        return list((await connection.execute(statement)).all())
