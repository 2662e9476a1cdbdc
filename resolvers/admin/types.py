"""Types of administration: inputs, and the record of a fiscal year's close."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from ledger import model

from ..ledger.dataloaders import AccountByIdLoader, EntryByIdLoader
from ..ledger.types import (
    Account,
    AccountType,
    Aggregation,
    JournalEntry,
    NormalBalance,
)
from ..scopes import LEDGER


@strawberry.input(description="A new account. Statistical accounts need a unit.")
class AccountInput:
    code: str
    name: str
    type: AccountType
    normal_balance: NormalBalance | None = strawberry.field(
        default=None, description="Default: DEBIT for assets, expenses and statistical "
        "accounts, CREDIT for liabilities, equity and revenue."
    )
    unit: str | None = strawberry.field(default=None, description="Statistical accounts only (people, GB).")
    quantity_scale: int = strawberry.field(
        default=0, description="Statistical accounts only: decimals a quantity may carry (0-6)."
    )
    aggregation: Aggregation | None = strawberry.field(
        default=None, description="Statistical accounts only; default FLOW."
    )
    group: str | None = strawberry.field(default=None, description="The account group's code.")


@strawberry.input
class AccountGroupInput:
    code: str
    name: str
    parent: str | None = strawberry.field(default=None, description="The parent group's code.")
    position: int = strawberry.field(default=0, description="Order among its siblings.")


@strawberry.federation.type(requires_scopes=LEDGER)
class YearEndClose:
    """A fiscal year's close: the entry that moved its revenue and expense into retained
    earnings, and the reversal that undid it when one of its periods was reopened."""

    fiscal_year: int
    closed_at: str
    reopened_at: str | None
    entry_pk: strawberry.Private[int | None]
    reversal_pk: strawberry.Private[int | None]
    account_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, c: model.YearEndClose) -> YearEndClose:
        return cls(
            fiscal_year=c.fiscal_year, closed_at=c.closed_at, reopened_at=c.reopened_at,
            entry_pk=c.entry_id, reversal_pk=c.reversal_entry_id,
            account_pk=c.retained_earnings_account_id,
        )

    @strawberry.field(description="Null when the year had no revenue or expense to close.")
    async def entry(self, info: Info) -> JournalEntry | None:
        return await _entry(info, self.entry_pk)

    @strawberry.field(description="Set once the close was undone by reopening a period.")
    async def reversal(self, info: Info) -> JournalEntry | None:
        return await _entry(info, self.reversal_pk)

    @strawberry.field
    async def retained_earnings(self, info: Info) -> Account:
        return Account.from_model(await info.context.loader(AccountByIdLoader).load(self.account_pk))

    @strawberry.field(description="In force: closed and not reopened since.")
    def in_force(self) -> bool:
        return self.reopened_at is None


async def _entry(info: Info, pk: int | None) -> JournalEntry | None:
    if pk is None:
        return None
    return JournalEntry.from_row(await info.context.loader(EntryByIdLoader).load(pk))
