"""Aggregates, computed by the database: trial balances and account balances."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Select, and_, case, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from .fiscal import fiscal_year_bounds, fiscal_year_of
from .model import (
    INCOME_STATEMENT_TYPES,
    Account,
    AccountType,
    Entity,
    JournalEntry,
    JournalLine,
    YearEndClose,
)
from .reads import DIMENSION_ATTRS
from .tenancy import ENTITY_KEY

INCOME_STATEMENT = frozenset(t.value for t in INCOME_STATEMENT_TYPES)


@dataclass(frozen=True)
class BalanceRow:
    """One trial-balance row, in minor units (quantities in the account's scale).

    Attributes:
        dimensions: ((kind, dimension value id or None), …) in the order grouped by.
        opening: debit − credit brought forward to the range's first day (see
            `trial_balance`); `opening + debit − credit` is the closing balance.
        quantity: FLOW: the range's sum; STOCK: the level on the last day.
        opening_quantity: FLOW: the fiscal year's sum before the range; STOCK: the level the
            day before it. None for money accounts.
    """

    account_id: int
    currency: str | None
    dimensions: tuple[tuple[str, int | None], ...]
    debit: int
    credit: int
    quantity: int | None
    opening: int = 0
    opening_quantity: int | None = None

    @property
    def closing(self) -> int:
        return self.opening + self.debit - self.credit

    @property
    def closing_quantity(self) -> int | None:
        if self.quantity is None and self.opening_quantity is None:
            return None
        if self.stock:
            return self.quantity
        return (self.opening_quantity or 0) + (self.quantity or 0)

    stock: bool = False


def _int(value) -> int | None:
    # PostgreSQL's SUM(bigint) is NUMERIC; it arrives as a Decimal with no fraction.
    return None if value is None else int(value)


def _when(condition, value):
    return func.sum(case((condition, value), else_=0))


def trial_balance_statement(
    date_from: dt.date,
    date_to: dt.date,
    group_by: Sequence[str] = (),
    account_type: str | None = None,
    fiscal_start: dt.date | None = None,
    filters: Sequence[tuple[str, int]] = (),
    without_closes: bool = False,
) -> Select:
    """The trial balance's one GROUP BY statement over every line up to `date_to` (the
    entity filter is added by the session): per account, currency and grouped dimension,
    the net before `date_from` (all of it, and within the fiscal year from `fiscal_start`),
    and the range's debits, credits and quantities. STOCK accounts' levels are
    `stock_levels`' (a sum of levels means nothing)."""
    fiscal_start = fiscal_start or date_from
    dims = [DIMENSION_ATTRS[kind] for kind in group_by]
    keys = [JournalLine.account_id, JournalLine.currency, *dims]
    net = JournalLine.debit - JournalLine.credit
    before = JournalLine.date < date_from
    in_range = JournalLine.date >= date_from
    stmt = (
        select(
            *keys,
            Account.code,
            Account.type,
            _when(in_range, JournalLine.debit),
            _when(in_range, JournalLine.credit),
            func.sum(case((in_range, JournalLine.quantity))),
            _when(before, net),
            _when(and_(before, JournalLine.date >= fiscal_start), net),
            func.sum(case((and_(before, JournalLine.date >= fiscal_start), JournalLine.quantity))),
        )
        .join(Account, Account.id == JournalLine.account_id)
        .where(JournalLine.date <= date_to, or_(Account.aggregation.is_(None), Account.aggregation != "STOCK"))
        .group_by(Account.code, Account.type, *keys)
        .order_by(Account.code, JournalLine.currency, *dims)
    )
    for kind, value in filters:
        stmt = stmt.where(DIMENSION_ATTRS[kind] == value)
    if account_type:
        stmt = stmt.where(Account.type == account_type)
    if without_closes:
        stmt = stmt.where(JournalLine.entry_id.not_in(closing_entries()))
    return stmt


async def closing_balances(
    session: AsyncSession,
    as_of: dt.date,
    fiscal_start: dt.date,
    filters: Sequence[tuple[str, int]] = (),
    flow_accounts: Sequence[int] = (),
) -> tuple[dict[int, tuple[int, int]], dict[int, int]]:
    """What a balance sheet needs, as lean as the SQL one would write by hand: per account,
    (debit − credit of every line to `as_of`, its part from `fiscal_start`), and per FLOW
    account the quantity summed from `fiscal_start` (a second statement, on the accounts'
    index, only when there are such accounts)."""
    net = JournalLine.debit - JournalLine.credit
    stmt = (
        select(
            JournalLine.account_id,
            func.sum(net),
            func.sum(case((JournalLine.date >= fiscal_start, net), else_=0)),
        )
        .where(JournalLine.date <= as_of)
        .group_by(JournalLine.account_id)
    )
    for kind, value in filters:
        stmt = stmt.where(DIMENSION_ATTRS[kind] == value)
    money = {row[0]: (_int(row[1]) or 0, _int(row[2]) or 0) for row in await session.execute(stmt)}
    quantities: dict[int, int] = {}
    if flow_accounts:
        flows = (
            select(JournalLine.account_id, func.sum(JournalLine.quantity))
            .where(JournalLine.account_id.in_(list(flow_accounts)),
                   JournalLine.date >= fiscal_start, JournalLine.date <= as_of)
            .group_by(JournalLine.account_id)
        )
        for kind, value in filters:
            flows = flows.where(DIMENSION_ATTRS[kind] == value)
        quantities = {row[0]: _int(row[1]) or 0 for row in await session.execute(flows)}
    return money, quantities


def closing_entries() -> Select:
    """The ids of year-end closing entries and of their reversals."""
    return union(
        select(YearEndClose.entry_id).where(YearEndClose.entry_id.is_not(None)),
        select(YearEndClose.reversal_entry_id).where(YearEndClose.reversal_entry_id.is_not(None)),
    )


_Reversal = aliased(JournalEntry, name="reversal")


async def stock_levels(
    session: AsyncSession,
    date_from: dt.date,
    date_to: dt.date,
    group_by: Sequence[str] = (),
    filters: Sequence[tuple[str, int]] = (),
    accounts: Sequence[int] | None = None,
) -> dict[tuple, tuple[int, int, bool]]:
    """(account id, code, ((kind, value id), …)) → (level the day before `date_from`, level on
    `date_to`, whether a line is dated in the range) of STOCK accounts, in one statement.

    Each combination of all eight dimension columns has a level: its latest line (by date,
    then posting order) dated up to the day. Lines of a reversed entry or of a reversal do
    not count: a reversal withdraws a level, it is not a level of −n.
    `accounts`: the STOCK accounts' ids when the caller knows them (the (account, date)
    index then finds their lines; none: nothing to read).
    """
    if accounts is not None and not accounts:
        return {}
    all_dims = list(DIMENSION_ATTRS.values())
    before = JournalLine.date < date_from
    order = (JournalLine.date.desc(), JournalEntry.seq.desc(), JournalLine.line_no.desc())
    numbered = (
        select(
            JournalLine.account_id,
            Account.code,
            *all_dims,
            JournalLine.quantity,
            before.label("before"),
            func.row_number().over(partition_by=[JournalLine.account_id, *all_dims], order_by=order)
            .label("latest"),
            # The same, among the lines before the range: the opening level.
            func.row_number().over(partition_by=[JournalLine.account_id, *all_dims, before], order_by=order)
            .label("latest_in_part"),
        )
        .join(Account, Account.id == JournalLine.account_id)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            Account.aggregation == "STOCK",
            JournalLine.date <= date_to,
            JournalEntry.reverses_id.is_(None),
            *([JournalLine.account_id.in_(list(accounts))] if accounts is not None else []),
            ~select(_Reversal.id).where(_Reversal.reverses_id == JournalEntry.id).exists(),
        )
    )
    for kind, value in filters:
        numbered = numbered.where(DIMENSION_ATTRS[kind] == value)
    rows = numbered.subquery()
    dims = [rows.c[DIMENSION_ATTRS[kind].key] for kind in group_by]
    opening = and_(rows.c.before, rows.c.latest_in_part == 1)
    stmt = (
        select(
            rows.c.account_id, rows.c.code, *dims,
            func.sum(case((opening, rows.c.quantity), else_=0)),
            func.sum(case((rows.c.latest == 1, rows.c.quantity), else_=0)),
            func.sum(case((rows.c.before, 0), else_=1)),
        )
        .group_by(rows.c.account_id, rows.c.code, *dims)
    )
    return {
        (row[0], row[1], tuple(zip(group_by, row[2:-3]))): (_int(row[-3]) or 0, _int(row[-2]) or 0, bool(row[-1]))
        for row in await session.execute(stmt)
    }


async def trial_balance(
    session: AsyncSession,
    date_from: dt.date,
    date_to: dt.date,
    group_by: Sequence[str] = (),
    account_type: str | None = None,
    filters: Sequence[tuple[str, int]] = (),
    without_closes: bool = False,
) -> list[BalanceRow]:
    """Per account, currency and the given kinds, for lines dated from..to (inclusive):

    - balance-sheet accounts: `opening` is everything before `date_from` (the year-end
      closes included);
    - revenue and expense: `opening` is the fiscal year's activity before `date_from` (the
      fiscal year of `date_from`, by the entity's start month). Their activity of earlier
      fiscal years that no year-end close moved is retained earnings': it is added to the
      opening of the entity's retained-earnings account (same dimension values), or, with
      none set, left in their own opening, so that the closings always sum to zero;
    - statistical FLOW accounts: `quantity` is the range's sum, `opening_quantity` the
      fiscal year's before it; STOCK accounts: the levels on `date_to` and the day before
      `date_from` (`stock_levels`).

    `without_closes`: leave out the year-end closing entries and their reversals (an income
    statement shows the year's revenue and expense, not their move to retained earnings).
    Rows with no opening and no activity are left out. Three or four statements: the
    entity's settings, the aggregate, the STOCK accounts and (if any) their levels.
    """
    entity = await session.get(Entity, session.info[ENTITY_KEY])
    fiscal_start = fiscal_year_bounds(
        fiscal_year_of(date_from, entity.fiscal_year_start_month), entity.fiscal_year_start_month
    )[0]
    retained = entity.retained_earnings_account_id
    # Equity's rows take in earlier years' revenue and expense: those must be read too.
    sql_type = None if account_type == AccountType.EQUITY.value and retained else account_type
    stmt = trial_balance_statement(
        date_from, date_to, group_by, sql_type, fiscal_start, filters, without_closes
    )
    codes: dict[int, str] = {}
    types: dict[int, str] = {}
    width = len(group_by)
    found: dict[tuple, BalanceRow] = {}
    moved: dict[tuple, int] = {}  # (currency, dims) → earlier years' unclosed result
    for row in await session.execute(stmt):
        account_id, currency = row[0], row[1]
        dimensions = tuple(zip(group_by, row[2 : 2 + width]))
        codes[account_id], kind = row[2 + width], row[3 + width]
        types[account_id] = kind
        debit, credit, quantity, before_all, before_year, quantity_before = (
            _int(v) for v in row[4 + width :]
        )
        opening = before_all or 0
        if kind in INCOME_STATEMENT and retained is not None:
            opening = before_year or 0
            earlier = (before_all or 0) - opening
            if earlier:
                moved[(currency, dimensions)] = moved.get((currency, dimensions), 0) + earlier
        statistical = kind == AccountType.STATISTICAL.value
        found[(account_id, currency, dimensions)] = BalanceRow(
            account_id, currency, dimensions, debit or 0, credit or 0,
            (quantity or 0) if statistical else None, opening,
            (quantity_before or 0) if statistical else None,
        )
    if moved and retained not in codes:  # retained earnings with no line of its own yet
        codes[retained] = await session.scalar(select(Account.code).where(Account.id == retained))
        types[retained] = AccountType.EQUITY.value
    for (currency, dimensions), amount in moved.items():
        key = (retained, currency, dimensions)
        row = found.get(key) or BalanceRow(retained, currency, dimensions, 0, 0, None)
        found[key] = replace(row, opening=row.opening + amount)
    if not account_type or account_type == AccountType.STATISTICAL.value:
        currency = entity.base_currency
        stock_ids = list(await session.scalars(select(Account.id).where(Account.aggregation == "STOCK")))
        levels = await stock_levels(session, date_from, date_to, group_by, filters, stock_ids)
        for (account_id, code, dimensions), (opening_level, closing_level, active) in levels.items():
            codes[account_id], types[account_id] = code, AccountType.STATISTICAL.value
            if opening_level or closing_level or active:
                found[(account_id, currency, dimensions)] = BalanceRow(
                    account_id, currency, dimensions, 0, 0, closing_level, 0, opening_level,
                    stock=True,
                )
    if account_type:
        found = {k: r for k, r in found.items() if types.get(r.account_id) == account_type}
    rows = [
        r for r in found.values()
        if r.stock or r.opening or r.debit or r.credit or r.quantity or r.opening_quantity
    ]
    rows.sort(key=lambda r: (codes[r.account_id], r.currency or "",
                             tuple((v is None, v or 0) for _, v in r.dimensions)))
    return rows


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


async def transaction_amounts(
    session: AsyncSession,
    date_from: dt.date,
    date_to: dt.date,
    group_by: Sequence[str],
    account_ids: Sequence[int],
) -> dict[tuple, list[tuple[str, int, int]]]:
    """(account id, ((kind, value id), …)) → [(transaction currency, debit, credit)] of the
    lines dated from..to, in the transaction currency's minor units (a base-currency line
    counts in the base currency): one GROUP BY for every row of a trial balance."""
    dims = [DIMENSION_ATTRS[kind] for kind in group_by]
    currency = func.coalesce(JournalLine.txn_currency, JournalLine.currency)
    stmt = (
        select(
            JournalLine.account_id, *dims, currency,
            func.sum(func.coalesce(JournalLine.txn_debit, JournalLine.debit)),
            func.sum(func.coalesce(JournalLine.txn_credit, JournalLine.credit)),
        )
        .where(JournalLine.account_id.in_(list(account_ids)), JournalLine.date >= date_from,
               JournalLine.date <= date_to, JournalLine.quantity.is_(None))
        .group_by(JournalLine.account_id, *dims, currency)
        .order_by(JournalLine.account_id, *dims, currency)
    )
    found: dict[tuple, list[tuple[str, int, int]]] = {}
    width = len(group_by)
    for row in await session.execute(stmt):
        key = (row[0], tuple(zip(group_by, row[1 : 1 + width])))
        found.setdefault(key, []).append((row[1 + width], _int(row[2 + width]) or 0, _int(row[3 + width]) or 0))
    return found

