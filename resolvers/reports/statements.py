"""Statement types: the balance sheet and income statement as tree tables (`ledger.statements`)."""

from __future__ import annotations

import datetime as dt
import decimal
from enum import Enum

import strawberry
from strawberry.types import Info

from ledger import statements
from ledger.money import CURRENCY_SCALES, from_minor

from ..errors import user_input_error
from ..ledger.dataloaders import AccountByIdLoader
from ..ledger.types import Account, JournalLine, line_page_key, load_line_page
from ..pagination import Connection
from ..scopes import LEDGER, STATISTICAL


@strawberry.enum(description="A comparison column: the period before, or the same dates a year earlier.")
class Comparison(Enum):
    PRIOR_PERIOD = "PRIOR_PERIOD"
    PRIOR_YEAR = "PRIOR_YEAR"


@strawberry.enum
class StatementRowKind(Enum):
    SECTION = "SECTION"
    GROUP = "GROUP"
    ACCOUNT = "ACCOUNT"
    RESULT = "RESULT"
    TOTAL = "TOTAL"


@strawberry.federation.type(requires_scopes=LEDGER)
class StatementColumn:
    label: str
    from_: dt.date | None = strawberry.field(
        name="from", description="The first day summed (a balance sheet: its fiscal year's)."
    )
    to: dt.date


@strawberry.federation.type(requires_scopes=LEDGER)
class StatementRow:
    """A line of a statement: a section heading, an account group with its subtotal, an
    account, the result, or a total. Amounts are one per column, on the side the account
    normally sits; groups and totals add accounts as their section sees them."""

    kind: StatementRowKind
    code: str | None
    name: str
    depth: int = strawberry.field(description="0 for sections and totals; one more per group level.")
    amounts: list[decimal.Decimal]
    account_pk: strawberry.Private[int | None]
    ranges: strawberry.Private[list]
    filters: strawberry.Private[tuple]

    @strawberry.field(description="The account of an ACCOUNT row.")
    async def account(self, info: Info) -> Account | None:
        if self.account_pk is None:
            return None
        return Account.from_model(await info.context.loader(AccountByIdLoader).load(self.account_pk))

    @strawberry.field(
        description="An ACCOUNT row's lines behind column `column`'s figure (with the "
        "statement's dimension filter), in date order; null for other rows."
    )
    async def lines(
        self, info: Info, column: int = 0, first: int | None = None, after: str | None = None
    ) -> Connection[JournalLine] | None:
        if self.account_pk is None:
            return None
        if not 0 <= column < len(self.ranges):
            raise user_input_error(f"column must be 0 to {len(self.ranges) - 1}", argument="column")
        date_from, date_to = self.ranges[column]
        key = line_page_key(info, (self.account_pk, self.filters), date_from, date_to, first, after)
        return await load_line_page(info, key)


@strawberry.federation.type(requires_scopes=LEDGER)
class StatisticRow:
    """A statistical account beside the statement: a STOCK account's level at each column's
    last day, a FLOW account's sum over the column's dates."""

    quantities: list[decimal.Decimal]
    account_pk: strawberry.Private[int]

    @strawberry.field
    async def account(self, info: Info) -> Account:
        return Account.from_model(await info.context.loader(AccountByIdLoader).load(self.account_pk))


@strawberry.federation.type(requires_scopes=LEDGER)
class Statement:
    title: str
    currency: str
    columns: list[StatementColumn]
    rows: list[StatementRow]
    statistics: list[StatisticRow] = strawberry.federation.field(requires_scopes=STATISTICAL)

    @classmethod
    async def build(cls, info: Info, found: statements.Statement) -> Statement:
        scale = CURRENCY_SCALES[found.currency]
        accounts = await info.context.loader(AccountByIdLoader).load_many(
            [s.account_id for s in found.statistics]
        )
        scales = {a.id: a.quantity_scale for a in accounts}
        return cls(
            title=found.title,
            currency=found.currency,
            columns=[StatementColumn(label=c.label, from_=c.date_from, to=c.date_to) for c in found.columns],
            rows=[
                StatementRow(
                    kind=StatementRowKind(r.kind), code=r.code, name=r.name, depth=r.depth,
                    amounts=[from_minor(a, scale) for a in r.amounts], account_pk=r.account_id,
                    ranges=r.ranges, filters=found.filters,
                )
                for r in found.rows
            ],
            statistics=[
                StatisticRow(quantities=[from_minor(q, scales[s.account_id]) for q in s.quantities],
                             account_pk=s.account_id)
                for s in found.statistics
            ],
        )
