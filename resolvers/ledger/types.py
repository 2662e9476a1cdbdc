"""GraphQL types of the ledger. Scalars are plain attributes; only I/O fields are async."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from ledger import model
from ledger.money import CURRENCY_SCALES, from_minor
from ledger.reads import LINE_WIDTH

from ..batch import batched, each, one
from ..ids import cursor, global_id, parse_cursor, parse_global_id
from ..pagination import Connection, connection
from ..scopes import LEDGER, STATISTICAL, STATISTICAL_READ, check_scope
from .dataloaders import (
    AccountByIdLoader,
    AccountGroupByIdLoader,
    BalanceByAccountLoader,
    DimensionValueByIdLoader,
    EntityByIdLoader,
    EntryByIdLoader,
    LineByIdLoader,
    LinePageLoader,
    LinesByEntryLoader,
    SourceLinksByEntryLoader,
    SourceLinksByLineLoader,
)

if TYPE_CHECKING:
    from ..sources.types import SourceRecord

AccountType = strawberry.enum(model.AccountType, name="AccountType")
DimensionKind = strawberry.enum(model.DimensionKind, name="DimensionKind")
NormalBalance = strawberry.enum(
    model.NormalBalance, name="NormalBalance",
    description="The side an account's balance normally sits on; statements show it positive.",
)
Aggregation = strawberry.enum(
    model.Aggregation, name="Aggregation",
    description="How a statistical account adds up over time: FLOW sums its quantities "
    "(GB used, rooms sold); STOCK records levels (headcount), and its value at a date is "
    "the latest level of each combination of dimension values, summed.",
)


@strawberry.enum
class EntryState(Enum):
    POSTED = "POSTED"
    REVERSED = "REVERSED"


@strawberry.interface
class Node:
    id: strawberry.ID


@strawberry.federation.type(requires_scopes=LEDGER)
class Entity:
    code: str
    base_currency: str
    pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, e) -> Entity:
        """From a `model.Entity` row or the request's `EntityInfo` (code and currency never
        change; the name and settings are read fresh, as a rename shows at once)."""
        return cls(code=e.code, base_currency=e.base_currency, pk=e.id)

    @strawberry.field
    async def name(self, info: Info) -> str:
        return (await info.context.loader(EntityByIdLoader).load(self.pk)).name

    @strawberry.field(
        description="The month (1-12) its fiscal years start in; a fiscal year is named by "
        "the calendar year it ends in."
    )
    async def fiscal_year_start_month(self, info: Info) -> int:
        return (await info.context.loader(EntityByIdLoader).load(self.pk)).fiscal_year_start_month

    @strawberry.field(description="The equity account revenue and expense close into.")
    async def retained_earnings(self, info: Info) -> Account | None:
        entity = await info.context.loader(EntityByIdLoader).load(self.pk)
        if entity.retained_earnings_account_id is None:
            return None
        found = await info.context.loader(AccountByIdLoader).load(entity.retained_earnings_account_id)
        return Account.from_model(found) if found else None


@strawberry.federation.type(requires_scopes=LEDGER)
class Period:
    name: str
    start: dt.date
    end: dt.date
    closed: bool
    fiscal_year: int | None = strawberry.field(
        default=None, description="The fiscal year it belongs to (named by the calendar year it ends in)."
    )

    @classmethod
    def from_model(cls, p: model.Period) -> Period:
        return cls(
            name=p.name, start=p.start_date, end=p.end_date, closed=p.closed,
            fiscal_year=p.fiscal_year,
        )


@strawberry.federation.type(requires_scopes=LEDGER)
class DimensionValue:
    kind: DimensionKind
    code: str
    name: str
    active: bool = strawberry.field(default=True, description="Inactive values take no new postings.")

    @classmethod
    def from_model(cls, v: model.DimensionValue) -> DimensionValue:
        return cls(kind=model.DimensionKind(v.kind), code=v.code, name=v.name, active=v.active)


@strawberry.federation.type(requires_scopes=LEDGER)
class AccountGroup:
    """A heading of the statements' reporting hierarchy; groups nest."""

    code: str
    name: str
    position: int = strawberry.field(description="Order among its siblings.")
    parent: str | None = strawberry.field(description="The code of the group it sits under.")

    @classmethod
    def from_model(cls, g: model.AccountGroup, parent_code: str | None) -> AccountGroup:
        return cls(code=g.code, name=g.name, position=g.position, parent=parent_code)


@strawberry.federation.type(requires_scopes=LEDGER)
class TransactionAmount:
    """A line's amount in the currency of its transaction, and the rate that gave its base
    amount (base-currency units per unit of `currency`)."""

    currency: str
    debit: decimal.Decimal
    credit: decimal.Decimal
    rate: decimal.Decimal


@strawberry.federation.type(requires_scopes=LEDGER)
class Journal:
    code: str
    name: str
    active: bool

    @classmethod
    def from_model(cls, j: model.Journal) -> Journal:
        return cls(code=j.code, name=j.name, active=j.active)


@strawberry.federation.type(requires_scopes=LEDGER)
class SourceLink:
    """Where a record came from: the system, its record type and id, and a deep link."""

    system: str
    record_type: str
    record_id: str
    url: str | None

    @classmethod
    def from_model(cls, link) -> SourceLink:
        """From a `model.SourceLink` or a row of `ledger.reads.LINK_COLUMNS`."""
        return cls(
            system=link.system, record_type=link.record_type, record_id=link.record_id, url=link.url
        )

    @strawberry.field(
        description="The live record in its system; null, with an error naming the link, "
        "when it no longer exists or the system cannot answer.",
        metadata=batched(lambda info, links: _records_of(info, links)),
    )
    async def record(
        self, info: Info
    ) -> Annotated[SourceRecord, strawberry.lazy("resolvers.sources.types")] | None:
        return await one(_records_of, info, self)


async def _records_of(info: Info, links: Sequence[SourceLink]) -> list:
    from ..sources.records import resolve_source_records

    return await resolve_source_records(
        info, [(link.system, link.record_type, link.record_id) for link in links], "SourceLink.record"
    )


FromArg = Annotated[dt.date | None, strawberry.argument(name="from")]
ToArg = Annotated[dt.date | None, strawberry.argument(name="to")]


def line_page_key(info: Info, group, date_from, date_to, first, after) -> tuple:
    """The LinePageLoader key for a page of lines, with its cursor decoded."""
    size = info.context.page_size(first)
    position = parse_cursor(after, dt.date, int) if after else None
    return (group, date_from, date_to, size, position)


async def load_line_page(info: Info, key: tuple) -> Connection[JournalLine]:
    rows, has_next = await info.context.loader(LinePageLoader).load(key)
    return line_connection(rows, has_next)


def line_connection(rows, has_next: bool) -> Connection[JournalLine]:
    """A page of lines, its cursors made from the lines (a Row's attributes are dear)."""
    lines = [JournalLine.from_row(row) for row in rows]
    return connection(lines, has_next, _same, lambda line: cursor(line.date, line.pk))


def _same(value):
    return value


@strawberry.federation.type(keys=["id"], requires_scopes=LEDGER)
class Account(Node):
    id: strawberry.ID
    code: str
    name: str
    type: AccountType
    unit: str | None
    normal_balance: NormalBalance
    aggregation: Aggregation | None = strawberry.field(description="Statistical accounts only.")
    active: bool = strawberry.field(description="Inactive accounts take no new postings.")
    pk: strawberry.Private[int]
    group_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, a: model.Account) -> Account:
        return cls(
            id=strawberry.ID(global_id("Account", a.id)),
            code=a.code,
            name=a.name,
            type=model.AccountType(a.type),
            unit=a.unit,
            normal_balance=model.NormalBalance(a.normal_balance),
            aggregation=model.Aggregation(a.aggregation) if a.aggregation else None,
            active=a.active,
            pk=a.id,
            group_pk=a.group_id,
            _quantity_scale=a.quantity_scale,
        )

    @strawberry.field(description="Its heading in the statements' reporting hierarchy.")
    async def group(self, info: Info) -> AccountGroup | None:
        if self.group_pk is None:
            return None
        group, parent = await info.context.loader(AccountGroupByIdLoader).load(self.group_pk)
        return AccountGroup.from_model(group, parent)

    _quantity_scale: strawberry.Private[int]

    @strawberry.field(
        description="Debits minus credits over the dates given (both inclusive); "
        "for a statistical account, the sum of quantities."
    )
    async def balance(self, info: Info, from_: FromArg = None, to: ToArg = None) -> decimal.Decimal:
        if self.type == model.AccountType.STATISTICAL:
            check_scope(info, STATISTICAL_READ, "Account.balance of a statistical account")
        debit, credit, quantity = await info.context.loader(BalanceByAccountLoader).load(
            (self.pk, from_, to)
        )
        if self.type == model.AccountType.STATISTICAL:
            return from_minor(quantity or 0, self._quantity_scale)
        return from_minor(debit - credit, info.context.entity.money_scale)

    @strawberry.field(description="The account's lines in date order.")
    async def lines(
        self,
        info: Info,
        from_: FromArg = None,
        to: ToArg = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[JournalLine]:
        key = line_page_key(info, (self.pk, ()), from_, to, first, after)
        return await load_line_page(info, key)


@strawberry.federation.type(keys=["id"], requires_scopes=LEDGER)
class JournalEntry(Node):
    id: strawberry.ID
    number: str
    journal: str
    date: dt.date
    description: str | None
    state: EntryState
    posted_at: str
    hash: str
    pk: strawberry.Private[int]
    reverses_pk: strawberry.Private[int | None]
    reversed_by_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row) -> JournalEntry:
        return cls(
            id=strawberry.ID(global_id("JournalEntry", row.id)),
            number=row.number,
            journal=row.journal,
            date=row.date,
            description=row.description,
            state=EntryState.REVERSED if row.reversed_by_id else EntryState.POSTED,
            posted_at=row.posted_at,
            hash=row.hash,
            pk=row.id,
            reverses_pk=row.reverses_id,
            reversed_by_pk=row.reversed_by_id,
        )

    @strawberry.field(metadata=batched(lambda info, entries: _lines_of(info, entries)))
    async def lines(self, info: Info) -> list[JournalLine]:
        return await one(_lines_of, info, self)

    @strawberry.field(
        description="The record the entry as a whole came from, if any.",
        metadata=batched(lambda info, entries: _entry_sources_of(info, entries)),
    )
    async def source(self, info: Info) -> SourceLink | None:
        return await one(_entry_sources_of, info, self)

    @strawberry.field(
        description="The entry this one reverses.",
        metadata=batched(lambda info, entries: _reversed_of(info, entries)),
    )
    async def reverses(self, info: Info) -> JournalEntry | None:
        return await one(_reversed_of, info, self)

    @strawberry.field(
        description="The entry that reverses this one.",
        metadata=batched(lambda info, entries: _reversals_of(info, entries)),
    )
    async def reversed_by(self, info: Info) -> JournalEntry | None:
        return await one(_reversals_of, info, self)


# Batch resolvers (`resolvers.batch`): each field's values for a whole list of objects,
# one loader call each; the per-object resolvers above and below are these over one object.


async def _entries_by_pk(info: Info, pks: Sequence[int | None]) -> list:
    wanted = [pk for pk in pks if pk is not None]
    rows = dict(zip(wanted, await info.context.loader(EntryByIdLoader).load_many(wanted)))
    made: dict[int, JournalEntry | None] = {}
    for pk, row in rows.items():
        made[pk] = JournalEntry.from_row(row) if row else None
    return [None if pk is None else made[pk] for pk in pks]


async def _lines_of(info: Info, entries: Sequence[JournalEntry]) -> list:
    groups = await info.context.loader(LinesByEntryLoader).load_many([e.pk for e in entries])
    return [[JournalLine.from_row(r) for r in rows] for rows in groups]


async def _entry_sources_of(info: Info, entries: Sequence[JournalEntry]) -> list:
    groups = await info.context.loader(SourceLinksByEntryLoader).load_many([e.pk for e in entries])
    return [SourceLink.from_model(links[0]) if links else None for links in groups]


async def _reversed_of(info: Info, entries: Sequence[JournalEntry]) -> list:
    return await _entries_by_pk(info, [e.reverses_pk for e in entries])


async def _reversals_of(info: Info, entries: Sequence[JournalEntry]) -> list:
    return await _entries_by_pk(info, [e.reversed_by_pk for e in entries])


@strawberry.federation.type(keys=["id"], requires_scopes=LEDGER)
class JournalLine(Node):
    id: strawberry.ID
    line_no: int
    date: dt.date = strawberry.field(description="The entry's date, repeated on each line.")
    debit: decimal.Decimal
    credit: decimal.Decimal
    currency: str
    quantity: decimal.Decimal | None = strawberry.federation.field(requires_scopes=STATISTICAL)
    memo: str | None
    transaction: TransactionAmount | None = strawberry.field(
        description="A line in a foreign (transaction) currency: its amount there and the "
        "rate; debit and credit are the base-currency amounts. Null for base-currency lines."
    )
    pk: strawberry.Private[int]
    entry_pk: strawberry.Private[int]
    account_pk: strawberry.Private[int]
    dimension_pks: strawberry.Private[tuple[int, ...]]

    @classmethod
    def from_row(cls, row) -> JournalLine:
        """From a row whose first columns are `ledger.reads.LINE_COLUMNS`, in that order:
        unpacked at once, since each attribute of a Row costs ~0.4 µs, some 11 µs a line,
        and a page holds 10,000 lines."""
        (pk, entry_id, line_no, account_id, date, currency, debit, credit, quantity, quantity_scale,
         memo, txn_currency, txn_debit, txn_credit, rate, *dimensions) = row[:LINE_WIDTH]
        scale = CURRENCY_SCALES[currency]
        return cls(
            id=strawberry.ID(global_id("JournalLine", pk)),
            line_no=line_no,
            date=date,
            debit=from_minor(debit, scale),
            credit=from_minor(credit, scale),
            currency=currency,
            quantity=None if quantity is None else from_minor(quantity, quantity_scale),
            memo=memo,
            transaction=None if txn_currency is None else TransactionAmount(
                currency=txn_currency,
                debit=from_minor(txn_debit, CURRENCY_SCALES[txn_currency]),
                credit=from_minor(txn_credit, CURRENCY_SCALES[txn_currency]),
                rate=decimal.Decimal(rate),
            ),
            pk=pk,
            entry_pk=entry_id,
            account_pk=account_id,
            # In DIMENSION_COLUMNS order: department, location, … class.
            dimension_pks=tuple(v for v in dimensions if v is not None),
        )

    @strawberry.field(metadata=batched(lambda info, lines: _entries_of(info, lines)))
    async def entry(self, info: Info) -> JournalEntry:
        return await one(_entries_of, info, self)

    @strawberry.field(metadata=batched(lambda info, lines: _accounts_of(info, lines)))
    async def account(self, info: Info) -> Account:
        return await one(_accounts_of, info, self)

    @strawberry.field(metadata=batched(lambda info, lines: _dimensions_of(info, lines)))
    async def dimensions(self, info: Info) -> list[DimensionValue]:
        return await one(_dimensions_of, info, self)

    @strawberry.field(
        description="The source records this line came from.",
        metadata=batched(lambda info, lines: _line_sources_of(info, lines)),
    )
    async def sources(self, info: Info) -> list[SourceLink]:
        return await one(_line_sources_of, info, self)


async def _entries_of(info: Info, lines: Sequence[JournalLine]) -> list:
    return await _entries_by_pk(info, [line.entry_pk for line in lines])


async def _accounts_of(info: Info, lines: Sequence[JournalLine]) -> list:
    pks = [line.account_pk for line in lines]
    found = dict(zip(pks, await info.context.loader(AccountByIdLoader).load_many(pks)))
    # A page's lines share a few accounts: one object each (an unknown one is the error
    # `from_model` raises, for each of its lines).
    made = dict(zip(found, each(Account.from_model, found.values())))
    return [made[pk] for pk in pks]


async def _dimensions_of(info: Info, lines: Sequence[JournalLine]) -> list:
    pks = list(dict.fromkeys(pk for line in lines for pk in line.dimension_pks))
    values = dict(zip(pks, await info.context.loader(DimensionValueByIdLoader).load_many(pks)))
    made = {pk: DimensionValue.from_model(v) for pk, v in values.items() if v is not None}
    return [[made[pk] for pk in line.dimension_pks if pk in made] for line in lines]


async def _line_sources_of(info: Info, lines: Sequence[JournalLine]) -> list:
    groups = await info.context.loader(SourceLinksByLineLoader).load_many(
        [(line.entry_pk, line.pk) for line in lines]
    )
    return [[SourceLink.from_model(link) for link in links] for links in groups]


@strawberry.federation.type(
    requires_scopes=LEDGER,
    description="What a verification of the entity's hash chain checked and found. From a "
    "checkpoint (full: false) it proves that the checkpoint entry still has the hash it had "
    "when verified, and that every entry after it hashes to its stored hash and links to "
    "its predecessor up to the entity's head. Entries before the checkpoint are not re-read: "
    "tampering there (other than with the checkpoint entry) is found only by a full recheck, "
    "`ledgergate ledger verify --full`.",
)
class LedgerVerification:
    ok: bool
    entries_checked: int = strawberry.field(description="Entries walked (from fromEntry on).")
    first_broken_entry: str | None = strawberry.field(
        description="The first entry that does not hold (altered, unlinked or missing); null when ok."
    )
    full: bool = strawberry.field(description="True: walked from the first entry (genesis).")
    from_entry: str | None = strawberry.field(
        description="The first entry walked; null when there was nothing after the checkpoint."
    )
    checkpoint_at: str | None = strawberry.field(
        description="When the checkpoint this verification started from was verified (UTC, "
        "ISO 8601); null when it started from genesis."
    )


async def load_node(info: Info, type_name: str, pk: int) -> Node | None:
    """An Account, JournalEntry or JournalLine by primary key, if the caller's entity owns it."""
    if type_name == "Account":
        account = await info.context.loader(AccountByIdLoader).load(pk)
        return Account.from_model(account) if account else None
    if type_name == "JournalEntry":
        row = await info.context.loader(EntryByIdLoader).load(pk)
        return JournalEntry.from_row(row) if row else None
    if type_name == "JournalLine":
        row = await info.context.loader(LineByIdLoader).load(pk)
        return JournalLine.from_row(row) if row else None
    return None


async def _resolve_reference(cls, info: Info, id: strawberry.ID):  # noqa: A002 - federation's name
    # Federation `_entities`: representations resolve concurrently, so the loaders batch them.
    type_name, pk = parse_global_id(id)
    return await load_node(info, type_name, pk) if type_name == cls.__name__ else None


for _entity_type in (Account, JournalEntry, JournalLine):
    _entity_type.resolve_reference = classmethod(_resolve_reference)
