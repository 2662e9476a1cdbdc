"""Group commit: concurrent postings of one entity share one transaction.

Every posting takes its entity's write lock (`posting.lock_entity`) for numbering and the
hash chain, so postings of one entity run one at a time whatever else is done. Ten callers
used to mean ten transactions in a row, each paying the lock, the idempotency look-up, the
inserts, the audit head and a commit; on SQLite the losers also slept in the driver's busy
handler. Here they queue in the process instead: while one transaction of the entity is in
flight, the postings that arrive wait, and the next transaction takes all of them at once.
When the last group was bigger than what waits now, the next one waits 2 ms for the rest
to arrive (measured: most groups otherwise held one posting, the others still being
parsed); a lone caller, whose last group was itself, never waits.

Each caller still gets its own outcome: the group is planned posting by posting
(`posting_plan.plan_postings`), so a refused posting (a broken rule, a key conflict) fails alone
and the others are written, numbered and chained in arrival order. Each success writes its
own audit row in the transaction. A transaction that fails as a whole (the database went
away, a bug) is retried posting by posting, so no caller fails for another's input.

Only single postings come through here; a bulk posting is its own all-or-nothing
transaction. Across processes nothing changes for correctness: each process's group takes
the entity's lock in the database like any other transaction. A group is taken from the
queue only once that lock is held, so what queued while another process's group held it
joins this one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from . import audit
from .model import JournalEntry
from .posting import lock_entity
from .posting_plan import Found, Posting, plan_postings, request_hashes
from .posting_write import PostedEntry, write_plan
from .validators import MAX_LINES

if TYPE_CHECKING:
    from .store import LedgerDatabase

# The most lines one group transaction writes: a group of many big entries is cut here
# (a single entry bigger than this still goes alone).
MAX_GROUP_LINES = 50_000

# How long a group waits for callers it expects (see `GroupCommit._gather`).
GATHER_SECONDS = 0.002

AuditEvent = Callable[[list[dict]], audit.Event]  # the entries posted → the audit row


@dataclass(frozen=True)
class Posted:
    """A posting's outcome: its entry's id and, when this posting wrote it, the entry as
    written (None when its key replays an earlier entry, which may have changed since)."""

    id: int
    entry: PostedEntry | None


@dataclass
class _Job:
    posting: Posting
    found: Found
    max_lines: int
    audit_event: AuditEvent | None
    done: asyncio.Future


class GroupCommit:
    """Posts single entries, each caller's concurrently arriving with others' in one
    transaction per entity. One per database per process (`LedgerDatabase.group_commit`)."""

    def __init__(
        self, database: LedgerDatabase, *, max_group_lines: int = MAX_GROUP_LINES,
        gather_seconds: float = GATHER_SECONDS,
    ):
        self._database = database
        self._max_group_lines = max_group_lines
        self._gather_seconds = gather_seconds
        self._last_group: dict[int, int] = {}  # entity → how many postings its last group held
        self._waiting: dict[int, list[_Job]] = {}
        self._draining: dict[int, asyncio.Task] = {}
        # SQLite has one writer for the whole file: two entities' groups would only meet in
        # its busy handler, which sleeps; they take turns here instead.
        self.writer: contextlib.AbstractAsyncContextManager = (
            asyncio.Lock() if database.is_sqlite else contextlib.nullcontext()
        )

    async def post(
        self, entity_id: int, posting: Posting, *, found: Found = (),
        max_lines: int = MAX_LINES, audit_event: AuditEvent | None = None,
    ) -> Posted:
        """Post one entry, or raise what `post_entry` would raise.
        `audit_event(entries)` makes the mutation's audit row, written with the entry."""
        request_hashes([posting])  # an ill-formed key is refused before queueing
        job = _Job(posting, found, max_lines, audit_event,
                   asyncio.get_running_loop().create_future())
        self._waiting.setdefault(entity_id, []).append(job)
        if entity_id not in self._draining:
            self._draining[entity_id] = asyncio.create_task(self._drain(entity_id))
        return await job.done

    def _take(self, entity_id: int) -> list[_Job]:
        waiting = self._waiting.get(entity_id, [])
        taken, lines = [], 0
        while waiting and (not taken or lines + len(waiting[0].posting.draft.lines)
                           <= self._max_group_lines):
            job = waiting.pop(0)
            if not job.done.cancelled():  # its caller is gone, before anything was written
                taken.append(job)
                lines += len(job.posting.draft.lines)
        return taken

    async def _gather(self, entity_id: int) -> None:
        """Concurrent callers reach the queue a moment apart (each has its request to parse
        first): when fewer wait than the entity's last group held, give the others
        `gather_seconds` to join. A lone caller's last group was itself: it never waits."""
        waiting = len(self._waiting.get(entity_id, ()))
        if 0 < waiting < self._last_group.get(entity_id, 1):
            await asyncio.sleep(self._gather_seconds)

    async def _drain(self, entity_id: int) -> None:
        try:
            while self._waiting.get(entity_id):
                await self._gather(entity_id)
                async with self.writer:
                    await self._post_group(entity_id)
        except BaseException:  # cancelled (the server is stopping): no caller waits forever
            for job in self._waiting.pop(entity_id, []):
                job.done.cancel()
            raise
        finally:
            del self._draining[entity_id]

    async def _post_group(self, entity_id: int, jobs: list[_Job] | None = None) -> None:
        """Post `jobs`, or (None) those waiting once the entity's lock is held."""
        taken: list[_Job] = []
        try:
            outcomes = await self._transaction(entity_id, jobs, taken)
        except Exception as error:
            if len(taken) > 1:
                for job in taken:
                    await self._post_group(entity_id, [job])
                return
            outcomes = [error] * len(taken)
        except BaseException:
            for job in taken:
                job.done.cancel()
            raise
        for job, outcome in zip(taken, outcomes):
            if job.done.done():
                continue
            if isinstance(outcome, Exception):
                job.done.set_exception(outcome)
            else:
                job.done.set_result(outcome)

    async def _transaction(
        self, entity_id: int, jobs: list[_Job] | None, taken: list[_Job]
    ) -> list[Posted | Exception]:
        async with self._database.session(entity_id) as session:
            entity = await lock_entity(session)
            if jobs is None:
                # Taken only now: what queued while the lock was awaited (another process's
                # group held it, say) joins this group instead of waiting for the next.
                jobs = self._take(entity_id)
                self._last_group[entity_id] = len(jobs)
            taken.extend(jobs)
            if not jobs:
                return []
            plan = await plan_postings(
                session, entity, [j.posting for j in jobs],
                max_lines=[j.max_lines for j in jobs], found=[j.found for j in jobs],
            )
            await write_plan(session, entity, plan)
            posted = {i: plan.ids[i] for i in range(len(jobs)) if i not in plan.errors}
            numbers = {entry.id: entry.number for entry in plan.written.values()}
            if replayed := sorted({e for e in posted.values() if e not in numbers}):
                numbers.update((await session.execute(
                    select(JournalEntry.id, JournalEntry.number).where(JournalEntry.id.in_(replayed))
                )).all())
            events = [
                jobs[i].audit_event([{"id": entry_id, "number": numbers.get(entry_id)}])
                for i, entry_id in posted.items() if jobs[i].audit_event is not None
            ]
            await audit.append(session, events)
            await session.commit()
        return [
            plan.errors.get(i) or Posted(plan.ids[i], plan.written.get(i)) for i in range(len(jobs))
        ]
