"""Aggregates, computed by the database: trial balances and account balances."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .model import Account, JournalLine
from .reads import DIMENSION_ATTRS


@dataclass(frozen=True)
class BalanceRow:
    """Sums of one group of lines, in minor units (quantity in the account's scale).

    Attributes:
        dimensions: ((kind, dimension value id or None), …) in the order grouped by.
    """

    account_id: int
    currency: str | None
    dimensions: tuple[tuple[str, int | None], ...]
    debit: int
    credit: int
    quantity: int | None


def _int(value) -> int | None:
    # PostgreSQL's SUM(bigint) is NUMERIC; it arrives as a Decimal with no fraction.
    return None if value is None else int(value)


def trial_balance_statement(
    date_from: dt.date,
    date_to: dt.date,
    group_by: Sequence[str] = (),
    account_type: str | None = None,
) -> Select:
    """The trial balance's one GROUP BY statement (the entity filter is added by the session)."""
    dims = [DIMENSION_ATTRS[kind] for kind in group_by]
    keys = [JournalLine.account_id, JournalLine.currency, *dims]
    stmt = (
        select(
            *keys,
            func.sum(JournalLine.debit),
            func.sum(JournalLine.credit),
            func.sum(JournalLine.quantity),
        )
        .join(Account, Account.id == JournalLine.account_id)
        .where(JournalLine.date >= date_from, JournalLine.date <= date_to)
        .group_by(Account.code, *keys)
        .order_by(Account.code, JournalLine.currency, *dims)
    )
    if account_type:
        stmt = stmt.where(Account.type == account_type)
    return stmt


async def trial_balance(
    session: AsyncSession,
    date_from: dt.date,
    date_to: dt.date,
    group_by: Sequence[str] = (),
    account_type: str | None = None,
) -> list[BalanceRow]:
    """Activity between two dates (inclusive) per account, currency and the given kinds."""
    stmt = trial_balance_statement(date_from, date_to, group_by, account_type)
    rows = await session.execute(stmt)
    width = len(group_by)
    return [
        BalanceRow(
            account_id=row[0],
            currency=row[1],
            dimensions=tuple(zip(group_by, row[2 : 2 + width])),
            debit=_int(row[2 + width]) or 0,
            credit=_int(row[3 + width]) or 0,
            quantity=_int(row[4 + width]),
        )
        for row in rows
    ]


async def account_balances(
    session: AsyncSession,
    account_ids: Iterable[int],
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> dict[int, tuple[int, int, int | None]]:
    """account id → (debit, credit, quantity) sums over the date range."""
    stmt = select(
        JournalLine.account_id,
        func.sum(JournalLine.debit),
        func.sum(JournalLine.credit),
        func.sum(JournalLine.quantity),
    ).where(JournalLine.account_id.in_(list(account_ids)))
    if date_from:
        stmt = stmt.where(JournalLine.date >= date_from)
    if date_to:
        stmt = stmt.where(JournalLine.date <= date_to)
    rows = await session.execute(stmt.group_by(JournalLine.account_id))
    return {
        row[0]: (_int(row[1]) or 0, _int(row[2]) or 0, _int(row[3])) for row in rows
    }
