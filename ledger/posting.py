"""Posting and reversing entries: one transaction, all or nothing.

Every write runs in one transaction that first takes the entity's write lock (an UPDATE
of its `entities` row: a row lock on PostgreSQL, the database write lock on SQLite), so
numbering and the chain stay linear and two requests with one idempotency key serialise:
the second sees the first's key and replays its result. What each posting does is
planned under the lock (`ledger.posting_plan`), then written (`ledger.posting_write`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from .drafts import EntryDraft
from .errors import NotFound
from .model import Entity
from .posting_plan import MAX_LINES, Found, Posting, batch_error, plan_postings
from .posting_write import write_plan
from .tenancy import ENTITY_KEY

# Called with the session, the entry ids and the numbers of the entries this transaction
# wrote (id → number; a replayed entry's is not there) just before a write commits, so
# that what it writes (the audit row, `ledger.audit`) commits or rolls back with the
# entries.
BeforeCommit = Callable[[AsyncSession, Sequence[int], Mapping[int, str]], Awaitable[None]]


async def lock_entity(session: AsyncSession) -> Entity:
    """Take the entity's write lock for this transaction and return its fresh head (and its
    `reference_version`, read under the lock: `ledger.reference_cache`)."""
    entity_id = session.info[ENTITY_KEY]
    entity = await session.scalar(
        update(Entity).where(Entity.id == entity_id).values(head_seq=Entity.head_seq)
        .returning(Entity), execution_options={"populate_existing": True},
    )
    if entity is None:
        raise NotFound(f"entity {entity_id} does not exist")
    return entity


async def post_entries(
    session: AsyncSession, postings: Sequence[Posting], *,
    before_commit: BeforeCommit | None = None, max_lines: int = MAX_LINES,
    found: Sequence[Found] = (), path: str = "entries",
) -> list[int]:
    """Validate and post entries in one transaction; all or nothing.

    Returns the entry ids in request order. A posting whose key was seen before with the
    same request returns the original entry; with a different request it raises Conflict.
    Any broken rule raises InvalidEntry listing every violation of every entry, and
    nothing is written.
    `before_commit(session, ids, numbers)` runs in the same transaction, before it commits.
    An entry of more than `max_lines` lines is refused. `found[i]` is what the caller found
    of posting i beforehand (its source links, say): violations, reported with the ledger's
    own, or an error that stops it (a source that could not answer); either way ignored when
    the posting replays a key, so a retry of a posted request gets its entry back.
    `path` names the list in violations' paths (`entries[3].lines[0].account`).
    """
    entity = await lock_entity(session)
    plan = await plan_postings(session, entity, postings, max_lines=max_lines, found=found)
    if plan.errors:
        raise batch_error(plan.errors, len(postings), path)
    await write_plan(session, entity, plan)
    ids = [plan.ids[i] for i in range(len(postings))]
    if before_commit is not None:
        await before_commit(
            session, ids, {entry.id: entry.number for entry in plan.written.values()}
        )
    await session.commit()
    return ids


async def post_entry(
    session: AsyncSession, draft: EntryDraft, idempotency_key: str, *,
    client: str = "", before_commit: BeforeCommit | None = None, max_lines: int = MAX_LINES,
    found: Found = (),
) -> int:
    return (
        await post_entries(
            session, [Posting(draft, idempotency_key, client)],
            before_commit=before_commit, max_lines=max_lines, found=[found],
        )
    )[0]
