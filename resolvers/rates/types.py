"""Exchange-rate types."""

from __future__ import annotations

import datetime as dt
import decimal

import strawberry

from ..scopes import ADMIN, LEDGER


@strawberry.federation.type(requires_scopes=LEDGER)
class ExchangeRate:
    """Base-currency units one unit of `currency` was worth on `date`."""

    currency: str
    date: dt.date
    rate: decimal.Decimal
    rate_type: str = strawberry.field(description="SPOT (transactions), AVERAGE or CLOSING.")


@strawberry.input
class ExchangeRateInput:
    currency: str
    date: dt.date
    rate: decimal.Decimal
    rate_type: str = "SPOT"


@strawberry.federation.type(requires_scopes=ADMIN)
class SetExchangeRatesPayload:
    added: int
    unchanged: int
    replaced: int
