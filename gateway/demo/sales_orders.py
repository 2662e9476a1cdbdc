"""SOFTCO's won services deals as ledger sales orders.

A won services opportunity in the CRM is the kind of record the CRM pushes to the ledger
(`gateway.push_endpoint`); the demo year replays what then happened to each one, in date
order, through the very functions the GraphQL mutations and the pushes call
(`ledger.documents.sales_orders`): the order is created from the opportunity and fulfilled
and invoiced on the CRM's order date, then paid on the day the customer paid, in two
instalments when it is large (half midway, the rest on the day). Every change writes its
outbox message for the CRM in its own transaction, so the first `ledgergate demo` delivers
the year's history to the CRM, and the CRM's own REST endpoint shows what the ledger shows.

The CRM's `SalesOrder` record of such a deal is not posted directly (`software`): its
invoice and payment are the order's, linked to the opportunity.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.documents import sales_orders as orders
from ledger.documents.sales_order import OrderLineDraft
from sources.demo.records import DEMO_YEAR, Opportunity, SalesOrder

from .book import Book
from .chart import CLASS, DEPARTMENT, ITEM, PROJECT, SALES_ACCOUNTS, SALES_DEPARTMENTS
from .links import source_ref

# The systems told of every change: the demo's sources.toml delivers `salesOrder` to crm.
NOTIFY = ("crm",)
CLIENT = "demo"
# Orders of at least this many minor units are paid in two instalments.
INSTALMENTS_FROM = 50_000_00
# What each change adds to the ledger, for the build's summary: the invoice has the
# receivable and one revenue line, a payment cash and receivable; each line links to the
# opportunity, and so does the entry.
POSTED_LINES, POSTED_LINKS = 2, 3


def flows_through_an_order(order: SalesOrder) -> bool:
    """Whether the CRM's invoiced order `order` is a won deal the ledger runs as a sales
    order (rather than posting the CRM's invoice directly)."""
    return order.kind == "services" and order.opportunity_id is not None


class DemoOrders:
    """One company's sales orders of the demo year: `plan` queues each deal's changes in
    its book, where they run in date order among the entries, each in its own transaction."""

    def __init__(self, book: Book, opportunities: dict[str, Opportunity], segments: dict[str, str]):
        self.book = book
        self.opportunities = opportunities
        self.segments = segments  # customer id → CLASS code
        self.numbers: dict[str, str] = {}  # opportunity id → the ledger's order number

    async def open_book(self, session: AsyncSession) -> None:
        await orders.set_book(session, journal="SALES", receivable="1100",
                              revenue=SALES_ACCOUNTS["services"], cash="1000")

    def plan(self, order: SalesOrder) -> None:
        opportunity = self.opportunities[order.opportunity_id]
        ref = source_ref(opportunity)
        dimensions = ((DEPARTMENT, SALES_DEPARTMENTS[order.kind]), (CLASS, self.segments[order.customer_id]),
                      (ITEM, order.product_id))
        if order.project_id:
            dimensions += ((PROJECT, order.project_id),)
        draft = orders.OrderDraft(
            customer=order.customer_id, currency=order.currency, source=ref,
            lines=(OrderLineDraft(order.product_id, order.quantity, order.unit_price, opportunity.name,
                                  tuple(sorted(dimensions))),),
        )
        deal = opportunity.id

        async def create(s):
            change = await orders.create_order(s, draft, f"demo:{deal}:create", client=CLIENT, notify=NOTIFY)
            self.numbers[deal] = change.number
            return change

        def step(name, change):
            async def run(s):
                return await change(s, self.numbers[deal], f"demo:{deal}:{name}")
            return run

        def fulfil(s, number, key):
            return orders.fulfil(s, number, key, client=CLIENT, notify=NOTIFY)

        def invoice(s, number, key):
            return orders.invoice(s, number, order.order_date, key, client=CLIENT, notify=NOTIFY)

        self._add(order.order_date, create)
        self._add(order.order_date, step("fulfil", fulfil))
        self._add(order.order_date, step("invoice", invoice), posts=True)
        if order.paid_on is None:
            return
        amount = self.book.money(order.amount_minor)
        parts = [(order.paid_on, amount)]
        if order.amount_minor >= INSTALMENTS_FROM:
            first = self.book.money(order.amount_minor // 2)
            midway = order.order_date + dt.timedelta(days=(order.paid_on - order.order_date).days // 2)
            parts = [(midway, first), (order.paid_on, amount - first)]
        for n, (day, part) in enumerate(parts, start=1):
            self._add(day, step(f"payment{n}", self._payment(day, part, order.currency)), posts=True)

    @staticmethod
    def _payment(day: dt.date, amount: Decimal, currency: str):
        def pay(s, number, key):
            return orders.record_payment(s, number, amount, currency, day, key, client=CLIENT, notify=NOTIFY)
        return pay

    def _add(self, day: dt.date, run, *, posts: bool = False) -> None:
        if day.year != DEMO_YEAR:  # the generator leaves what is paid later unpaid
            raise ValueError(f"a demo sales order step on {day}, outside {DEMO_YEAR}")
        self.book.add_step(day, run, *((POSTED_LINES, POSTED_LINKS) if posts else ()))
