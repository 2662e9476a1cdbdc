"""Closing the books: periods, and the fiscal year's closing entry.

- A closed period refuses postings (`validators.check_period_open`). Closing and reopening
  take the entity's write lock (`posting.lock_entity`), so a posting in flight either
  commits before the close or sees the period closed: none slips in after.
- Reopening needs a reason, which the audit row keeps; the scope it needs is the
  resolvers' business (`periods:reopen`).
- The year-end close needs every period of the fiscal year closed, so the result it moves
  is final. It posts one entry, dated the year's last day, into that (closed) period:
  for each revenue and expense account and each combination of dimension values its lines
  carry, the line that brings it to zero, and their sum on the retained-earnings account
  with the same dimension values (so a report by department still balances). The entry is
  recorded in `year_end_closes`; an empty year is recorded with no entry.
- Reopening a period of a closed year first reverses the closing entry (the reversal dated
  the same day, linked both ways, `YearEndClose.reversal_entry_id` set): the year is open
  again and can be closed again once its periods are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .audit import utc_stamp
from .drafts import EntryDraft, LineDraft
from .errors import Conflict, NotFound, Rejected, Violation
from .fiscal import fiscal_year_bounds
from .model import (
    DIMENSION_COLUMNS,
    Account,
    AccountType,
    DimensionValue,
    Entity,
    Journal,
    JournalEntry,
    JournalLine,
    Period,
    YearEndClose,
)
from .money import currency_scale, from_minor
from .posting import lock_entity
from .posting_plan import Posting, resolve_refs
from .posting_write import write_postings
from .reversal import post_mirror
from .validators import validate_entry

CLOSING_JOURNAL = ("CLOSE", "Year-end close")
MAX_REASON = 500


async def _period(session: AsyncSession, name: str) -> Period:
    period = await session.scalar(select(Period).where(Period.name == name))
    if period is None:
        raise NotFound(f"no period {name!r}")
    return period


async def close_period(session: AsyncSession, name: str, record) -> Period:
    await lock_entity(session)
    period = await _period(session, name)
    if period.closed:
        raise Conflict(f"period {name} is already closed")
    period.closed = True
    await session.flush()
    await record(session, "closePeriod", {"period": name, "from": period.start_date.isoformat(),
                                          "to": period.end_date.isoformat()})
    return period


async def in_force(session: AsyncSession, fiscal_year: int) -> YearEndClose | None:
    return await session.scalar(
        select(YearEndClose).where(
            YearEndClose.fiscal_year == fiscal_year, YearEndClose.reversal_entry_id.is_(None),
            YearEndClose.reopened_at.is_(None),
        )
    )


async def reopen_period(session: AsyncSession, name: str, reason: str, record) -> Period:
    """Reopen a closed period; in a closed fiscal year, reverse the year's close first."""
    if not isinstance(reason, str) or not reason.strip():
        raise Rejected([Violation("reason", "reopening a closed period needs a reason (it is audited)")])
    if len(reason) > MAX_REASON:
        raise Rejected([Violation("reason", f"must be at most {MAX_REASON} characters")])
    entity = await lock_entity(session)
    period = await _period(session, name)
    if not period.closed:
        raise Conflict(f"period {name} is not closed")
    detail: dict = {"period": name, "reason": reason}
    closing = await in_force(session, period.fiscal_year) if period.fiscal_year else None
    if closing is not None:
        detail["reversedYearEndClose"] = await _reverse_close(session, entity, closing)
    period.closed = False
    await session.flush()
    await record(session, "reopenPeriod", detail)
    return period


async def _reverse_close(session: AsyncSession, entity: Entity, closing: YearEndClose) -> dict:
    closing.reopened_at = utc_stamp()
    detail = {"fiscalYear": closing.fiscal_year}
    if closing.entry_id is not None:
        original = await session.get(JournalEntry, closing.entry_id)
        reversal_id = await post_mirror(
            session, entity, original, original.date, allow_closed_period=True
        )
        closing.reversal_entry_id = reversal_id
        number = await session.scalar(select(JournalEntry.number).where(JournalEntry.id == reversal_id))
        detail.update(entry=original.number, reversal=number)
    await session.flush()
    return detail


@dataclass(frozen=True)
class YearClose:
    fiscal_year: int
    date: dt.date
    entry_id: int | None
    retained_earnings: str
    result: int  # the year's net result moved, minor units, credit positive (profit)
    currency: str

    @property
    def amount(self):
        """The result as a Decimal of the base currency (profit positive)."""
        return from_minor(self.result, currency_scale(self.currency))


async def close_fiscal_year(
    session: AsyncSession, year: int, record, *, retained_earnings: str | None = None
) -> YearClose:
    """Post the year's closing entry into retained earnings (see the module's rules)."""
    entity = await lock_entity(session)
    if retained_earnings is not None:
        account = await session.scalar(select(Account).where(Account.code == retained_earnings))
        if account is None:
            raise NotFound(f"no account {retained_earnings!r}")
    elif entity.retained_earnings_account_id is not None:
        account = await session.get(Account, entity.retained_earnings_account_id)
    else:
        raise Rejected([Violation(
            "retainedEarnings", "name the retained-earnings account (or set the entity's)"
        )])
    if account.type != AccountType.EQUITY.value or not account.active:
        raise Rejected([Violation(
            "retainedEarnings", f"account {account.code} is not an active equity account"
        )])
    if await in_force(session, year) is not None:
        raise Conflict(f"fiscal {year} is already closed; reopen one of its periods to redo it")
    periods = list(await session.scalars(
        select(Period).where(Period.fiscal_year == year).order_by(Period.start_date)
    ))
    if not periods:
        raise NotFound(f"fiscal {year} has no periods")
    still_open = [p.name for p in periods if not p.closed]
    if still_open:
        raise Rejected([Violation(
            "year", f"close every period of fiscal {year} first; open: {', '.join(still_open)}"
        )])
    start, end = fiscal_year_bounds(year, entity.fiscal_year_start_month)
    start, end = min(start, periods[0].start_date), max(end, periods[-1].end_date)
    # An earlier year's result must be closed first, or this close would sweep it along.
    earlier = await session.scalar(
        select(func.min(Period.fiscal_year)).where(
            Period.fiscal_year < year, Period.closed.is_(False)
        )
    )
    if earlier is not None:
        raise Rejected([Violation("year", f"fiscal {earlier} has open periods; close earlier years first")])
    lines, net = await _closing_lines(session, start, end, account)
    entry_id = None
    result = -net  # revenue is credit: a profit is a net credit of the year's accounts
    if lines:
        journal = await _closing_journal(session)
        draft = EntryDraft(journal.code, end, tuple(lines), f"Year-end close of fiscal {year}")
        refs = (await resolve_refs(
            session, entity, [draft], allow_inactive=True, max_lines=len(lines),
            allow_closed_period=True,
        ))[0]
        violations = validate_entry(draft, refs)
        if violations:  # a close built from the ledger's own lines: a bug, never the caller's
            raise RuntimeError(f"year-end close of fiscal {year} does not validate: {violations}")
        [entry_id] = await write_postings(session, entity, [Posting(draft)], [refs], [None], {})
    session.add(YearEndClose(
        fiscal_year=year, entry_id=entry_id, retained_earnings_account_id=account.id,
        closed_at=utc_stamp(),
    ))
    if entity.retained_earnings_account_id is None:
        entity.retained_earnings_account_id = account.id
    await session.flush()
    number = None
    if entry_id is not None:
        number = await session.scalar(select(JournalEntry.number).where(JournalEntry.id == entry_id))
    await record(session, "closeFiscalYear", {
        "year": year, "date": end.isoformat(), "retainedEarnings": account.code, "entry": number,
        "resultMinorUnits": result,
    })
    return YearClose(year, end, entry_id, account.code, result, entity.base_currency)


async def _closing_journal(session: AsyncSession) -> Journal:
    code, name = CLOSING_JOURNAL
    journal = await session.scalar(select(Journal).where(Journal.code == code))
    if journal is None:
        journal = Journal(code=code, name=name, active=True)
        session.add(journal)
        await session.flush()
    return journal


async def _closing_lines(
    session: AsyncSession, start: dt.date, end: dt.date, retained: Account
) -> tuple[list[LineDraft], int]:
    """One line per (revenue/expense account, dimension values) with a balance for the
    year, and one retained-earnings line per dimension values: all in one GROUP BY."""
    dims = [getattr(JournalLine, column) for column in DIMENSION_COLUMNS.values()]
    kinds = [kind.value for kind in DIMENSION_COLUMNS]
    net = func.sum(JournalLine.debit) - func.sum(JournalLine.credit)
    rows = (await session.execute(
        select(Account.code, *dims, net)
        .join(Account, Account.id == JournalLine.account_id)
        .where(
            Account.type.in_((AccountType.REVENUE.value, AccountType.EXPENSE.value)),
            JournalLine.date >= start, JournalLine.date <= end,
        )
        .group_by(Account.code, *dims)
        .order_by(Account.code, *dims)
    )).all()
    ids = {i for row in rows for i in row[1:-1] if i is not None}
    codes = dict((await session.execute(
        select(DimensionValue.id, DimensionValue.code).where(DimensionValue.id.in_(ids))
    )).all()) if ids else {}
    entity = await session.get(Entity, retained.entity_id)
    scale = currency_scale(entity.base_currency)
    lines: list[LineDraft] = []
    retained_by_dims: dict[tuple, int] = {}
    for row in rows:
        balance = int(row[-1] or 0)
        if not balance:
            continue
        dimensions = tuple((k, codes[i]) for k, i in zip(kinds, row[1:-1]) if i is not None)
        lines.append(_zeroing(row[0], -balance, dimensions, scale))
        retained_by_dims[dimensions] = retained_by_dims.get(dimensions, 0) + balance
    for dimensions, amount in retained_by_dims.items():
        if amount:
            lines.append(_zeroing(retained.code, amount, dimensions, scale))
    return lines, sum(retained_by_dims.values())


def _zeroing(account: str, amount: int, dimensions: tuple, scale: int) -> LineDraft:
    """A line of `amount` minor units: debit when positive, credit when negative."""
    value = from_minor(abs(amount), scale)
    return LineDraft(
        account, debit=value if amount > 0 else None, credit=value if amount < 0 else None,
        memo="Year-end close", dimensions=dimensions,
    )
