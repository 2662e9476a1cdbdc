"""Reads of reference data and posted history, as Core rows (no ORM objects per row).

Lists are keyset-paginated: each `*_page` function takes the sort key of the last row
already seen (`after`) and returns up to `first` rows plus whether more follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row, Select, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from .model import (
    DIMENSION_COLUMNS,
    Account,
    AccountGroup,
    DimensionValue,
    Entity,
    Journal,
    JournalEntry,
    JournalLine,
    Period,
    SourceLink,
)
from .tenancy import ENTITY_KEY

DIMENSION_ATTRS = {kind.value: getattr(JournalLine, column) for kind, column in DIMENSION_COLUMNS.items()}

_Reversal = aliased(JournalEntry, name="reversal")

ENTRY_COLUMNS = (
    JournalEntry.id,
    JournalEntry.seq,
    JournalEntry.number,
    Journal.code.label("journal"),
    JournalEntry.date,
    JournalEntry.description,
    JournalEntry.reverses_id,
    _Reversal.id.label("reversed_by_id"),
    JournalEntry.posted_at,
    JournalEntry.hash,
)

LINE_COLUMNS = (
    JournalLine.id,
    JournalLine.entry_id,
    JournalLine.line_no,
    JournalLine.account_id,
    JournalLine.date,
    JournalLine.currency,
    JournalLine.debit,
    JournalLine.credit,
    JournalLine.quantity,
    Account.quantity_scale,
    JournalLine.memo,
    JournalLine.txn_currency,
    JournalLine.txn_debit,
    JournalLine.txn_credit,
    JournalLine.rate,
    *DIMENSION_ATTRS.values(),
)
# Every read of lines selects LINE_COLUMNS first, in this order (`JournalLine.from_row`
# unpacks them by position); extra columns come after.
LINE_WIDTH = len(LINE_COLUMNS)


def _entries() -> Select:
    return (
        select(*ENTRY_COLUMNS)
        .join(Journal, Journal.id == JournalEntry.journal_id)
        .outerjoin(_Reversal, _Reversal.reverses_id == JournalEntry.id)
    )


def _lines() -> Select:
    return select(*LINE_COLUMNS).join(Account, Account.id == JournalLine.account_id)


async def _page(session: AsyncSession, stmt: Select, first: int) -> tuple[list[Row], bool]:
    rows = list((await session.execute(stmt.limit(first + 1))).all())
    return rows[:first], len(rows) > first


# Reference data -------------------------------------------------------------------------


async def accounts_page(
    session: AsyncSession, account_type: str | None, first: int, after: str | None
) -> tuple[list[Account], bool]:
    stmt = select(Account).order_by(Account.code)
    if account_type:
        stmt = stmt.where(Account.type == account_type)
    if after is not None:
        stmt = stmt.where(Account.code > after)
    rows = list(await session.scalars(stmt.limit(first + 1)))
    return rows[:first], len(rows) > first


async def accounts_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, Account]:
    rows = await session.scalars(select(Account).where(Account.id.in_(list(ids))))
    return {a.id: a for a in rows}


async def account_by_code(session: AsyncSession, code: str) -> Account | None:
    return await session.scalar(select(Account).where(Account.code == code))


async def dimension_values(session: AsyncSession, kind: str) -> list[DimensionValue]:
    stmt = select(DimensionValue).where(DimensionValue.kind == kind).order_by(DimensionValue.code)
    return list(await session.scalars(stmt))


async def dimension_values_by_ids(
    session: AsyncSession, ids: Iterable[int]
) -> dict[int, DimensionValue]:
    rows = await session.scalars(select(DimensionValue).where(DimensionValue.id.in_(list(ids))))
    return {v.id: v for v in rows}


async def entities_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, Entity]:
    """Only the session's own entity can be among them (`ledger.tenancy`)."""
    own = session.info[ENTITY_KEY]
    rows = await session.scalars(
        select(Entity).where(Entity.id.in_([i for i in ids if i == own]))
    )
    return {e.id: e for e in rows}


_Parent = aliased(AccountGroup, name="parent")


async def groups_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, tuple[AccountGroup, str | None]]:
    rows = await session.execute(
        select(AccountGroup, _Parent.code)
        .outerjoin(_Parent, _Parent.id == AccountGroup.parent_id)
        .where(AccountGroup.id.in_(list(ids)))
    )
    return {group.id: (group, parent) for group, parent in rows}


async def account_groups(session: AsyncSession) -> list[tuple[AccountGroup, str | None]]:
    """Every group with its parent's code, parents before children's siblings: by position, code."""
    rows = await session.execute(
        select(AccountGroup, _Parent.code)
        .outerjoin(_Parent, _Parent.id == AccountGroup.parent_id)
        .order_by(AccountGroup.position, AccountGroup.code)
    )
    return [(group, parent) for group, parent in rows]


async def journals(session: AsyncSession) -> list[Journal]:
    return list(await session.scalars(select(Journal).order_by(Journal.code)))


async def periods(session: AsyncSession) -> list[Period]:
    return list(await session.scalars(select(Period).order_by(Period.start_date)))


# Entries ---------------------------------------------------------------------------------


async def entries_page(
    session: AsyncSession,
    *,
    date_from: dt.date | None,
    date_to: dt.date | None,
    journal: str | None,
    first: int,
    after: tuple[dt.date, int] | None,
) -> tuple[list[Row], bool]:
    stmt = _entries().order_by(JournalEntry.date, JournalEntry.seq)
    if date_from:
        stmt = stmt.where(JournalEntry.date >= date_from)
    if date_to:
        stmt = stmt.where(JournalEntry.date <= date_to)
    if journal:
        stmt = stmt.where(Journal.code == journal)
    if after is not None:
        stmt = stmt.where(tuple_(JournalEntry.date, JournalEntry.seq) > tuple_(*after))
    return await _page(session, stmt, first)


async def entries_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, Row]:
    rows = await session.execute(_entries().where(JournalEntry.id.in_(list(ids))))
    return {row.id: row for row in rows}


async def entry_by_number(session: AsyncSession, number: str) -> Row | None:
    return (await session.execute(_entries().where(JournalEntry.number == number))).first()


# Lines -----------------------------------------------------------------------------------


async def lines_by_entries(session: AsyncSession, entry_ids: Iterable[int]) -> list[Row]:
    stmt = (
        _lines()
        .where(JournalLine.entry_id.in_(list(entry_ids)))
        .order_by(JournalLine.entry_id, JournalLine.line_no)
    )
    return list((await session.execute(stmt)).all())


async def lines_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, Row]:
    rows = await session.execute(_lines().where(JournalLine.id.in_(list(ids))))
    return {row.id: row for row in rows}


LineGroupKey = tuple[int, tuple[tuple[str, int | None], ...]]
"""(account id, ((dimension kind, value id or None), …)): one trial-balance row's lines."""


def _in_range(stmt: Select, date_from, date_to, after) -> Select:
    if date_from:
        stmt = stmt.where(JournalLine.date >= date_from)
    if date_to:
        stmt = stmt.where(JournalLine.date <= date_to)
    if after is not None:
        stmt = stmt.where(tuple_(JournalLine.date, JournalLine.id) > tuple_(*after))
    return stmt


async def line_page(
    session: AsyncSession,
    group: LineGroupKey,
    *,
    date_from: dt.date | None,
    date_to: dt.date | None,
    first: int,
    after: tuple[dt.date, int] | None,
) -> tuple[list[Row], bool]:
    """One group's page of lines: a plain keyset query on the (account, date, id) index."""
    account_id, dims = group
    stmt = _lines().where(JournalLine.account_id == account_id)
    for kind, value in dims:
        column = DIMENSION_ATTRS[kind]
        stmt = stmt.where(column.is_(None) if value is None else column == value)
    stmt = _in_range(stmt, date_from, date_to, after).order_by(JournalLine.date, JournalLine.id)
    return await _page(session, stmt, first)


async def line_pages(
    session: AsyncSession,
    groups: Sequence[LineGroupKey],
    *,
    date_from: dt.date | None,
    date_to: dt.date | None,
    first: int,
    after: tuple[dt.date, int] | None,
) -> dict[LineGroupKey, tuple[list[Row], bool]]:
    """The first `first` lines (date, id order) of each group, in one statement.

    All groups must group by the same dimension kinds. ROW_NUMBER() over the grouping
    columns numbers each group's lines so that one query returns a page per group; a
    single group takes the plain keyset query instead.
    """
    if len(groups) == 1:
        page = await line_page(
            session, groups[0], date_from=date_from, date_to=date_to, first=first, after=after
        )
        return {groups[0]: page}
    kinds = [kind for kind, _ in groups[0][1]]
    partition = [JournalLine.account_id, *(DIMENSION_ATTRS[k] for k in kinds)]
    stmt = _lines().add_columns(
        func.row_number()
        .over(partition_by=partition, order_by=(JournalLine.date, JournalLine.id))
        .label("rn")
    )
    stmt = stmt.where(JournalLine.account_id.in_({account for account, _ in groups}))
    for position, kind in enumerate(kinds):
        values = {dims[position][1] for _, dims in groups}
        column = DIMENSION_ATTRS[kind]
        present = [v for v in values if v is not None]
        conditions = [column.in_(present)] if present else []
        if None in values:
            conditions.append(column.is_(None))
        stmt = stmt.where(or_(*conditions))
    numbered = _in_range(stmt, date_from, date_to, after).subquery()
    outer = (
        select(numbered)
        .where(numbered.c.rn <= first + 1)
        .order_by(numbered.c.date, numbered.c.id)
    )
    wanted = set(groups)
    found: dict[LineGroupKey, list[Any]] = {g: [] for g in groups}
    column_names = [DIMENSION_ATTRS[k].key for k in kinds]
    for row in await session.execute(outer):
        key = (row.account_id, tuple(zip(kinds, (getattr(row, c) for c in column_names))))
        if key in wanted:
            found[key].append(row)
    return {g: (rows[:first], len(rows) > first) for g, rows in found.items()}


# Source links ----------------------------------------------------------------------------


LINK_COLUMNS = (
    SourceLink.entry_id,
    SourceLink.line_id,
    SourceLink.system,
    SourceLink.record_type,
    SourceLink.record_id,
    SourceLink.url,
)


async def links_by_lines(session: AsyncSession, lines: Iterable[tuple[int, int]]) -> list[Row]:
    """The source links of the given (entry id, line id)s, by line and position. Asked by
    entry as well: the (entity, entry) index finds them, where SQLite would otherwise walk
    the entity's whole (entity, entry) index for the line ids."""
    lines = list(lines)
    stmt = (
        select(*LINK_COLUMNS)
        .where(
            SourceLink.entry_id.in_({entry_id for entry_id, _ in lines}),
            SourceLink.line_id.in_([line_id for _, line_id in lines]),
        )
        .order_by(SourceLink.line_id, SourceLink.position)
    )
    return list((await session.execute(stmt)).all())


async def links_of_entries(session: AsyncSession, entry_ids: Iterable[int]) -> list[Row]:
    stmt = (
        select(*LINK_COLUMNS)
        .where(SourceLink.entry_id.in_(list(entry_ids)), SourceLink.line_id.is_(None))
        .order_by(SourceLink.entry_id, SourceLink.position)
    )
    return list((await session.execute(stmt)).all())


SourceKey = tuple[str, str, str]
"""(system, record type, record id) of a source record."""


async def lines_for_sources(
    session: AsyncSession,
    keys: Sequence[SourceKey],
    *,
    first: int,
    after: tuple[dt.date, int] | None,
) -> dict[SourceKey, tuple[list[Row], bool]]:
    """The first `first` lines (date, id order) linked to each source record, in one statement."""
    link_key = (SourceLink.system, SourceLink.record_type, SourceLink.record_id)
    stmt = (
        _lines()
        .add_columns(
            *link_key,
            func.row_number()
            .over(partition_by=link_key, order_by=(JournalLine.date, JournalLine.id))
            .label("rn"),
        )
        .join(SourceLink, SourceLink.line_id == JournalLine.id)
        .where(tuple_(*link_key).in_([tuple(k) for k in keys]))
    )
    numbered = _in_range(stmt, None, None, after).subquery()
    outer = (
        select(numbered)
        .where(numbered.c.rn <= first + 1)
        .order_by(numbered.c.date, numbered.c.id)
    )
    found: dict[SourceKey, list[Row]] = {tuple(k): [] for k in keys}
    for row in await session.execute(outer):
        found[(row.system, row.record_type, row.record_id)].append(row)
    return {k: (rows[:first], len(rows) > first) for k, rows in found.items()}
