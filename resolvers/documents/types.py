"""Sales order types (`documents:read`)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from enum import Enum

import strawberry
from strawberry.types import Info

from ledger.documents import model
from ledger.documents import sales_order as rules
from ledger.money import currency_scale, from_minor

from ..batch import batched, one
from ..ids import global_id
from ..ledger.dataloaders import EntryByIdLoader
from ..ledger.types import JournalEntry, SourceLink
from ..scopes import DOCUMENT_WRITE, DOCUMENTS, LEDGER, OUTBOX
from .dataloaders import (
    OrderDeliveriesLoader,
    OrderEntriesLoader,
    OrderLinesLoader,
    OrderNotesLoader,
)


@strawberry.enum(description="OPEN → FULFILLED → INVOICED → PAID, or OPEN → CANCELLED; never back.")
class SalesOrderState(Enum):
    OPEN = "OPEN"
    FULFILLED = "FULFILLED"
    INVOICED = "INVOICED"
    PAID = "PAID"
    CANCELLED = "CANCELLED"


@strawberry.enum(description="PENDING (not yet taken, or to be retried), DELIVERED, or DEAD "
                 "(every attempt failed: `ledgergate outbox retry` sends it again).")
class DeliveryState(Enum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"


@strawberry.federation.type(requires_scopes=DOCUMENTS)
class SalesOrderLine:
    line_no: int
    item: str
    description: str | None
    quantity: decimal.Decimal
    unit_price: decimal.Decimal
    amount: decimal.Decimal = strawberry.field(
        description="quantity × unitPrice, rounded half to even to the currency's minor unit.")
    dimensions: list[SalesOrderDimension]


@strawberry.federation.type(requires_scopes=DOCUMENTS)
class SalesOrderDimension:
    kind: str
    code: str


@strawberry.federation.type(requires_scopes=DOCUMENTS)
class Delivery:
    """One outbox message about the order: the order as it stood at `version`, for `system`."""

    id: strawberry.ID
    system: str
    version: int
    state: DeliveryState
    attempts: int
    last_error: str | None
    next_attempt_at: str | None
    delivered_at: str | None


@strawberry.federation.type(requires_scopes=DOCUMENTS)
class SalesOrderNote:
    author: str
    text: str
    created_at: str
    origin: str = strawberry.field(description="Where it was written: ledgergate, or the system "
                                   "that pushed it (the CRM).")


@strawberry.federation.type(requires_scopes=DOCUMENTS)
class SalesOrder:
    id: strawberry.ID
    number: str
    state: SalesOrderState
    version: int = strawberry.field(description="1 when created, one more with every change.")
    customer: str = strawberry.field(description="The customer's code (a CUSTOMER dimension value).")
    currency: str
    total: decimal.Decimal
    amount_invoiced: decimal.Decimal
    amount_paid: decimal.Decimal
    amount_due: decimal.Decimal = strawberry.field(description="Invoiced and not yet paid.")
    paid_on: dt.date | None
    created_at: str
    updated_at: str
    source: SourceLink | None = strawberry.federation.field(
        requires_scopes=LEDGER, description="The record the order came from (a source link, "
        "ledger data: `ledger:read` too).")
    pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, order: model.SalesOrder, customer: str) -> SalesOrder:
        scale = currency_scale(order.currency)
        source = None
        if order.source_system is not None:
            source = SourceLink(system=order.source_system, record_type=order.source_record_type,
                                record_id=order.source_record_id, url=order.source_url)
        return cls(
            id=strawberry.ID(global_id("SalesOrder", order.id)), number=order.number,
            state=SalesOrderState(order.state), version=order.version, customer=customer,
            currency=order.currency, total=from_minor(order.total, scale),
            amount_invoiced=from_minor(order.invoiced, scale), amount_paid=from_minor(order.paid, scale),
            amount_due=from_minor(order.invoiced - order.paid, scale),
            paid_on=dt.date.fromisoformat(order.paid_on) if order.paid_on else None,
            created_at=order.created_at, updated_at=order.updated_at, source=source, pk=order.id,
        )

    @strawberry.field(metadata=batched(lambda info, orders: _lines_of(info, orders)))
    async def lines(self, info: Info) -> list[SalesOrderLine]:
        return await one(_lines_of, info, self)

    @strawberry.federation.field(
        requires_scopes=LEDGER,
        description="The entries the order posted, oldest first: its invoice, then its "
        "payments (ledger data: `ledger:read` too).",
        metadata=batched(lambda info, orders: _entries_of(info, orders)),
    )
    async def entries(self, info: Info) -> list[JournalEntry]:
        return await one(_entries_of, info, self)

    @strawberry.field(
        description="What each system that must hear of the order has been sent.",
        metadata=batched(lambda info, orders: _deliveries_of(info, orders)),
    )
    async def deliveries(self, info: Info) -> list[Delivery]:
        return await one(_deliveries_of, info, self)

    @strawberry.field(
        description="Notes on the order, oldest first, from ledgergate and from its system.",
        metadata=batched(lambda info, orders: _notes_of(info, orders)),
    )
    async def notes(self, info: Info) -> list[SalesOrderNote]:
        return await one(_notes_of, info, self)


async def _notes_of(info: Info, orders: Sequence[SalesOrder]) -> list:
    groups = await info.context.loader(OrderNotesLoader).load_many([o.pk for o in orders])
    return [[SalesOrderNote(author=n.author, text=n.text, created_at=n.created_at, origin=n.origin)
             for n in notes] for notes in groups]


async def _lines_of(info: Info, orders: Sequence[SalesOrder]) -> list:
    groups = await info.context.loader(OrderLinesLoader).load_many([o.pk for o in orders])
    out = []
    for order, lines in zip(orders, groups):
        scale = currency_scale(order.currency)
        out.append([
            SalesOrderLine(
                line_no=line.line_no, item=line.item, description=line.description,
                quantity=from_minor(line.quantity, rules.QUANTITY_PLACES).normalize(),
                unit_price=from_minor(line.unit_price, rules.PRICE_PLACES).normalize(),
                amount=from_minor(line.amount, scale),
                dimensions=[SalesOrderDimension(kind=k, code=c) for k, c in line.dimensions],
            )
            for line in lines
        ])
    return out


async def _entries_of(info: Info, orders: Sequence[SalesOrder]) -> list:
    groups = await info.context.loader(OrderEntriesLoader).load_many([o.pk for o in orders])
    rows = await info.context.loader(EntryByIdLoader).load_many(
        [link.entry_id for links in groups for link in links])
    made = {row.id: JournalEntry.from_row(row) for row in rows if row is not None}
    return [[made[link.entry_id] for link in links] for links in groups]


async def _deliveries_of(info: Info, orders: Sequence[SalesOrder]) -> list:
    groups = await info.context.loader(OrderDeliveriesLoader).load_many([o.number for o in orders])
    return [
        [Delivery(id=strawberry.ID(global_id("Delivery", m.id)), system=m.system, version=m.version, state=DeliveryState(m.state),
                  attempts=m.attempts, last_error=m.last_error,
                  next_attempt_at=m.next_attempt_at if m.state == "PENDING" else None,
                  delivered_at=m.delivered_at)
         for m in messages]
        for messages in groups
    ]


@strawberry.federation.type(requires_scopes=OUTBOX)
class RetryDeliveriesPayload:
    retried: list[strawberry.ID] = strawberry.field(description="The deliveries now PENDING again.")


@strawberry.federation.type(requires_scopes=DOCUMENT_WRITE)
class SalesOrderPayload:
    sales_order: SalesOrder
    replayed: bool = strawberry.field(
        description="True when the idempotency key was used before with this request: "
        "nothing was changed now.")
