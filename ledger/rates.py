"""The exchange-rates table: imported whole or not at all, idempotent, read back.

A rate is how many units of the entity's base currency one unit of `currency` was worth on
`date` (`rate_type` SPOT for transactions; AVERAGE and CLOSING are kept for revaluation and
consolidation). Rates are exact decimals (`ledger.currency.RATE_RULE`), never floats. The
same (currency, type, date) again with the same rate changes nothing; with another rate it
is refused unless `replace` is asked for, since lines may have been priced with it (their
rate is stored with them, so replacing one never changes posted history).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .admin import Recorder
from .currency import check_rate
from .errors import Rejected, Violation
from .model import Entity, ExchangeRate
from .money import CURRENCY_SCALES, parse_decimal
from .posting_write import rate_text
from .setup_import import Row, read_rows, refuse
from .tenancy import ENTITY_KEY

RATE_TYPES = ("SPOT", "AVERAGE", "CLOSING")


@dataclass(frozen=True)
class RateRow:
    currency: str
    date: dt.date
    rate: Decimal
    rate_type: str = "SPOT"
    row: int | None = None  # its row in the file it came from


@dataclass(frozen=True)
class RatesResult:
    added: int
    unchanged: int
    replaced: int


def parse_rates_csv(text: str) -> tuple[list[RateRow], list[Violation]]:
    """`currency,date,rate[,rate_type]` rows, and what is wrong with the others (for
    `import_rates` to list with its own findings); Rejected if the file has no such shape."""
    rows = read_rows(text, ("currency", "date", "rate"), ("rate_type",), "rates")
    violations: list[Violation] = []
    found = []
    for row in rows:
        parsed = _row(row, violations)
        if parsed is not None:
            found.append(parsed)
    return found, violations


def parsed_rate(currency: str, day: dt.date, rate: Decimal, rate_type: str = "SPOT") -> RateRow:
    """One rate given as values (GraphQL's), or Rejected saying what is wrong with it."""
    problems = []
    if currency not in CURRENCY_SCALES:
        problems.append(Violation("currency", f"unknown currency {currency!r}"))
    problems += check_rate("rate", rate)
    if rate_type not in RATE_TYPES:
        problems.append(Violation("rateType", f"must be one of {', '.join(RATE_TYPES)}"))
    if problems:
        raise Rejected(problems)
    return RateRow(currency, day, rate, rate_type)


def _row(row: Row, violations: list[Violation]) -> RateRow | None:
    where = f"row {row.number}"
    problems = []
    currency = (row.get("currency") or "").upper()
    if currency not in CURRENCY_SCALES:
        problems.append(f"currency: unknown currency {row.get('currency')!r}")
    try:
        day = dt.date.fromisoformat(row.get("date") or "")
    except ValueError:
        problems.append(f"date: {row.get('date')!r} is not a date (YYYY-MM-DD)")
        day = None
    rate = None
    try:
        rate = parse_decimal(row.get("rate") or "")
        problems += [f"rate: {v.message}" for v in check_rate("rate", rate)]
    except ValueError as error:
        problems.append(f"rate: {error}")
    rate_type = (row.get("rate_type") or "SPOT").upper()
    if rate_type not in RATE_TYPES:
        problems.append(f"rate_type: must be one of {', '.join(RATE_TYPES)}")
    violations += [Violation(where, p) for p in problems]
    return None if problems else RateRow(currency, day, rate, rate_type, row.number)


async def import_rates(
    session: AsyncSession, rows: list[RateRow], record: Recorder, *, replace: bool = False,
    paths: list[str] | None = None, found: list[Violation] = (),
) -> RatesResult:
    """Write `rows` into the session's entity's table, all or none (the caller commits).
    `found`: what the caller found wrong already (rows it could not read), listed with the
    rest, in row order."""
    paths = paths or [f"row {r.row}" if r.row else f"rates[{i}]" for i, r in enumerate(rows)]
    base = (await session.get(Entity, session.info[ENTITY_KEY])).base_currency
    violations: list[Violation] = list(found)
    seen: dict[tuple, int] = {}
    for path, row in zip(paths, rows):
        key = (row.currency, row.rate_type, row.date)
        if row.currency == base:
            violations.append(Violation(path, f"{base} is the base currency: its rate is 1"))
        if key in seen:
            violations.append(Violation(path, f"{row.currency} {row.rate_type} {row.date} is given twice"))
        seen[key] = 1
    currencies = sorted({r.currency for r in rows})
    existing = {
        (r.currency, r.rate_type, r.rate_date): r
        for r in await session.scalars(select(ExchangeRate).where(ExchangeRate.currency.in_(currencies)))
    } if currencies else {}
    added = unchanged = replaced = 0
    changes = []
    for path, row in zip(paths, rows):
        old = existing.get((row.currency, row.rate_type, row.date))
        if old is None:
            changes.append((None, row))
        elif Decimal(old.rate) == row.rate:
            unchanged += 1
        elif replace:
            changes.append((old, row))
        else:
            violations.append(Violation(path, f"{row.currency} {row.rate_type} {row.date} is "
                                        f"{old.rate} already; replace it only on purpose"))
    refuse(sorted(violations, key=_row_order))
    for old, row in changes:
        if old is None:
            session.add(ExchangeRate(currency=row.currency, rate_type=row.rate_type,
                                     rate_date=row.date, rate=rate_text(row.rate)))
            added += 1
        else:
            old.rate = rate_text(row.rate)
            replaced += 1
    await session.flush()
    await record(session, "setExchangeRates", {
        "added": added, "unchanged": unchanged, "replaced": replaced,
        "rates": [[r.currency, r.rate_type, r.date.isoformat(), rate_text(r.rate)] for _, r in changes][:200],
    })
    return RatesResult(added, unchanged, replaced)


def _row_order(v: Violation) -> tuple:
    head = v.path.split(" ")[-1].split("[")[-1].rstrip("]")
    return (int(head) if head.isdigit() else 0,)


async def rates(
    session: AsyncSession, currency: str | None = None, date_from: dt.date | None = None,
    date_to: dt.date | None = None, rate_type: str | None = None,
) -> list[ExchangeRate]:
    stmt = select(ExchangeRate).order_by(ExchangeRate.currency, ExchangeRate.rate_type, ExchangeRate.rate_date)
    if currency:
        stmt = stmt.where(ExchangeRate.currency == currency)
    if date_from:
        stmt = stmt.where(ExchangeRate.rate_date >= date_from)
    if date_to:
        stmt = stmt.where(ExchangeRate.rate_date <= date_to)
    if rate_type:
        stmt = stmt.where(ExchangeRate.rate_type == rate_type)
    return list(await session.scalars(stmt))
