"""Moving sales orders through their lifecycle (`documents:write`), each change keyed and
audited like a posting (`resolvers.ledger.mutations`): on success the audit row is written
in the change's own transaction, on failure the request's trail records the refusal."""

from __future__ import annotations

import datetime as dt
import decimal

import strawberry
from strawberry.types import Info

from ledger import audit, outbox
from ledger.documents import reads
from ledger.documents import sales_orders as orders
from ledger.documents.sales_order import OrderLineDraft
from ledger.drafts import EntryDraft
from ledger.errors import Violation

from ..admin.mutations import run_admin
from ..errors import user_input_error
from ..ids import global_id, parse_global_id
from ..ledger.mutations import DimensionInput, SourceLinkInput, _audited, _key_owner, _links_found
from ..ledger.types import DimensionKind
from ..scopes import ADMIN, DOCUMENT_WRITE, OUTBOX
from .from_source import order_from_source
from .types import RetryDeliveriesPayload, SalesOrder, SalesOrderPayload


@strawberry.input
class SalesOrderLineInput:
    item: str
    quantity: decimal.Decimal
    unit_price: decimal.Decimal
    description: str | None = None
    dimensions: list[DimensionInput] | None = strawberry.field(
        default=None, description="Posted on the invoice's revenue line; not CUSTOMER (the "
        "order's customer is).")


@strawberry.input
class SalesOrderInput:
    customer: str = strawberry.field(description="A CUSTOMER dimension value's code.")
    currency: str
    lines: list[SalesOrderLineInput]
    source: SourceLinkInput | None = strawberry.field(
        default=None, description="The record the order comes from (a CRM opportunity): it "
        "must exist in its system, and makes one order.")

    def to_draft(self) -> orders.OrderDraft:
        return orders.OrderDraft(
            customer=self.customer, currency=self.currency,
            source=self.source.to_ref() if self.source else None,
            lines=tuple(
                OrderLineDraft(
                    item=line.item, quantity=line.quantity, unit_price=line.unit_price,
                    description=line.description,
                    dimensions=tuple(sorted((DimensionKind(d.kind).value, d.code)
                                            for d in line.dimensions or ())),
                )
                for line in self.lines
            ),
        )


@strawberry.federation.type(requires_scopes=ADMIN)
class SalesOrderBook:
    journal: str
    receivable_account: str
    revenue_account: str
    cash_account: str


def _notify(info: Info, order_source: str | None) -> tuple[str, ...]:
    """Who hears of an order's changes: the system it came from, if that system takes
    sales order messages (`[systems.NAME.deliveries] salesOrder`): the CRM learns its order
    was fulfilled, invoiced, paid. An order entered by hand tells no one."""
    return (order_source,) if info.context.sources.delivers(order_source, orders.TOPIC) else ()


def _notify_notes(info: Info, order_source: str | None) -> tuple[str, ...]:
    """Who hears of an order's notes: its system, if it takes them (`salesOrderNote`)."""
    return (order_source,) if info.context.sources.delivers(order_source, orders.NOTE_TOPIC) else ()


async def _change(info: Info, operation: str, detail: dict, step, prepare=None) -> SalesOrderPayload:
    """Run `step(session, before_commit)` (with `prepare()`'s result as a third argument if
    given: work such as a source system's answer, done before a connection is taken) with
    the mutation's audit row in its transaction; the payload is the order as the change
    left it."""

    async def write(trail):
        async def before_commit(session, change: orders.Change) -> None:
            event = trail.event(audit.MUTATION, audit.OK, {
                "operation": operation, **detail, "salesOrder": change.number,
                "version": change.version,
                "entries": [] if change.entry_id is None else [{"id": change.entry_id}],
            })
            await audit.append(session, [event])

        prepared = () if prepare is None else (await prepare(),)
        async with info.context.session() as session:
            change = await step(session, before_commit, *prepared)
            row = await reads.order_by_id(session, change.order_id)
            return SalesOrderPayload(sales_order=SalesOrder.from_model(*row), replayed=change.replayed)

    return await _audited(info, operation, detail, write)


async def _source_of(info: Info, number: str) -> str | None:
    async with info.context.session() as session:
        row = await reads.order_by_number(session, number)
    return row[0].source_system if row else None


def _keyed(key: str, **detail) -> dict:
    return {"idempotencyKey": key[:200], **detail}


@strawberry.type
class DocumentMutations:
    @strawberry.federation.field(
        requires_scopes=ADMIN,
        description="Name the journal and accounts the company's sales orders post to: "
        "invoices debit the receivable account and credit revenue; payments debit cash and "
        "credit the receivable account.",
    )
    async def set_sales_order_book(
        self, info: Info, journal: str, receivable_account: str, revenue_account: str,
        cash_account: str,
    ) -> SalesOrderBook:
        detail = {"journal": journal[:200], "receivableAccount": receivable_account[:200],
                  "revenueAccount": revenue_account[:200], "cashAccount": cash_account[:200]}

        async def work(session, record):
            await orders.set_book(session, journal=journal, receivable=receivable_account,
                                  revenue=revenue_account, cash=cash_account)
            await record(session, "setSalesOrderBook", detail)
            return SalesOrderBook(journal=journal, receivable_account=receivable_account,
                                  revenue_account=revenue_account, cash_account=cash_account)

        return await run_admin(info, "setSalesOrderBook", detail, work)

    @strawberry.federation.field(
        requires_scopes=DOCUMENT_WRITE,
        description="A new OPEN sales order. The idempotency key follows postJournalEntry's "
        "rules. A source record makes one order: another order for it is CONFLICT.",
    )
    async def create_sales_order(
        self, info: Info, input: SalesOrderInput, idempotency_key: str
    ) -> SalesOrderPayload:
        draft = input.to_draft()
        detail = _keyed(idempotency_key, customer=input.customer[:200], lines=len(input.lines))

        async def check_source() -> None:
            if draft.source is not None:
                # The record must exist in its system, checked as a posting's links are.
                [found] = await _links_found(
                    info, [EntryDraft(journal="", date=dt.date.today(), lines=(), source=draft.source)])
                if isinstance(found, Exception):
                    raise found
                if found:
                    raise orders.InvalidOrder([Violation(v.path, v.message) for v in found])

        async def step(session, before_commit, _checked):
            return await orders.create_order(
                session, draft, idempotency_key, client=_key_owner(info),
                notify=_notify(info, draft.source and draft.source.system), before_commit=before_commit)

        return await _change(info, "createSalesOrder", detail, step, check_source)

    @strawberry.federation.field(
        requires_scopes=DOCUMENT_WRITE,
        description="A new OPEN sales order from a source record (a won CRM opportunity), "
        "read live from its system: one line of 1 × its amount, for its customer. The record "
        "type needs customerId, currency and amount fields (stage, if any, must be won). "
        "A record makes one order: another request for it is CONFLICT naming that order.",
    )
    async def create_sales_order_from_source(
        self, info: Info, system: str, record_type: str, record_id: str, idempotency_key: str
    ) -> SalesOrderPayload:
        detail = _keyed(idempotency_key, system=system[:64], recordType=record_type[:64],
                        recordId=record_id[:128])

        async def read_record():
            return await order_from_source(info.context.sources, system, record_type, record_id,
                                           info.context.entity.code)

        async def step(session, before_commit, draft):
            return await orders.create_order(
                session, draft, idempotency_key, client=_key_owner(info),
                notify=_notify(info, system), before_commit=before_commit)

        return await _change(info, "createSalesOrderFromSource", detail, step, read_record)

    @strawberry.federation.field(requires_scopes=DOCUMENT_WRITE,
                                 description="OPEN → FULFILLED: the goods or service were delivered.")
    async def fulfill_sales_order(self, info: Info, number: str, idempotency_key: str) -> SalesOrderPayload:
        notify = _notify(info, await _source_of(info, number))
        return await _change(info, "fulfillSalesOrder", _keyed(idempotency_key, number=number[:200]),
                             lambda session, before_commit: orders.fulfil(
                                 session, number, idempotency_key, client=_key_owner(info),
                                 notify=notify, before_commit=before_commit))

    @strawberry.federation.field(
        requires_scopes=DOCUMENT_WRITE,
        description="FULFILLED → INVOICED: posts the invoice on `date` (receivable against "
        "revenue, in the order's currency), linked to the order and to its source record.",
    )
    async def invoice_sales_order(
        self, info: Info, number: str, date: dt.date, idempotency_key: str
    ) -> SalesOrderPayload:
        notify = _notify(info, await _source_of(info, number))
        detail = _keyed(idempotency_key, number=number[:200], date=date.isoformat())
        return await _change(info, "invoiceSalesOrder", detail,
                             lambda session, before_commit: orders.invoice(
                                 session, number, date, idempotency_key, client=_key_owner(info),
                                 notify=notify, before_commit=before_commit))

    @strawberry.federation.field(
        requires_scopes=DOCUMENT_WRITE,
        description="A payment received on `date` for an INVOICED order: posts cash against "
        "receivable. Part payments are allowed; the order is PAID when nothing is due. More "
        "than is due, or another currency than the order's, is refused.",
    )
    async def record_payment(
        self, info: Info, number: str, amount: decimal.Decimal, currency: str, date: dt.date,
        idempotency_key: str,
    ) -> SalesOrderPayload:
        notify = _notify(info, await _source_of(info, number))
        detail = _keyed(idempotency_key, number=number[:200], amount=str(amount),
                        currency=currency[:3], date=date.isoformat())
        return await _change(info, "recordPayment", detail,
                             lambda session, before_commit: orders.record_payment(
                                 session, number, amount, currency, date, idempotency_key,
                                 client=_key_owner(info), notify=notify, before_commit=before_commit))

    @strawberry.federation.field(
        requires_scopes=DOCUMENT_WRITE,
        description="A note on the order, by the caller (its user, else its client); shared "
        "with the order's system through the outbox. At most 4,000 characters.",
    )
    async def add_sales_order_note(
        self, info: Info, number: str, text: str, idempotency_key: str
    ) -> SalesOrderPayload:
        principal = info.context.principal
        author = principal.username or principal.client_id or "ledgergate"
        notify = _notify_notes(info, await _source_of(info, number))
        detail = _keyed(idempotency_key, number=number[:200], characters=len(text))
        return await _change(info, "addSalesOrderNote", detail,
                             lambda session, before_commit: orders.add_note(
                                 session, number, author, text, idempotency_key,
                                 client=_key_owner(info), notify=notify, before_commit=before_commit))

    @strawberry.federation.field(requires_scopes=DOCUMENT_WRITE,
                                 description="OPEN → CANCELLED; an order fulfilled or invoiced is not cancelled.")
    async def cancel_sales_order(self, info: Info, number: str, idempotency_key: str) -> SalesOrderPayload:
        notify = _notify(info, await _source_of(info, number))
        return await _change(info, "cancelSalesOrder", _keyed(idempotency_key, number=number[:200]),
                             lambda session, before_commit: orders.cancel(
                                 session, number, idempotency_key, client=_key_owner(info),
                                 notify=notify, before_commit=before_commit))





@strawberry.type
class OutboxMutations:
    @strawberry.federation.field(
        requires_scopes=OUTBOX,
        description="Send DEAD deliveries of the caller's entity again (those of `ids`, or "
        "every one with `all: true`): PENDING, due now, with a fresh retry schedule.",
    )
    async def retry_dead_deliveries(
        self, info: Info, ids: list[strawberry.ID] | None = None, all: bool = False
    ) -> RetryDeliveriesPayload:
        detail = {"ids": [str(i)[:100] for i in (ids or ())][:100], "all": all}

        async def write(trail) -> list[int]:
            if bool(ids) == all:
                raise user_input_error("name the deliveries to retry (ids), or all: true; not both")
            pks = []
            for i, value in enumerate(ids or ()):
                kind, pk = parse_global_id(value)
                if kind != "Delivery":
                    raise user_input_error(f"ids[{i}]: {value!r} is not a Delivery ID", path=["ids", i])
                pks.append(pk)
            async with info.context.session() as session:
                # The caller's entity only, named here: the outbox's table is written as Core.
                retried = await outbox.retry_dead(session, ids=pks, entity_id=info.context.entity.id)
                await audit.append(session, [trail.event(audit.MUTATION, audit.OK, {
                    "operation": "retryDeadDeliveries", **detail, "retried": retried})])
                await session.commit()
            return retried

        retried = await _audited(info, "retryDeadDeliveries", detail, write)
        return RetryDeliveriesPayload(retried=[strawberry.ID(global_id("Delivery", pk)) for pk in retried])
