"""The notification bus behind GraphQL subscriptions: committed changes (`ledger.changes`),
fanned out to this process's subscribers of each entity.

On PostgreSQL the bus LISTENs on `ledger.changes.CHANNEL` over a connection of its own, so
a change committed by any gateway process reaches every process's subscribers, in commit
order; on SQLite (one process) it hears the database's in-process announcements.

Each subscriber has a queue of at most `MAX_QUEUED` changes; one that falls that far behind
is told so (its subscription ends with an error) rather than slowing everyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterator

from ledger.changes import CHANNEL, parse
from ledger.store import LedgerDatabase

log = logging.getLogger("ledgergate.changes")
MAX_QUEUED = 10_000
BEHIND = ("", "")  # what a subscriber's queue gets in place of what it missed


class ChangeBus:
    def __init__(self, db: LedgerDatabase):
        self.db = db
        self._queues: dict[int, set[asyncio.Queue]] = defaultdict(set)
        self._connection = None
        self._raw = None
        # Called with (entity id, topic, key) of every change, before the subscribers
        # (the outbox dispatcher wakes on a change instead of waiting for its next poll).
        self.watchers: list = []

    async def start(self) -> None:
        if self.db.is_sqlite:
            self.db.announcements.listeners.append(self._heard)
            return
        self._connection = await self.db.engine.connect()
        self._raw = (await self._connection.get_raw_connection()).driver_connection
        await self._raw.add_listener(CHANNEL, self._notified)

    async def stop(self) -> None:
        if self._heard in self.db.announcements.listeners:
            self.db.announcements.listeners.remove(self._heard)
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._raw.remove_listener(CHANNEL, self._notified)
            await self._connection.close()
            self._connection = None

    def _notified(self, _connection, _pid, _channel, payload: str) -> None:
        self._heard(payload)

    def _heard(self, announcement: str) -> None:
        parsed = parse(announcement)
        if parsed is None:
            log.warning("ignored a malformed change announcement %r", announcement[:100])
            return
        entity_id, topic, key = parsed
        for watcher in self.watchers:
            watcher(entity_id, topic, key)
        for queue in list(self._queues.get(entity_id, ())):
            try:
                queue.put_nowait((topic, key))
            except asyncio.QueueFull:
                self._queues[entity_id].discard(queue)
                queue.get_nowait()
                queue.put_nowait(BEHIND)

    @contextlib.contextmanager
    def listen(self, entity_id: int) -> Iterator[asyncio.Queue]:
        """A queue of (topic, key) of every change of `entity_id` committed from now on."""
        queue: asyncio.Queue = asyncio.Queue(MAX_QUEUED)
        self._queues[entity_id].add(queue)
        try:
            yield queue
        finally:
            self._queues[entity_id].discard(queue)
            if not self._queues[entity_id]:
                del self._queues[entity_id]
