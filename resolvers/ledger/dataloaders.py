"""Per-request loaders: one statement per batch, results aligned to the keys."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncSession

from ledger import reads, reports

# Large enough that a 10,000-line page is one batch; below PostgreSQL's 32,767 bind limit.
MAX_BATCH = 10_000


class LedgerLoader(DataLoader):
    """Base: runs `load_batch` in a fresh entity-scoped session per batch."""

    def __init__(self, context) -> None:
        super().__init__(max_batch_size=MAX_BATCH)
        self.context = context

    async def batch_load_fn(self, keys: Sequence[Any]) -> list[Any]:
        async with self.context.session() as session:
            return await self.load_batch(session, keys)

    async def load_batch(self, session: AsyncSession, keys: Sequence[Any]) -> list[Any]:
        raise NotImplementedError


def _aligned(found: dict, keys: Sequence) -> list:
    return [found.get(k) for k in keys]


def _grouped(items, attribute: str, keys: Sequence) -> list[list]:
    grouped: dict[int, list] = defaultdict(list)
    for item in items:
        grouped[getattr(item, attribute)].append(item)
    return [grouped.get(k, []) for k in keys]


class AccountByIdLoader(LedgerLoader):
    async def load_batch(self, session, keys):
        return _aligned(await reads.accounts_by_ids(session, keys), keys)


class EntityByIdLoader(LedgerLoader):
    """The caller's entity row (its settings: fiscal year start, retained earnings)."""

    async def load_batch(self, session, keys):
        return _aligned(await reads.entities_by_ids(session, keys), keys)


class AccountGroupByIdLoader(LedgerLoader):
    """id → (group, its parent's code or None)."""

    async def load_batch(self, session, keys):
        return _aligned(await reads.groups_by_ids(session, keys), keys)


class EntryByIdLoader(LedgerLoader):
    async def load_batch(self, session, keys):
        return _aligned(await reads.entries_by_ids(session, keys), keys)


class LineByIdLoader(LedgerLoader):
    async def load_batch(self, session, keys):
        return _aligned(await reads.lines_by_ids(session, keys), keys)


class LinesByEntryLoader(LedgerLoader):
    async def load_batch(self, session, keys):
        return _grouped(await reads.lines_by_entries(session, keys), "entry_id", keys)


class DimensionValueByIdLoader(LedgerLoader):
    async def load_batch(self, session, keys):
        return _aligned(await reads.dimension_values_by_ids(session, keys), keys)


class SourceLinksByLineLoader(LedgerLoader):
    """Key: (entry id, line id) → the line's links (`reads.links_by_lines` says why both)."""

    async def load_batch(self, session, keys):
        return _grouped(await reads.links_by_lines(session, keys), "line_id", [line for _, line in keys])


class SourceLinksByEntryLoader(LedgerLoader):
    async def load_batch(self, session, keys):
        return _grouped(await reads.links_of_entries(session, keys), "entry_id", keys)


class BalanceByAccountLoader(LedgerLoader):
    """Key: (account id, from, to) → (debit, credit, quantity); one statement per range."""

    async def load_batch(self, session, keys):
        by_range: dict[tuple, set[int]] = defaultdict(set)
        for account_id, date_from, date_to in keys:
            by_range[(date_from, date_to)].add(account_id)
        sums: dict[tuple, tuple] = {}
        for (date_from, date_to), ids in by_range.items():
            found = await reports.account_balances(session, ids, date_from, date_to)
            for account_id in ids:
                sums[(account_id, date_from, date_to)] = found.get(account_id, (0, 0, None))
        return [sums[k] for k in keys]


class EntryPageLoader(LedgerLoader):
    """Key: (from, to, journal, first, after) → (rows, has_next): a page of entries.

    Sibling root fields (`sales: journalEntries(journal: "SALES") … ap: journalEntries(…)`)
    ask in the same tick, so their pages come back together, one batch, and the levels
    below them (lines, accounts, source links, records) are asked for together too: one
    loader batch per field and level for the whole request instead of one per root field.
    """

    async def load_batch(self, session, keys):
        pages = []
        for date_from, date_to, journal, first, after in keys:
            pages.append(await reads.entries_page(
                session, date_from=date_from, date_to=date_to, journal=journal, first=first, after=after
            ))
        return pages


class LinePageLoader(LedgerLoader):
    """Key: (group, from, to, first, after) → (rows, has_next) for one group of lines.

    Groups that share dimension kinds, range and page arguments go into one statement,
    so drilling into every row of a trial balance costs one query, not one per row.
    """

    async def load_batch(self, session, keys):
        batches: dict[tuple, list] = defaultdict(list)
        for key in keys:
            group, date_from, date_to, first, after = key
            shape = tuple(kind for kind, _ in group[1])
            batches[(shape, date_from, date_to, first, after)].append(group)
        pages: dict[tuple, tuple] = {}
        for (_, date_from, date_to, first, after), groups in batches.items():
            found = await reads.line_pages(
                session, groups, date_from=date_from, date_to=date_to, first=first, after=after
            )
            for group, page in found.items():
                pages[(group, date_from, date_to, first, after)] = page
        return [pages[k] for k in keys]
