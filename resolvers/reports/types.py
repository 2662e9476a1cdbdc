"""Trial balance types: GL summaries that drill down to their lines."""

from __future__ import annotations

import datetime as dt
import decimal

import strawberry
from strawberry.types import Info

from ledger.money import CURRENCY_SCALES, from_minor
from ledger.reports import BalanceRow

from ..ledger.dataloaders import AccountByIdLoader, DimensionValueByIdLoader
from ..ledger.types import (
    Account,
    DimensionValue,
    JournalLine,
    line_page_key,
    load_line_page,
)
from ..pagination import Connection
from ..scopes import LEDGER, STATISTICAL


@strawberry.federation.type(requires_scopes=LEDGER)
class TrialBalanceRow:
    """Activity of one account (and dimension values, when grouped) over the range."""

    currency: str | None
    debit: decimal.Decimal
    credit: decimal.Decimal
    net: decimal.Decimal
    quantity: decimal.Decimal | None = strawberry.federation.field(requires_scopes=STATISTICAL)
    group: strawberry.Private[tuple]
    date_from: strawberry.Private[dt.date]
    date_to: strawberry.Private[dt.date]

    @classmethod
    def from_balance(
        cls, row: BalanceRow, quantity_scale: int, date_from: dt.date, date_to: dt.date
    ) -> TrialBalanceRow:
        scale = CURRENCY_SCALES[row.currency] if row.currency else 0
        return cls(
            currency=row.currency,
            debit=from_minor(row.debit, scale),
            credit=from_minor(row.credit, scale),
            net=from_minor(row.debit - row.credit, scale),
            quantity=None if row.quantity is None else from_minor(row.quantity, quantity_scale),
            group=(row.account_id, row.dimensions),
            date_from=date_from,
            date_to=date_to,
        )

    @strawberry.field
    async def account(self, info: Info) -> Account:
        return Account.from_model(await info.context.loader(AccountByIdLoader).load(self.group[0]))

    @strawberry.field(description="The values grouped by; kinds the line left empty are omitted.")
    async def dimensions(self, info: Info) -> list[DimensionValue]:
        ids = [pk for _, pk in self.group[1] if pk is not None]
        values = await info.context.loader(DimensionValueByIdLoader).load_many(ids)
        return [DimensionValue.from_model(v) for v in values if v is not None]

    @strawberry.field(description="The lines summed into this row, in date order.")
    async def lines(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[JournalLine]:
        key = line_page_key(info, self.group, self.date_from, self.date_to, first, after)
        return await load_line_page(info, key)


@strawberry.federation.type(requires_scopes=LEDGER)
class TrialBalance:
    from_: dt.date = strawberry.field(name="from")
    to: dt.date
    rows: list[TrialBalanceRow]
    total_debit: decimal.Decimal
    total_credit: decimal.Decimal
