"""Trial balance types: GL summaries that drill down to their lines."""

from __future__ import annotations

import datetime as dt
import decimal

import strawberry
from aiodataloader import DataLoader
from strawberry.types import Info

from ledger import reports
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
class CurrencyAmount:
    currency: str
    debit: decimal.Decimal
    credit: decimal.Decimal


class TransactionAmountLoader(DataLoader):
    """One trial balance's rows → their activity per transaction currency, one statement."""

    def __init__(self, context, date_from, date_to, kinds) -> None:
        super().__init__()
        self.context, self.span, self.kinds = context, (date_from, date_to), kinds

    async def batch_load_fn(self, groups):
        async with self.context.session() as session:
            found = await reports.transaction_amounts(
                session, *self.span, self.kinds, sorted({account for account, _ in groups})
            )
        return [found.get(group, []) for group in groups]


@strawberry.federation.type(requires_scopes=LEDGER)
class TrialBalanceRow:
    """One account (and dimension values, when grouped): its balance brought forward, the
    range's activity, and its balance at the end (`closing = opening + debit − credit`)."""

    currency: str | None
    debit: decimal.Decimal = strawberry.field(description="Debits of the range.")
    credit: decimal.Decimal = strawberry.field(description="Credits of the range.")
    net: decimal.Decimal = strawberry.field(description="debit − credit of the range.")
    opening: decimal.Decimal = strawberry.field(
        description="The balance brought forward to `from`, debit positive: for assets, "
        "liabilities and equity every earlier line (year-end closes included); for revenue "
        "and expense the fiscal year's lines before `from`. Earlier years' revenue and "
        "expense that no year-end close moved count in the retained-earnings account's "
        "opening (`Entity.retainedEarnings`; with none set, in their own)."
    )
    closing: decimal.Decimal = strawberry.field(
        description="opening + debit − credit: the balance on `to`, debit positive. The "
        "closings of all money rows sum to zero."
    )
    quantity: decimal.Decimal | None = strawberry.federation.field(
        requires_scopes=STATISTICAL,
        description="Statistical accounts: a FLOW account's sum over the range; a STOCK "
        "account's level on `to` (the latest level of each combination of dimension values, "
        "summed).",
    )
    opening_quantity: decimal.Decimal | None = strawberry.federation.field(
        requires_scopes=STATISTICAL,
        description="FLOW: the fiscal year's sum before `from`; STOCK: the level the day before `from`.",
    )
    closing_quantity: decimal.Decimal | None = strawberry.federation.field(
        requires_scopes=STATISTICAL,
        description="FLOW: the fiscal year's sum through `to`; STOCK: the level on `to`.",
    )
    group: strawberry.Private[tuple]
    date_from: strawberry.Private[dt.date]
    date_to: strawberry.Private[dt.date]

    @classmethod
    def from_balance(
        cls, row: BalanceRow, quantity_scale: int, date_from: dt.date, date_to: dt.date
    ) -> TrialBalanceRow:
        scale = CURRENCY_SCALES[row.currency] if row.currency else 0

        def quantity(value):
            return None if value is None else from_minor(value, quantity_scale)

        return cls(
            currency=row.currency,
            debit=from_minor(row.debit, scale),
            credit=from_minor(row.credit, scale),
            net=from_minor(row.debit - row.credit, scale),
            opening=from_minor(row.opening, scale),
            closing=from_minor(row.closing, scale),
            quantity=quantity(row.quantity),
            opening_quantity=quantity(row.opening_quantity),
            closing_quantity=quantity(row.closing_quantity),
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

    @strawberry.field(
        description="The range's debits and credits per transaction currency (lines in the "
        "base currency under it), in that currency: the row's activity as invoiced."
    )
    async def transaction_amounts(self, info: Info) -> list[CurrencyAmount]:
        kinds = tuple(kind for kind, _ in self.group[1])
        loader = info.context.keyed_loader(
            ("transaction-amounts", self.date_from, self.date_to, kinds),
            lambda: TransactionAmountLoader(info.context, self.date_from, self.date_to, kinds),
        )
        return [
            CurrencyAmount(currency=c, debit=from_minor(d, CURRENCY_SCALES[c]),
                           credit=from_minor(k, CURRENCY_SCALES[c]))
            for c, d, k in await loader.load(self.group)
        ]

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
    total_opening: decimal.Decimal = strawberry.field(
        description="The openings summed: zero for a ledger whose entries balance."
    )
    total_closing: decimal.Decimal = strawberry.field(
        description="The closings summed: zero for a ledger whose entries balance."
    )
