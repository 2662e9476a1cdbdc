"""The outbox dispatcher: delivers the ledger's outbox messages (`ledger.outbox`) to the
systems that must hear of them, after the transactions that wrote them have committed.

Each round claims due messages (leased to this dispatcher, at most one version of a record
at a time), delivers them concurrently through the systems' connectors
(`Source.deliver`, with the message's own idempotency key), and records each outcome in a
short transaction of its own: DELIVERED; PENDING again after the retry schedule's wait
(5xx, timeouts, refused connections); DEAD at once when the system refused the message for
good (a 4xx), or once the schedule is spent. Several dispatchers (gateway processes) may
run on one PostgreSQL database; a killed one's leases expire and its messages go out again,
under the same keys.

The loop sleeps `poll` seconds when a round found nothing to do, and logs the backlog (the
PENDING and DEAD counts) every `report_every` seconds while there is one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid

from ledger import outbox
from ledger.outbox import Claimed, RetrySchedule
from ledger.store import LedgerDatabase
from resolvers.sources.catalog import SourceCatalog
from sources.errors import DeliveryRefused, SourceError

from .config import OutboxSettings

log = logging.getLogger("ledgergate.outbox")
# Rounds (claim, deliver, record) a dispatcher keeps going at once: with one, the claim
# and the record of each round leave the deliveries idle.
ROUNDS_IN_FLIGHT = 2


def dispatcher_name() -> str:
    """Who holds a lease: host, process and a random part (a restarted process is another)."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class OutboxDispatcher:
    def __init__(self, db: LedgerDatabase, catalog: SourceCatalog,
                 settings: OutboxSettings | None = None, *, name: str | None = None,
                 rng: random.Random | None = None, report_every: float = 60.0):
        settings = settings or OutboxSettings()
        self.db, self.catalog, self.settings = db, catalog, settings
        self.schedule = RetrySchedule(settings.retry_delays, settings.jitter)
        self.name = name or dispatcher_name()
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._report_every, self._reported = report_every, 0.0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Start the next round now (a change was just committed in this process)."""
        self._wake.set()

    async def run_once(self) -> int:
        """One round: claim, deliver, record (the deliveries in one transaction, each
        failure in its own). Returns how many messages it handled."""
        claimed = await outbox.claim(self.db.engine, self.name, limit=self.settings.batch,
                                     lease=self.settings.lease_seconds)
        taken = await self._deliver_all(claimed)
        await outbox.delivered(self.db.engine, [m for m, ok in zip(claimed, taken) if ok], self.name,
                               announcements=self.db.announcements)
        return len(claimed)

    async def _deliver_all(self, claimed: list[Claimed]) -> list[bool]:
        """Deliver `claimed` by `concurrency` workers, each taking the next message when its
        last one is done (not a task a message, all started at once: httpx's pool hands one
        idle connection to every request that arrives in the same moment, and all but one
        must ask again)."""
        taken = [False] * len(claimed)
        queue = iter(enumerate(claimed))

        async def worker() -> None:
            for n, message in queue:
                taken[n] = await self._deliver(message)

        await asyncio.gather(*(worker() for _ in range(min(self.settings.concurrency, len(claimed)))))
        return taken

    async def rounds(self, stop: asyncio.Event | None = None) -> int:
        """Rounds until one finds nothing to do, `ROUNDS_IN_FLIGHT` at once: while one
        round's messages are out, the next claims other records' (a record's later version
        waits for the earlier one whatever happens, `ledger.outbox.claim`). Returns how
        many messages they handled."""
        total, running, idle = 0, set(), False
        try:
            while True:
                while not idle and len(running) < ROUNDS_IN_FLIGHT and not (stop and stop.is_set()):
                    running.add(asyncio.ensure_future(self.run_once()))
                if not running:
                    return total
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    handled = task.result()
                    total += handled
                    idle = idle or handled == 0
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds until `stop` is set; a failing round (the database away) is logged and
        the loop goes on after a pause."""
        log.info("outbox dispatcher %s started", self.name)
        while not stop.is_set():
            try:
                handled = await self.rounds(stop)
                await self._report()
            except Exception:
                log.exception("outbox round failed; trying again in %s s", self.settings.poll_seconds)
                handled = 0
            if handled == 0:
                self._wake.clear()
                waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
                await asyncio.wait(waiters, timeout=self.settings.poll_seconds,
                                   return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
        log.info("outbox dispatcher %s stopped", self.name)

    async def _deliver(self, message: Claimed) -> bool:
        """Deliver one message; True if the system took it (the caller records it), else
        the failure is recorded here."""
        engine = self.db.engine
        path = self.catalog.deliveries.get(message.system, {}).get(message.topic)
        source = self.catalog.sources.get(message.system)
        if path is None or source is None:
            await outbox.failed(engine, message, self.name, permanent=True, schedule=self.schedule,
                                error=f"{message.system} is not configured to take {message.topic} "
                                f"messages ([systems.{message.system}.deliveries])",
                                announcements=self.db.announcements)
            return False
        try:
            async with self._slots:
                await source.deliver(path, message.idempotency_key, message.payload)
        except DeliveryRefused as error:
            state = await outbox.failed(engine, message, self.name, str(error), permanent=True,
                                        schedule=self.schedule, announcements=self.db.announcements)
            log.warning("outbox message %s refused for good (%s): %s", message.id, state, error)
            return False
        except SourceError as error:
            state = await outbox.failed(engine, message, self.name, str(error),
                                        schedule=self.schedule, rng=self._rng,
                                        announcements=self.db.announcements)
            log.info("outbox message %s attempt %s failed (%s): %s", message.id, message.attempts,
                     state, error)
            return False
        except Exception as error:  # a bug of ours or of a plug-in: retried, and logged whole
            log.exception("outbox message %s: delivery raised", message.id)
            await outbox.failed(engine, message, self.name, f"internal error: {type(error).__name__}",
                                schedule=self.schedule, rng=self._rng,
                                announcements=self.db.announcements)
            return False
        return True

    async def _report(self) -> None:
        now = time.monotonic()
        if now - self._reported < self._report_every:
            return
        self._reported = now
        counts = await outbox.backlog(self.db.engine)
        if counts[outbox.PENDING] or counts[outbox.DEAD]:
            log.info("outbox backlog: %s pending, %s dead", counts[outbox.PENDING], counts[outbox.DEAD])
