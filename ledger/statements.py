"""Financial statements: the balance sheet and the income statement, grouped by the
reporting hierarchy (`AccountGroup`), with comparison columns.

Every figure comes from `reports.trial_balance` (the database's GROUP BY), one per column:

- balance sheet as of D: the trial balance from the start of D's fiscal year to D. Assets,
  liabilities and equity show their closing balances; the revenue and expense accounts'
  closings (the fiscal year to D, plus earlier years no close has moved when no
  retained-earnings account is set) are the *result* line inside equity, so that total
  assets = total liabilities and equity in every column;
- income statement from..to: revenue and expense activity of the range, year-end closing
  entries left out (they move the result, they are not revenue or expense); the net result
  is revenue − expenses.

Amounts are shown on the side the account normally sits (a credit-normal account's credit
balance is positive); group and section totals add each account as its section sees it
(assets debit positive; liabilities, equity, revenue credit positive; expenses debit
positive), so a contra account reduces its section's total.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .fiscal import fiscal_year_bounds, fiscal_year_of
from .model import Account, AccountGroup, Entity, Period
from .reports import BalanceRow, closing_balances, stock_levels, trial_balance
from .tenancy import ENTITY_KEY

PRIOR_PERIOD = "PRIOR_PERIOD"
PRIOR_YEAR = "PRIOR_YEAR"
COMPARISONS = (PRIOR_PERIOD, PRIOR_YEAR)

# How a section sees its accounts: +1 debit positive, -1 credit positive.
BALANCE_SECTIONS = (("ASSET", "Assets", 1), ("LIABILITY", "Liabilities", -1), ("EQUITY", "Equity", -1))
INCOME_SECTIONS = (("REVENUE", "Revenue", -1), ("EXPENSE", "Expenses", 1))


@dataclass(frozen=True)
class Column:
    label: str
    date_from: dt.date | None  # None: from the first line (a balance sheet's accounts)
    date_to: dt.date


@dataclass
class StatementRow:
    """kind: SECTION, GROUP, ACCOUNT, RESULT or TOTAL. `amounts` in minor units, one per
    column, as the row's reader sees it (see the module's rules)."""

    kind: str
    name: str
    depth: int
    amounts: list[int]
    code: str | None = None
    account_id: int | None = None
    # Drill-down: the lines behind each column's figure are those dated in this range.
    ranges: list[tuple[dt.date | None, dt.date]] = field(default_factory=list)


@dataclass
class StatisticRow:
    account_id: int
    quantities: list[int]


@dataclass
class Statement:
    title: str
    columns: list[Column]
    rows: list[StatementRow]
    statistics: list[StatisticRow]
    currency: str
    filters: tuple[tuple[str, int], ...]


def _minus_years(day: dt.date, years: int = 1) -> dt.date:
    year = day.year - years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def _month_end_before(day: dt.date) -> dt.date:
    return day.replace(day=1) - dt.timedelta(days=1)


async def _prior_period_end(session: AsyncSession, as_of: dt.date) -> dt.date:
    """The end of the period before the one holding `as_of` (else of the month before)."""
    current = await session.scalar(
        select(Period.start_date).where(Period.start_date <= as_of, Period.end_date >= as_of)
    )
    if current is not None:
        earlier = await session.scalar(
            select(Period.end_date).where(Period.end_date < current).order_by(Period.end_date.desc()).limit(1)
        )
        if earlier is not None:
            return earlier
    return _month_end_before(as_of)


async def _tables(session: AsyncSession):
    accounts = {a.id: a for a in await session.scalars(select(Account))}
    groups = {g.id: g for g in await session.scalars(select(AccountGroup))}
    entity = await session.get(Entity, session.info[ENTITY_KEY])
    return entity, accounts, groups


def _by_account(rows: Sequence[BalanceRow], closing: bool) -> tuple[dict[int, int], dict[int, int]]:
    """account id → money figure (closing or the range's net), and → quantity."""
    money: dict[int, int] = {}
    quantity: dict[int, int] = {}
    for r in rows:
        if r.quantity is not None:
            quantity[r.account_id] = quantity.get(r.account_id, 0) + r.quantity
        else:
            value = r.closing if closing else r.debit - r.credit
            money[r.account_id] = money.get(r.account_id, 0) + value
    return money, quantity


def _section_rows(
    kind: str, title: str, sign: int, figures: list[dict[int, int]], accounts, groups,
    ranges: list[tuple[dt.date | None, dt.date]],
) -> tuple[list[StatementRow], list[int]]:
    """The section's tree (groups by position then code, their accounts by code, the
    ungrouped accounts last) and its totals, as the section sees them."""
    members = sorted(
        (a for a in accounts.values() if a.type == kind and any(f.get(a.id) for f in figures)),
        key=lambda a: a.code,
    )
    width = len(figures)

    def seen(account) -> list[int]:
        return [sign * f.get(account.id, 0) for f in figures]

    def shown(account) -> list[int]:
        normal = 1 if account.normal_balance == "DEBIT" else -1
        return [normal * f.get(account.id, 0) for f in figures]

    children: dict[int | None, list] = {}
    for group in groups.values():
        children.setdefault(group.parent_id, []).append(group)
    accounts_in: dict[int | None, list] = {}
    for account in members:
        group_id = account.group_id if account.group_id in groups else None
        accounts_in.setdefault(group_id, []).append(account)

    def subtree(group, depth: int) -> tuple[list[StatementRow], list[int]]:
        rows: list[StatementRow] = []
        total = [0] * width
        for child in sorted(children.get(group.id, []), key=lambda g: (g.position, g.code)):
            child_rows, child_total = subtree(child, depth + 1)
            rows += child_rows
            total = [a + b for a, b in zip(total, child_total)]
        for account in accounts_in.get(group.id, []):
            rows.append(StatementRow("ACCOUNT", account.name, depth + 1, shown(account), account.code,
                                     account.id, ranges))
            total = [a + b for a, b in zip(total, seen(account))]
        if not rows:
            return [], total
        return [StatementRow("GROUP", group.name, depth, total, group.code), *rows], total

    rows: list[StatementRow] = [StatementRow("SECTION", title, 0, [], kind)]
    total = [0] * width
    for group in sorted(children.get(None, []), key=lambda g: (g.position, g.code)):
        group_rows, group_total = subtree(group, 1)
        rows += group_rows
        total = [a + b for a, b in zip(total, group_total)]
    for account in accounts_in.get(None, []):
        rows.append(StatementRow("ACCOUNT", account.name, 1, shown(account), account.code, account.id, ranges))
        total = [a + b for a, b in zip(total, seen(account))]
    return rows, total


async def _columns(session, trial_balances, filters, without_closes=False):
    found = []
    for date_from, date_to in trial_balances:
        found.append(await trial_balance(session, date_from, date_to, (), None, filters, without_closes))
    return found


def _statistics(accounts, quantities: list[dict[int, int]]) -> list[StatisticRow]:
    ids = sorted({pk for q in quantities for pk in q}, key=lambda pk: accounts[pk].code)
    return [StatisticRow(pk, [q.get(pk, 0) for q in quantities]) for pk in ids]


async def _balance_figures(session, entity, accounts, span, filters) -> tuple[dict[int, int], dict[int, int]]:
    """One balance-sheet column: account id → closing (debit positive), and → quantity."""
    fiscal_start, as_of = span
    flows = [pk for pk, a in accounts.items() if a.aggregation == "FLOW"]
    stocks = [pk for pk, a in accounts.items() if a.aggregation == "STOCK"]
    money, quantities = await closing_balances(session, as_of, fiscal_start, filters, flows)
    retained = entity.retained_earnings_account_id
    figures: dict[int, int] = {}
    for pk, (everything, this_year) in money.items():
        if accounts[pk].type in ("REVENUE", "EXPENSE") and retained is not None:
            # Earlier years' result that no close moved is retained earnings'.
            figures[pk] = figures.get(pk, 0) + this_year
            figures[retained] = figures.get(retained, 0) + everything - this_year
        elif accounts[pk].type != "STATISTICAL":
            figures[pk] = figures.get(pk, 0) + everything
    if stocks:
        for (pk, _code, _dims), (_opening, level, _active) in (
            await stock_levels(session, fiscal_start, as_of, (), filters, stocks)
        ).items():
            quantities[pk] = quantities.get(pk, 0) + level
    return figures, quantities


async def balance_sheet(
    session: AsyncSession, as_of: dt.date, compare: Sequence[str] = (),
    filters: Sequence[tuple[str, int]] = (),
) -> Statement:
    entity, accounts, groups = await _tables(session)
    dates = [as_of]
    for comparison in compare:
        dates.append(await _prior_period_end(session, as_of) if comparison == PRIOR_PERIOD
                     else _minus_years(as_of))
    labels = ["As of " + as_of.isoformat()] + [
        ("Prior period, " if c == PRIOR_PERIOD else "Prior year, ") + d.isoformat()
        for c, d in zip(compare, dates[1:])
    ]
    start = entity.fiscal_year_start_month
    spans = [(fiscal_year_bounds(fiscal_year_of(d, start), start)[0], d) for d in dates]
    figures, quantities = [], []
    for span in spans:
        money, quantity = await _balance_figures(session, entity, accounts, span, filters)
        figures.append(money)
        quantities.append(quantity)
    columns = [Column(label, span[0], span[1]) for label, span in zip(labels, spans)]
    # A balance-sheet figure is every line to its date.
    ranges = [(None, d) for d in dates]
    rows: list[StatementRow] = []
    totals: dict[str, list[int]] = {}
    for kind, title, sign in BALANCE_SECTIONS:
        section, total = _section_rows(kind, title, sign, figures, accounts, groups, ranges)
        if kind == "EQUITY":
            result = [
                -sum(v for pk, v in f.items() if accounts[pk].type in ("REVENUE", "EXPENSE"))
                for f in figures
            ]
            label = ("Current year result" if entity.retained_earnings_account_id is not None
                     else "Result not closed into retained earnings (none is set)")
            section.append(StatementRow("RESULT", label, 1, result))
            total = [a + b for a, b in zip(total, result)]
        section.append(StatementRow("TOTAL", f"Total {title.lower()}", 0, total, kind))
        rows += section
        totals[kind] = total
    rows.append(StatementRow(
        "TOTAL", "Total liabilities and equity", 0,
        [a + b for a, b in zip(totals["LIABILITY"], totals["EQUITY"])], "LIABILITY_AND_EQUITY",
    ))
    return Statement("Balance sheet", columns, rows, _statistics(accounts, quantities),
                     entity.base_currency, tuple(filters))


async def income_statement(
    session: AsyncSession, date_from: dt.date, date_to: dt.date, compare: Sequence[str] = (),
    filters: Sequence[tuple[str, int]] = (),
) -> Statement:
    entity, accounts, groups = await _tables(session)
    spans = [(date_from, date_to)]
    labels = [f"{date_from.isoformat()} to {date_to.isoformat()}"]
    for comparison in compare:
        if comparison == PRIOR_PERIOD:
            length = date_to - date_from
            span = (date_from - length - dt.timedelta(days=1), date_from - dt.timedelta(days=1))
            labels.append(f"Prior period, {span[0].isoformat()} to {span[1].isoformat()}")
        else:
            span = (_minus_years(date_from), _minus_years(date_to))
            labels.append(f"Prior year, {span[0].isoformat()} to {span[1].isoformat()}")
        spans.append(span)
    # The year-end close moves a year's result; it is not revenue or expense of the year.
    balances = await _columns(session, spans, filters, without_closes=True)
    figures, quantities = zip(*(_by_account(rows, closing=False) for rows in balances))
    figures, quantities = list(figures), list(quantities)
    columns = [Column(label, a, b) for label, (a, b) in zip(labels, spans)]
    rows: list[StatementRow] = []
    totals: dict[str, list[int]] = {}
    for kind, title, sign in INCOME_SECTIONS:
        section, total = _section_rows(kind, title, sign, figures, accounts, groups, list(spans))
        section.append(StatementRow("TOTAL", f"Total {title.lower()}", 0, total, kind))
        rows += section
        totals[kind] = total
    rows.append(StatementRow(
        "RESULT", "Net result", 0, [a - b for a, b in zip(totals["REVENUE"], totals["EXPENSE"])],
        "NET_RESULT",
    ))
    return Statement("Income statement", columns, rows, _statistics(accounts, quantities),
                     entity.base_currency, tuple(filters))


__all__ = ["COMPARISONS", "Column", "Statement", "StatementRow", "balance_sheet", "income_statement"]
