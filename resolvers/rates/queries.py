"""Reading the rates table."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from ledger import rates

from ..scopes import LEDGER
from .types import ExchangeRate


@strawberry.type
class RateQueries:
    @strawberry.federation.field(
        requires_scopes=LEDGER,
        description="The caller's entity's exchange rates, by currency, type and date.",
    )
    async def exchange_rates(
        self, info: Info, currency: str | None = None,
        from_: Annotated[dt.date | None, strawberry.argument(name="from")] = None,
        to: dt.date | None = None, rate_type: str | None = None,
    ) -> list[ExchangeRate]:
        async with info.context.session() as session:
            found = await rates.rates(session, currency, from_, to, rate_type)
        return [ExchangeRate(currency=r.currency, date=r.rate_date, rate=decimal.Decimal(r.rate),
                             rate_type=r.rate_type) for r in found]
