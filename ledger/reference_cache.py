"""The reference data every posting reads, cached per process and never stale.

A posting looks up its accounts, journal, dimension values and the period of its date:
four statements per posting that read rows which change only through administration.
`ReferenceCache` keeps what it read, per entity, as plain frozen records, valid for one
`entities.reference_version`. Database triggers (migration 0011) bump that version in the
same transaction as any insert, update or delete of those rows, by any process or by hand.

Why that is exact, not merely fresh enough: a posting reads the version with the entity's
write lock held (`posting.lock_entity`, an UPDATE of the entity row), and a change bumps
it with an UPDATE of the same row, so the two exclude each other. For as long as the
posting holds the lock, the rows are those of the version it read; a book of that version
is what a fresh read would return. A book of another version is dropped whole.

The one case the lock does not cover is a transaction that changes reference rows itself
and then posts (closing a period, then posting the year-end close): it reads its own
uncommitted rows, which must not outlive it if it rolls back. Such a session is marked
(`REFERENCES_CHANGED`, set by the session events below) and reads without the cache.

Codes are cached as they are asked for, missing ones too (a new account renews the
version): a chart of 100,000 customers is never read whole for a posting that names three.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from .model import Account, DimensionValue, Journal, Period
from .tenancy import LedgerSession

# A book holding more codes than this starts again empty (bounded memory per entity).
MAX_CODES = 100_000
_CHUNK = 5000  # IN lists stay well below the drivers' bind-parameter limits
REFERENCE_CACHE_KEY = "ledgergate_reference_cache"  # session.info: the database's cache
REFERENCES_CHANGED = "ledgergate_references_changed"
_REFERENCE_CLASSES = (Account, Journal, DimensionValue, Period)
_REFERENCE_TABLES = frozenset(c.__tablename__ for c in _REFERENCE_CLASSES)


@event.listens_for(LedgerSession, "do_orm_execute")
def _mark_reference_dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _REFERENCE_TABLES:
            state.session.info[REFERENCES_CHANGED] = True


@event.listens_for(LedgerSession, "before_flush")
def _mark_reference_flush(session: Session, _context, _instances) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _REFERENCE_CLASSES):
            session.info[REFERENCES_CHANGED] = True
            return


@dataclass(frozen=True, slots=True)
class AccountRef:
    id: int
    code: str
    type: str
    unit: str | None
    quantity_scale: int
    active: bool
    aggregation: str | None


@dataclass(frozen=True, slots=True)
class JournalRef:
    id: int
    code: str
    active: bool


@dataclass(frozen=True, slots=True)
class DimensionRef:
    id: int
    kind: str
    code: str
    active: bool


@dataclass(frozen=True, slots=True)
class PeriodRef:
    id: int
    name: str
    start_date: dt.date
    end_date: dt.date
    closed: bool


@dataclass(frozen=True)
class References:
    """What a set of drafts' codes resolved to (unknown codes are absent)."""

    accounts: dict[str, AccountRef]
    journals: dict[str, JournalRef]
    dimensions: dict[tuple[str, str], DimensionRef]
    periods: tuple[PeriodRef, ...]

    def period_of(self, day: dt.date) -> PeriodRef | None:
        return next((p for p in self.periods if p.start_date <= day <= p.end_date), None)


@dataclass
class _Book:
    version: int
    accounts: dict[str, AccountRef | None] = field(default_factory=dict)
    journals: dict[str, JournalRef | None] = field(default_factory=dict)
    dimensions: dict[tuple[str, str], DimensionRef | None] = field(default_factory=dict)
    periods: tuple[PeriodRef, ...] | None = None

    @property
    def size(self) -> int:
        return len(self.accounts) + len(self.journals) + len(self.dimensions)


def _chunks(items: list, size: int = _CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _load_accounts(session: AsyncSession, codes: list[str]) -> dict[str, AccountRef]:
    found = {}
    for chunk in _chunks(codes):
        rows = await session.execute(
            select(Account.id, Account.code, Account.type, Account.unit, Account.quantity_scale,
                   Account.active, Account.aggregation).where(Account.code.in_(chunk))
        )
        found.update({row.code: AccountRef(*row) for row in rows})
    return found


async def _load_journals(session: AsyncSession, codes: list[str]) -> dict[str, JournalRef]:
    found = {}
    for chunk in _chunks(codes):
        rows = await session.execute(
            select(Journal.id, Journal.code, Journal.active).where(Journal.code.in_(chunk))
        )
        found.update({row.code: JournalRef(*row) for row in rows})
    return found


async def _load_dimensions(
    session: AsyncSession, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], DimensionRef]:
    found = {}
    for chunk in _chunks(sorted({code for _, code in keys})):
        rows = await session.execute(
            select(DimensionValue.id, DimensionValue.kind, DimensionValue.code,
                   DimensionValue.active).where(DimensionValue.code.in_(chunk))
        )
        found.update({(row.kind, row.code): DimensionRef(*row) for row in rows})
    return found


async def _load_periods(session: AsyncSession) -> tuple[PeriodRef, ...]:
    rows = await session.execute(
        select(Period.id, Period.name, Period.start_date, Period.end_date, Period.closed)
        .order_by(Period.start_date)
    )
    return tuple(PeriodRef(*row) for row in rows)


class ReferenceCache:
    """Books of reference data per entity, for the version each was read at.

    `resolve` must run with the entity's write lock held and the version read under it;
    without a cache (`cache=None` to `resolve`), everything is read from the session.
    """

    def __init__(self) -> None:
        self._books: dict[int, _Book] = {}

    def forget(self, entity_id: int | None = None) -> None:
        if entity_id is None:
            self._books.clear()
        else:
            self._books.pop(entity_id, None)

    def _book(self, entity_id: int, version: int) -> _Book:
        book = self._books.get(entity_id)
        if book is None or book.version != version or book.size > MAX_CODES:
            book = self._books[entity_id] = _Book(version)
        return book


async def resolve(
    session: AsyncSession, cache: ReferenceCache | None, entity_id: int, version: int,
    account_codes: Iterable[str], journal_codes: Iterable[str],
    dimension_keys: Iterable[tuple[str, str]],
) -> References:
    """The references named, read only where the cache's book of `version` lacks them."""
    if cache is None or session.info.get(REFERENCES_CHANGED):
        book = _Book(version)
    else:
        book = cache._book(entity_id, version)
    accounts, journals, dims = set(account_codes), set(journal_codes), set(dimension_keys)
    if missing := sorted(c for c in accounts if c not in book.accounts):
        loaded = await _load_accounts(session, missing)
        book.accounts.update({c: loaded.get(c) for c in missing})
    if missing := sorted(c for c in journals if c not in book.journals):
        loaded = await _load_journals(session, missing)
        book.journals.update({c: loaded.get(c) for c in missing})
    if missing := sorted(k for k in dims if k not in book.dimensions):
        loaded = await _load_dimensions(session, missing)
        book.dimensions.update({k: loaded.get(k) for k in missing})
    if book.periods is None:
        book.periods = await _load_periods(session)
    return References(
        accounts={c: a for c in accounts if (a := book.accounts[c]) is not None},
        journals={c: j for c in journals if (j := book.journals[c]) is not None},
        dimensions={k: d for k in dims if (d := book.dimensions[k]) is not None},
        periods=book.periods,
    )
