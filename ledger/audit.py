"""The audit log: who did what, when, in which request — append-only.

Events (`EVENTS`):

- `token_issued` / `token_refused`: the authorization server's answers (`detail`: the
  granted scopes; or the OAuth error's description, the client id and entity as presented);
- `authentication_refused`: a bearer token refused at /graphql (`detail.reason`, one of the
  verifier's fixed reasons);
- `access_denied`: a request some of whose fields were refused for missing scopes, one row
  per request listing each path with its missing scopes;
- `mutation`: every mutation that ran, successful or not (`detail`: the mutation, the
  entries it produced, or the error code and the violations);
- `sensitive_read`: source fields marked sensitive that a request returned (`detail`: the
  system, record type, field names and the ids of the records returned).

Every row carries the request id, the client and the user it acted as, and the entity
(null when the event cannot be attributed: a token request from a client that did not
authenticate, a token that did not verify). No row ever holds a secret, token or
credential: callers put only identifiers, fixed reasons and codes into `detail`.

Writing: a request collects its events in an `AuditTrail` and `record` writes them in one
INSERT at its end; a successful mutation's row is written with `append` inside the
mutation's own transaction, so a committed posting always has its audit row. The rows are
append-only: `ledger.tenancy` refuses UPDATE and DELETE through the ORM, and triggers
(migration 0006) refuse them in the database.

Verifying: each entity's events (and, apart, those of no entity: chain 0) form a hash chain
like the ledger's (`ledger.hashing`): an event's hash is SHA-256 over the previous one's and
the canonical JSON of everything it records, with a gapless `seq`. A writer locks the
chain's head (`audit_heads`, an UPDATE: a row lock on PostgreSQL, the write lock on SQLite)
before it extends it, so chains stay linear under concurrent requests; the lock is held
for the short audit transaction only, or for the posting's, which holds its entity's lock
anyway. `verify` recomputes the chains and names the first event that no longer holds,
a missing seq (a deleted event) or a head that is not the last event (a deleted tail).

Reading: `page` through an entity-confined session (newest first), `listing` across
entities for the command line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from .model import GENESIS_HASH, AuditEvent, AuditHead, Entity, JournalEntry
from .store import LedgerDatabase
from .tenancy import ENTITY_KEY, EntityConfinementError

TOKEN_ISSUED = "token_issued"
TOKEN_REFUSED = "token_refused"
AUTHENTICATION_REFUSED = "authentication_refused"
ACCESS_DENIED = "access_denied"
MUTATION = "mutation"
SENSITIVE_READ = "sensitive_read"
# A change to the books' setup (`ledger.admin`, `ledger.closing`), from GraphQL or the CLI.
ADMIN = "admin"
# A signed push from a source system (`gateway.push_endpoint`) that was refused; a push that
# changed something leaves a `mutation` row in the change's transaction.
PUSH_REFUSED = "push_refused"
EVENTS = (
    TOKEN_ISSUED, TOKEN_REFUSED, AUTHENTICATION_REFUSED, ACCESS_DENIED, MUTATION, SENSITIVE_READ,
    ADMIN, PUSH_REFUSED,
)
OK = "OK"

TABLE = AuditEvent.__table__
HEADS = AuditHead.__table__
NO_ENTITY_CHAIN = 0  # the chain of events no entity can be named for (entity ids start at 1)


def utc_stamp(moment: dt.datetime | None = None) -> str:
    """ISO-8601 UTC with microseconds and `Z`: the stored form, which sorts as time does.
    A naive `moment` is taken as UTC."""
    moment = moment or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Event:
    """One event to write. `entity_code` names the entity when only its code is known
    (a refused token's verified claim, an authenticated client's token request); `record`
    resolves it to `entity_id`."""

    event: str
    outcome: str
    request_id: str
    detail: dict
    client_id: str | None = None
    username: str | None = None
    entity_id: int | None = None
    entity_code: str | None = None
    occurred_at: str = field(default_factory=utc_stamp)

    def __post_init__(self):
        if self.event not in EVENTS:
            raise ValueError(f"unknown audit event {self.event!r}")

    def row(self) -> dict:
        return {
            "entity_id": self.entity_id,
            "occurred_at": self.occurred_at,
            "request_id": self.request_id,
            "event": self.event,
            "outcome": self.outcome,
            "client_id": self.client_id,
            "username": self.username,
            "detail": self.detail,
        }


class AuditTrail:
    """The events one request has to record, with whom it acts as.

    Costs nothing until something is recorded: the usual query records nothing, and its
    request then writes nothing (`pending()` is empty).
    """

    __slots__ = ("request_id", "client_id", "username", "entity_id", "events", "_reads")

    def __init__(
        self,
        request_id: str,
        *,
        client_id: str | None = None,
        username: str | None = None,
        entity_id: int | None = None,
    ):
        self.request_id = request_id
        self.client_id = client_id
        self.username = username
        self.entity_id = entity_id
        self.events: list[Event] = []
        # (system, record type, fields) → ids returned, in the order first returned.
        self._reads: dict[tuple[str, str, tuple[str, ...]], dict[str, None]] = {}

    def event(self, event: str, outcome: str, detail: dict) -> Event:
        """An event of this request, by its caller (not yet recorded)."""
        return Event(
            event, outcome, self.request_id, detail, self.client_id, self.username,
            self.entity_id,
        )

    def add(self, event: str, outcome: str, detail: dict) -> None:
        self.events.append(self.event(event, outcome, detail))

    def sensitive_read(
        self, system: str, record_type: str, fields: tuple[str, ...], record_id: str
    ) -> None:
        """A record whose sensitive `fields` the response carries; one row per (system,
        record type, fields) lists every id."""
        self._reads.setdefault((system, record_type, fields), {})[record_id] = None

    @property
    def has_sensitive_reads(self) -> bool:
        return bool(self._reads)

    def pending(self) -> list[Event]:
        reads = [
            self.event(SENSITIVE_READ, OK, {
                "system": system, "recordType": record_type, "fields": list(fields),
                "recordIds": list(ids),
            })
            for (system, record_type, fields), ids in self._reads.items()
        ]
        return [*self.events, *reads]

    def mutation_event(self, operation: str, detail: dict) -> Callable[[list[dict]], Event]:
        """The mutation's row once its entries (`[{"id", "number"}]`) are known."""
        return lambda entries: self.event(MUTATION, OK, {
            "operation": operation, **detail, "entries": entries,
        })

    def mutation_recorder(
        self, operation: str, detail: dict
    ) -> Callable[[AsyncSession, Sequence[int], Mapping[int, str]], Awaitable[None]]:
        """The hook a posting calls before it commits (`posting.post_entries`'s
        `before_commit`): the mutation's row, naming the entries, in its transaction.
        The numbers of the entries the posting wrote come with the call; only those of
        replayed entries are read."""
        event = self.mutation_event(operation, detail)

        async def record_in(
            session: AsyncSession, entry_ids: Sequence[int], known: Mapping[int, str]
        ) -> None:
            numbers = dict(known)
            if missing := sorted(set(entry_ids) - numbers.keys()):
                numbers.update((await session.execute(
                    select(JournalEntry.id, JournalEntry.number).where(JournalEntry.id.in_(missing))
                )).all())
            await append(session, [event([{"id": i, "number": numbers.get(i)} for i in entry_ids])])

        return record_in


# --- writing -------------------------------------------------------------------------------

# What an event's hash covers: every column but the autoincrement id and the hash itself.
HASHED = ("chain", "seq", "entity_id", "occurred_at", "request_id", "event", "outcome",
          "client_id", "username", "detail")


def event_hash(prev_hash: str, row: dict) -> str:
    document = {name: row[name] for name in HASHED}
    digest = hashlib.sha256()
    digest.update(prev_hash.encode())
    digest.update(b"\n")
    digest.update(
        json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    return digest.hexdigest()


async def _lock_head(executor: AsyncConnection | AsyncSession, dialect: str, chain: int):
    """Lock a chain's head for this transaction and return (seq, hash), creating it first
    if this is the chain's first event."""
    lock = (
        update(HEADS).where(HEADS.c.chain == chain).values(seq=HEADS.c.seq)
        .returning(HEADS.c.seq, HEADS.c.hash)
    )
    head = (await executor.execute(lock)).first()
    if head is None:
        # Two first writers may race here: the loser's insert does nothing, and both then
        # queue on the one row.
        dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await executor.execute(
            dialect_insert(HEADS).values(chain=chain, seq=0, hash=GENESIS_HASH)
            .on_conflict_do_nothing()
        )
        head = (await executor.execute(lock)).first()
    return head.seq, head.hash


async def _write(executor: AsyncConnection | AsyncSession, dialect: str, rows: list[dict]) -> None:
    """Chain `rows` (their entity ids known) and insert them: one INSERT, and per chain
    touched a lock of its head and its update. Chains are locked in one order (ids
    ascending), so two writers never wait for each other in a cycle."""
    chains: dict[int, list[dict]] = {}
    for row in rows:
        chain = row["entity_id"] if row["entity_id"] is not None else NO_ENTITY_CHAIN
        chains.setdefault(chain, []).append(row)
    for chain in sorted(chains):
        seq, head = await _lock_head(executor, dialect, chain)
        for row in chains[chain]:
            seq += 1
            row.update(chain=chain, seq=seq, prev_hash=head)
            head = row["hash"] = event_hash(head, row)
        await executor.execute(
            update(HEADS).where(HEADS.c.chain == chain).values(seq=seq, hash=head)
        )
    await executor.execute(insert(TABLE), rows)


async def append(session: AsyncSession, events: Sequence[Event]) -> None:
    """Write `events` in the session's transaction (the caller commits). Each must belong
    to the session's entity. The rows carry their entity and the heads are no entity's, so
    they go through the transaction's connection, without the ORM's cost per statement."""
    if events:
        entity_id = session.info.get(ENTITY_KEY)
        if any(e.entity_id != entity_id for e in events):
            raise EntityConfinementError(f"an audit event of another entity in entity {entity_id}")
        connection = await session.connection()
        await _write(connection, connection.dialect.name, [e.row() for e in events])


async def record(db: LedgerDatabase, events: Sequence[Event]) -> None:
    """Write `events` in a transaction of their own (one INSERT; for events naming their
    entity by code alone, one SELECT first: an unknown code is no entity). Raises what the
    database raises."""
    if not events:
        return
    codes = sorted({e.entity_code for e in events if e.entity_id is None and e.entity_code})
    ids: dict[str, int] = {}
    if codes:
        # Before the write's transaction, which must start by locking a head: on SQLite a
        # transaction that read first cannot take the write lock once another wrote.
        async with db.engine.connect() as connection:
            found = await connection.execute(
                select(Entity.code, Entity.id).where(Entity.code.in_(codes))
            )
            ids = dict(found.all())
    rows = []
    for event in events:
        row = event.row()
        if row["entity_id"] is None and event.entity_code:
            row["entity_id"] = ids.get(event.entity_code)
        rows.append(row)
    async with db.engine.begin() as connection:
        await _write(connection, connection.dialect.name, rows)


# --- verifying ------------------------------------------------------------------------------

CHUNK = 2000


@dataclass(frozen=True)
class ChainVerification:
    """One chain: its entity (code; None for chain 0), whether it holds, how many events
    were checked, the first seq that does not hold, and the head an auditor can note down
    to compare with later."""

    chain: int
    entity: str | None
    ok: bool
    events_checked: int
    first_broken_seq: int | None
    head_seq: int
    head_hash: str


async def _verify_chain(connection: AsyncConnection, chain: int, entity: str | None,
                        head_seq: int, head_hash: str) -> ChainVerification:
    prev, expected, checked = GENESIS_HASH, 1, 0

    def result(ok: bool, broken: int | None) -> ChainVerification:
        return ChainVerification(chain, entity, ok, checked, broken, head_seq, head_hash)

    while True:
        rows = (
            await connection.execute(
                select(*TABLE.c).where(TABLE.c.chain == chain, TABLE.c.seq >= expected)
                .order_by(TABLE.c.seq).limit(CHUNK)
            )
        ).mappings().all()
        if not rows:
            break
        for row in rows:
            if row["seq"] != expected:  # a deleted event
                return result(False, expected)
            checked += 1
            if row["prev_hash"] != prev or event_hash(prev, dict(row)) != row["hash"]:
                return result(False, row["seq"])
            prev, expected = row["hash"], expected + 1
    if head_seq != expected - 1 or head_hash != prev:  # a deleted tail
        return result(False, expected)
    return result(True, None)


async def verify(db: LedgerDatabase, *, entity: str | None = None) -> list[ChainVerification]:
    """Recompute every chain (or `entity`'s, by code); LookupError for an unknown entity."""
    async with db.engine.connect() as connection:
        heads = select(HEADS.c.chain, HEADS.c.seq, HEADS.c.hash, Entity.code).outerjoin(
            Entity, Entity.id == HEADS.c.chain
        )
        if entity is not None:
            entity_id = await connection.scalar(select(Entity.id).where(Entity.code == entity))
            if entity_id is None:
                raise LookupError(f"no entity {entity!r}")
            heads = heads.where(HEADS.c.chain == entity_id)
        found = (await connection.execute(heads.order_by(HEADS.c.chain))).all()
        # A chain with events but no head (the head row deleted) is broken too.
        chains = {row.chain for row in found}
        orphans = select(TABLE.c.chain).distinct()
        if entity is not None:
            orphans = orphans.where(TABLE.c.chain == entity_id)
        missing = [c for c in (await connection.scalars(orphans)).all() if c not in chains]
        results = [
            await _verify_chain(connection, row.chain, row.code, row.seq, row.hash) for row in found
        ]
        for chain in missing:
            code = await connection.scalar(select(Entity.code).where(Entity.id == chain))
            results.append(await _verify_chain(connection, chain, code, 0, GENESIS_HASH))
        return results


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    """Which events: every condition given must hold. `since` ≤ occurred_at < `until`."""

    event: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    client_id: str | None = None
    request_id: str | None = None

    def where(self, statement):
        if self.event is not None:
            statement = statement.where(AuditEvent.event == self.event)
        if self.since is not None:
            statement = statement.where(AuditEvent.occurred_at >= utc_stamp(self.since))
        if self.until is not None:
            statement = statement.where(AuditEvent.occurred_at < utc_stamp(self.until))
        if self.client_id is not None:
            statement = statement.where(AuditEvent.client_id == self.client_id)
        if self.request_id is not None:
            statement = statement.where(AuditEvent.request_id == self.request_id)
        return statement


async def page(
    session: AsyncSession, where: AuditFilter, first: int, before_id: int | None = None
) -> tuple[list[AuditEvent], bool]:
    """The session's entity's events, newest first (highest id first), `first` of them
    after the cursor `before_id`; and whether more follow. The entity comes from the
    session (`ledger.tenancy`), never from an argument."""
    statement = where.where(select(AuditEvent))
    if before_id is not None:
        statement = statement.where(AuditEvent.id < before_id)
    rows = list(await session.scalars(statement.order_by(AuditEvent.id.desc()).limit(first + 1)))
    return rows[:first], len(rows) > first


@dataclass(frozen=True)
class ListedEvent:
    id: int
    occurred_at: str
    request_id: str
    event: str
    outcome: str
    entity: str | None
    client_id: str | None
    username: str | None
    detail: dict


async def listing(
    db: LedgerDatabase, where: AuditFilter, *, entity: str | None = None, limit: int = 100
) -> list[ListedEvent]:
    """Events of every entity (or of `entity`, by code), newest first: the operator's view
    (`ledgergate audit list`), across entities on purpose, so on a plain connection.
    Raises LookupError for an unknown `entity`."""
    statement = where.where(
        select(*TABLE.c, Entity.code.label("entity")).outerjoin(
            Entity, Entity.id == AuditEvent.entity_id
        )
    )
    if entity is not None:
        statement = statement.where(Entity.code == entity)
    statement = statement.order_by(AuditEvent.id.desc()).limit(limit)
    async with db.engine.connect() as connection:
        if entity is not None and await connection.scalar(
            select(Entity.id).where(Entity.code == entity)
        ) is None:
            raise LookupError(f"no entity {entity!r}")
        rows = (await connection.execute(statement)).all()
    return [
        ListedEvent(
            r.id, r.occurred_at, r.request_id, r.event, r.outcome, r.entity, r.client_id,
            r.username, r.detail,
        )
        for r in rows
    ]
