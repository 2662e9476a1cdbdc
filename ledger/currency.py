"""Lines in a transaction currency: their rate and their amount in the base currency.

A line may be in a currency other than its entity's (a supplier's EUR invoice in a USD
company). Its `debit`/`credit` are then in that currency, and its base amount is

    base = transaction amount × rate, rounded to the base currency's minor unit, half to even

where `rate` is the line's own, or else the SPOT rate of `exchange_rates` dated on the
entry's date or, failing that, the latest before it. The entry balances in the base
currency, the only one the ledger adds up: an invoice whose lines balance in EUR but whose
rounded USD amounts differ by a cent is refused, naming the difference, and takes a
rounding line (in the base currency) to balance. Pure functions but for `load_rates`.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import replace
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .drafts import EntryDraft, LineDraft, TxnAmount
from .errors import Violation
from .model import ExchangeRate
from .money import CURRENCY_SCALES, decimals_of

SPOT = "SPOT"
MAX_RATE_DECIMALS = 12
MAX_RATE = Decimal(10) ** 9
RATE_RULE = f"a positive decimal with at most {MAX_RATE_DECIMALS} decimals, below {MAX_RATE:,}"

# currency → sorted [(rate date, rate)] of the SPOT rates up to the latest date asked for.
Rates = dict[str, list[tuple[dt.date, Decimal]]]


def foreign(drafts: Iterable[EntryDraft], base: str) -> tuple[set[str], dt.date | None]:
    """The transaction currencies the drafts' lines need a rate for, and their last date."""
    currencies: set[str] = set()
    last = None
    for draft in drafts:
        for line in draft.lines:
            if line.currency and line.currency != base and line.rate is None and line.currency in CURRENCY_SCALES:
                currencies.add(line.currency)
                last = draft.date if last is None else max(last, draft.date)
    return currencies, last


async def load_rates(session: AsyncSession, currencies: set[str], until: dt.date | None) -> Rates:
    """The entity's SPOT rates of `currencies` dated up to `until`: one statement."""
    if not currencies or until is None:
        return {}
    rows = await session.execute(
        select(ExchangeRate.currency, ExchangeRate.rate_date, ExchangeRate.rate)
        .where(ExchangeRate.currency.in_(sorted(currencies)), ExchangeRate.rate_type == SPOT,
               ExchangeRate.rate_date <= until)
        .order_by(ExchangeRate.currency, ExchangeRate.rate_date)
    )
    found: Rates = {}
    for currency, day, rate in rows:
        found.setdefault(currency, []).append((day, Decimal(rate)))
    return found


def rate_on(rates: Rates, currency: str, day: dt.date) -> Decimal | None:
    """The rate dated `day`, else the latest before it; None when there is none."""
    history = rates.get(currency, [])
    index = bisect.bisect_right(history, (day, Decimal("Infinity")))
    return history[index - 1][1] if index else None


def check_rate(path: str, rate: Decimal) -> list[Violation]:
    if not rate.is_finite() or rate <= 0 or rate >= MAX_RATE or decimals_of(rate) > MAX_RATE_DECIMALS:
        return [Violation(path, f"{rate} is not a rate: {RATE_RULE}")]
    return []


def base_amount(amount: Decimal, rate: Decimal, base_scale: int) -> Decimal:
    return (amount * rate).quantize(Decimal(1).scaleb(-base_scale), rounding=ROUND_HALF_EVEN)


def price_lines(
    draft: EntryDraft, base: str, base_scale: int, rates: Rates, statistical: Collection[str]
) -> tuple[EntryDraft, list[Violation]]:
    """The draft with each transaction-currency line turned into its base amount (keeping
    what was asked in `txn`), and what is wrong with those lines. `statistical`: the codes of
    the statistical accounts among the lines (they take no currency)."""
    if not any(line.currency or line.rate is not None for line in draft.lines):
        return draft, []
    violations: list[Violation] = []
    lines: list[LineDraft] = []
    for i, line in enumerate(draft.lines):
        if not line.currency:
            if line.rate is not None:
                violations.append(Violation(f"lines[{i}].rate", "a rate goes with a currency"))
            lines.append(line)
            continue
        path = f"lines[{i}]"
        if line.account in statistical:
            violations.append(Violation(f"{path}.currency", "statistical lines take a quantity, no currency"))
            lines.append(line)
            continue
        scale = CURRENCY_SCALES.get(line.currency)
        if scale is None:
            violations.append(Violation(f"{path}.currency", f"unknown currency {line.currency!r}"))
            lines.append(line)
            continue
        if line.currency == base:
            if line.rate is not None and line.rate != 1:
                violations.append(Violation(f"{path}.rate", f"{base} is the base currency: its rate is 1"))
            lines.append(replace(line, currency=None, rate=None))
            continue
        rate = line.rate
        if rate is not None:
            found = check_rate(f"{path}.rate", rate)
            if found:
                violations += found
                lines.append(line)
                continue
        else:
            rate = rate_on(rates, line.currency, draft.date)
            if rate is None:
                violations.append(Violation(
                    f"{path}.currency", f"no {SPOT} rate of {line.currency} on or before "
                    f"{draft.date.isoformat()}: import one, or give the line its rate",
                ))
                lines.append(line)
                continue
        amount = line.debit if line.debit is not None else line.credit
        if amount is None or (line.debit is not None and line.credit is not None):
            lines.append(line)  # the money-line rule says what is wrong
            continue
        side = "debit" if line.debit is not None else "credit"
        if amount <= 0 or decimals_of(amount) > scale:
            shown = "must be greater than zero" if amount <= 0 else f"has more decimals than {line.currency} allows ({scale})"
            violations.append(Violation(f"{path}.{side}", f"{amount} {shown}"))
            lines.append(line)
            continue
        base_value = base_amount(amount, rate, base_scale)
        if base_value == 0:
            violations.append(Violation(
                f"{path}.{side}", f"{amount} {line.currency} at {rate} is 0 {base}: too small to post"
            ))
            lines.append(line)
            continue
        txn = TxnAmount(line.currency, line.debit, line.credit, rate)
        lines.append(replace(
            line, debit=base_value if side == "debit" else None,
            credit=base_value if side == "credit" else None, txn=txn,
        ))
    return replace(draft, lines=tuple(lines)), violations
