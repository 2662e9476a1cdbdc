"""One demo entity's book of postings: queued by month, posted in date order, in batches;
a document's change (a sales order's step) takes its place in that order, in a
transaction of its own."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.drafts import EntryDraft
from ledger.posting import post_entries
from ledger.posting_plan import Posting
from ledger.store import LedgerDatabase
from sources.demo.records import DEMO_YEAR, CompanyProfile

BATCH_ENTRIES = 400
BATCH_LINES = 4_000
# Longest entry the demo writes; well below the ledger's limit (ledger.validators.MAX_LINES).
ENTRY_LINES = 5_000


# A document's change: given the session, it writes and commits one transaction.
Step = Callable[[AsyncSession], Awaitable[object]]


@dataclass
class Book:
    """One entity's postings, queued by month and posted in date order, in batches."""

    db: LedgerDatabase
    profile: CompanyProfile
    entity_id: int
    progress: Callable[[int], None] | None
    scale: int = 2
    # month → (date, order, a posting or a document step, its lines, its source links)
    queue: dict[int, list[tuple[dt.date, int, Posting | Step, int, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    order: int = 0
    entries: int = 0
    lines: int = 0
    links: int = 0

    def money(self, minor: int) -> Decimal:
        return Decimal(minor).scaleb(-self.scale)

    def add(self, key: str, draft: EntryDraft) -> None:
        if not draft.lines:
            return
        links = sum(len(line.sources) for line in draft.lines) + (draft.source is not None)
        self._queue(draft.date, Posting(draft, f"demo:{key}"), len(draft.lines), links)

    def add_step(self, day: dt.date, step: Step, lines: int = 0, links: int = 0) -> None:
        """Queue a document change for `day`: it runs, in its own transaction, when the
        entries before it in date order are posted; it posts `lines` lines."""
        self._queue(day, step, lines, links)

    def _queue(self, day: dt.date, item: Posting | Step, lines: int, links: int) -> None:
        self.order += 1
        month = day.month if day.year == DEMO_YEAR else 0
        self.queue[month].append((day, self.order, item, lines, links))

    def add_in_parts(self, key: str, draft: EntryDraft, step: int = 1) -> None:
        """Add `draft`, cut into entries of at most ENTRY_LINES lines when it is longer.

        Cuts fall only at multiples of `step`: with step=2, consecutive debit/credit pairs
        (transfers) stay together, so every part balances on its own.
        """
        size = ENTRY_LINES - ENTRY_LINES % step
        if len(draft.lines) <= size:
            self.add(key, draft)
            return
        for n, start in enumerate(range(0, len(draft.lines), size), start=1):
            self.add(f"{key}:{n}", replace(draft, lines=draft.lines[start : start + size]))

    async def post(self, month: int) -> None:
        items = sorted(self.queue.pop(month, ()), key=lambda item: (item[0], item[1]))
        if not items:
            return
        async with self.db.session(self.entity_id) as session:
            batch: list[Posting] = []
            lines = links = 0
            for _, _, posting, n_lines, n_links in items:
                if not isinstance(posting, Posting):  # a document's step: after what precedes it
                    if batch:
                        await self._flush(session, batch, lines, links)
                        batch, lines, links = [], 0, 0
                    await posting(session)
                    self.counted(1 if n_lines else 0, n_lines, n_links)
                    continue
                batch.append(posting)
                lines += n_lines
                links += n_links
                if len(batch) >= BATCH_ENTRIES or lines >= BATCH_LINES:
                    await self._flush(session, batch, lines, links)
                    batch, lines, links = [], 0, 0
            if batch:
                await self._flush(session, batch, lines, links)

    async def _flush(self, session, batch: list[Posting], lines: int, links: int) -> None:
        await post_entries(session, batch)
        self.counted(len(batch), lines, links)

    def counted(self, entries: int, lines: int, links: int) -> None:
        """Count what was just posted (here, or by a document) and report its lines."""
        self.entries += entries
        self.lines += lines
        self.links += links
        if self.progress is not None and lines:
            self.progress(lines)
