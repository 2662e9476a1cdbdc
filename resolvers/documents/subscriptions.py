"""Live changes of sales orders and their deliveries, over a WebSocket
(`gateway.subscriptions`), to callers with `documents:read`; each event is the caller's
entity's only, read afresh when it arrives (so it is what a query would answer then).

The bus (`info.context.changes`) says which order changed; consecutive changes of one order
may arrive as one event with its latest state (the event reads the order when it comes).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from ledger.documents import reads
from ledger.documents.sales_orders import TOPIC
from ledger.outbox import DELIVERY_TOPIC

from ..errors import UNAVAILABLE, CodedError, user_input_error
from ..ids import parse_global_id
from ..scopes import DOCUMENTS, check_field_scopes
from .types import SalesOrder


@strawberry.federation.type(requires_scopes=DOCUMENTS)
class DeliveryChange:
    """A delivery of an order changed state (delivered, failed, dead, retried)."""

    sales_order: SalesOrder
    topic: str = strawberry.field(description="What was delivered: salesOrder or salesOrderNote.")


def _changes(info: Info, topics: set[str]):
    """The caller's entity's changes of `topics`, from the moment of this call (the queue is
    registered now, not when the stream is first read: nothing committed in between is
    missed)."""
    listening = info.context.changes.listen(info.context.entity.id)
    queue = listening.__enter__()

    async def changes():
        try:
            while True:
                topic, key = await queue.get()
                if not topic:
                    raise CodedError("this subscription fell too far behind the changes and was "
                                     "ended; subscribe again and read the current state", UNAVAILABLE)
                if topic in topics:
                    yield topic, key
        finally:
            listening.__exit__(None, None, None)

    return changes()


@strawberry.type
class DocumentSubscriptions:
    @strawberry.federation.field(
        is_subscription=True, requires_scopes=DOCUMENTS,
        description="Each change of the caller's sales orders (or of the one with this ID), "
        "as the order stands once the change is committed: created, a step of its "
        "lifecycle, a note.",
    )
    async def sales_order_changed(
        self, info: Info, id: strawberry.ID | None = None
    ) -> AsyncGenerator[SalesOrder, None]:
        # Checked here, before the stream starts: a refused subscription never subscribes.
        check_field_scopes(info, "Subscription", "salesOrderChanged")
        wanted = None
        if id is not None:
            kind, wanted = parse_global_id(id)
            if kind != "SalesOrder":
                raise user_input_error(f"{id!r} is not a SalesOrder ID")
        return _orders(info, _changes(info, {TOPIC}), wanted)

    @strawberry.federation.field(
        is_subscription=True, requires_scopes=DOCUMENTS,
        description="Each change of a delivery to another system of the caller's sales "
        "orders (delivered, failed and waiting to retry, dead, sent again).",
    )
    async def delivery_changed(self, info: Info) -> AsyncGenerator[DeliveryChange, None]:
        check_field_scopes(info, "Subscription", "deliveryChanged")
        return _deliveries(info, _changes(info, {DELIVERY_TOPIC}))


async def _orders(info: Info, changes, wanted: int | None):
    async for _, key in changes:
        if wanted is not None and int(key) != wanted:
            continue
        async with info.context.session() as session:
            row = await reads.order_by_id(session, int(key))
            if row is not None:
                yield SalesOrder.from_model(*row)


async def _deliveries(info: Info, changes):
    async for _, key in changes:
        topic, _, number = key.partition(":")
        async with info.context.session() as session:
            row = await reads.order_by_number(session, number)
            if row is not None:
                yield DeliveryChange(sales_order=SalesOrder.from_model(*row), topic=topic)
