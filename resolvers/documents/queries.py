"""Reading sales orders (`documents:read`), the caller's entity only."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from ledger.documents import reads

from ..ids import cursor, parse_cursor
from ..pagination import Connection, connection
from ..scopes import DOCUMENTS
from .types import SalesOrder, SalesOrderState


@strawberry.type
class DocumentQueries:
    @strawberry.federation.field(requires_scopes=DOCUMENTS, description="Sales orders by number, "
                                 "optionally only those in one state.")
    async def sales_orders(
        self, info: Info, state: SalesOrderState | None = None, first: int | None = None,
        after: str | None = None,
    ) -> Connection[SalesOrder]:
        size = info.context.page_size(first)
        position = parse_cursor(after, int)[0] if after else None
        async with info.context.session() as session:
            rows, has_next = await reads.orders_page(
                session, state=state.value if state else None, first=size, after=position)
            orders = [SalesOrder.from_model(order, customer) for order, customer in rows]
        return connection(orders, has_next, lambda o: o, lambda o: cursor(o.pk))

    @strawberry.federation.field(requires_scopes=DOCUMENTS)
    async def sales_order(self, info: Info, number: str) -> SalesOrder | None:
        async with info.context.session() as session:
            row = await reads.order_by_number(session, number)
            return SalesOrder.from_model(*row) if row else None
