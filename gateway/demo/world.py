"""Posting the demo ledger from the demo world's source records (`sources.demo`).

Source-first: `sources.demo.generate` makes the CRM, POS, HR, usage and bill-payment records
of 2026; `build_demo` sets up two entities (SOFTCO in USD, HOTELCO in EUR) with their chart of
accounts, dimensions, journals and periods (`chart`), posts 2025 opening balances (`opening`)
and closes 2025, then posts the year month by month: `company` with its `hr` and `ap` parts
maps what both companies share, `software` and `hotel` what is their own. Every line derived
from a source record links to it (system, record type, id, deep link), so each ledger link
names a record the demo services can serve.

High-volume detail is summarised the way the design asks: a hotel day's receipts become one
POS entry per hotel with a line per item (each line linking to every receipt behind it), a
vendor bill becomes one line per expense account/department/site/project, usage becomes one
statistical entry per day with a line per customer. Statistical quantities (headcount,
room-nights, GB used) go to statistical accounts in entries of their own.

Entries are queued per entity and month (`book`) and posted in date order, in batches of a few
hundred entries per transaction through `ledger.posting.post_entries`, each with the
idempotency key ``demo:<record id>`` (or ``demo:<summary key>``). Only one month of drafts is
held at a time, so a million-line build stays small in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger import admin
from ledger.money import currency_scale
from ledger.reference import (
    add_accounts,
    add_dimension_values,
    add_journals,
    add_monthly_periods,
    close_periods_through,
    create_entity,
)
from ledger.store import LedgerDatabase
from sources.demo.generate import generate_master, iter_months
from sources.demo.records import DEMO_YEAR

from .book import Book
from .chart import JOURNALS
from .company import Company
from .hotel import Hotel
from .opening import OPENING_DATE, RETAINED_EARNINGS
from .software import Software

COMPANY_CLASSES: dict[str, type[Company]] = {"software": Software, "hotel": Hotel}


@dataclass(frozen=True)
class EntitySummary:
    """What `build_demo` created for one entity."""

    code: str
    entity_id: int
    currency: str
    accounts: int
    dimension_values: int
    entries: int
    lines: int
    source_links: int


@dataclass(frozen=True)
class DemoSummary:
    """What `build_demo` created, per entity and in total."""

    seed: int
    scale: float
    entities: tuple[EntitySummary, ...]

    @property
    def accounts(self) -> int:
        return sum(e.accounts for e in self.entities)

    @property
    def entries(self) -> int:
        return sum(e.entries for e in self.entities)

    @property
    def lines(self) -> int:
        return sum(e.lines for e in self.entities)

    @property
    def source_links(self) -> int:
        return sum(e.source_links for e in self.entities)

    def __str__(self) -> str:
        codes = ", ".join(e.code for e in self.entities)
        return (
            f"{len(self.entities)} entities ({codes}), {self.accounts} accounts, "
            f"{self.entries:,} entries, {self.lines:,} lines, {self.source_links:,} source links"
            f" (seed {self.seed}, scale {self.scale:g})"
        )


async def _unaudited(*_) -> None:
    return None


async def _set_up(db: LedgerDatabase, company: Company) -> None:
    async with db.session(company.book.entity_id) as s:
        await add_accounts(s, company.chart)
        await add_dimension_values(s, company.dimension_values())
        await add_journals(s, JOURNALS)
        await add_monthly_periods(s, DEMO_YEAR - 1)
        await add_monthly_periods(s, DEMO_YEAR)
        # The demo's setup, like the rest of its load, is not an operator's change: no audit row.
        await admin.set_retained_earnings(s, RETAINED_EARNINGS, _unaudited)
        await company.set_up_documents(s)
        await s.commit()
    company.opening()
    await company.book.post(0)
    async with db.session(company.book.entity_id) as s:
        await close_periods_through(s, OPENING_DATE)
        await s.commit()


async def build_demo(
    db: LedgerDatabase,
    *,
    seed: int = 7,
    scale: float = 1.0,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Build the demo ledger into an empty, migrated database.

    Creates SOFTCO and HOTELCO with charts, dimensions, journals and periods (2025 closed
    after its opening balances, 2026 open), then posts 2026 from the source records of
    `sources.demo` for (seed, scale). `progress(n)` hears the number of lines of each batch
    just posted.
    """
    master = generate_master(seed, scale)
    companies: list[Company] = []
    for profile in master.companies:
        async with db.session(None) as s:
            entity_id = await create_entity(s, profile.code, profile.name, profile.currency)
            await s.commit()
        book = Book(db, profile, entity_id, progress, scale=currency_scale(profile.currency))
        company = COMPANY_CLASSES[profile.kind](book, master, scale)
        await _set_up(db, company)
        companies.append(company)
    for records in iter_months(master):
        for company in companies:
            company.month(records)
            await company.book.post(records.month)
            company.refs.clear()
    return DemoSummary(
        seed=seed,
        scale=scale,
        entities=tuple(
            EntitySummary(
                code=c.code,
                entity_id=c.book.entity_id,
                currency=c.book.profile.currency,
                accounts=len(c.chart),
                dimension_values=len(c.dimension_values()),
                entries=c.book.entries,
                lines=c.book.lines,
                source_links=c.book.links,
            )
            for c in companies
        ),
    )


__all__ = ["DemoSummary", "EntitySummary", "build_demo"]
