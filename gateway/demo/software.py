"""How SOFTCO's sales orders, metered usage and depreciation become ledger entries: the
CRM's invoices directly, except the won services deals, which run as the ledger's own
sales orders (`sales_orders`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from ledger.drafts import EntryDraft, LineDraft
from sources.demo.generate import USAGE_PRODUCT
from sources.demo.records import MonthRecords, SalesOrder, UsageRecord

from .chart import (
    CLASS,
    CUSTOMER,
    DEPARTMENT,
    ITEM,
    PROJECT,
    SALES_ACCOUNTS,
    SALES_DEPARTMENTS,
    SOFTWARE_CHART,
)
from .company import Company
from .links import source_ref
from .opening import SOFTWARE_OPENING
from .sales_orders import DemoOrders, flows_through_an_order


class Software(Company):
    chart = SOFTWARE_CHART
    payroll_cash = "1000"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.orders = DemoOrders(
            self.book, {o.id: o for o in self.own(self.master.opportunities)},
            {c.id: c.segment for c in self.customers.values()},
        )

    async def set_up_documents(self, session) -> None:
        await self.orders.open_book(session)

    def opening_lines(self) -> list[LineDraft]:
        return self.balanced_opening(
            {a: round(v * self.scale) for a, v in SOFTWARE_OPENING.items()}
        )

    def month(self, records: MonthRecords) -> None:
        for order in self.own(records.sales_orders):
            if flows_through_an_order(order):
                self.orders.plan(order)
            else:
                self.sales_order(order)
        self.usage(records.usage_records)
        super().month(records)

    def sales_order(self, order: SalesOrder) -> None:
        customer = self.customers[order.customer_id]
        ref = self.ref(order)
        amount = self.book.money(order.amount_minor)
        party = ((CUSTOMER, customer.id), (CLASS, customer.segment))
        revenue = [(DEPARTMENT, SALES_DEPARTMENTS[order.kind]), *party, (ITEM, order.product_id)]
        if order.project_id:
            revenue.append((PROJECT, order.project_id))
        self.book.add(
            order.id,
            EntryDraft(
                "SALES",
                order.order_date,
                (
                    LineDraft("1100", debit=amount, dimensions=party, sources=(ref,)),
                    LineDraft(
                        SALES_ACCOUNTS[order.kind],
                        credit=amount,
                        dimensions=tuple(revenue),
                        sources=(ref,),
                        memo=f"{order.quantity} × {order.product_id}",
                    ),
                ),
                f"Invoice {order.id} {customer.name} ({order.kind})",
                ref,
            ),
        )
        if order.paid_on is not None:
            self.book.add(
                f"{order.id}:paid",
                EntryDraft(
                    "AR",
                    order.paid_on,
                    tuple(self.transfer("1000", "1100", order.amount_minor, party, sources=(ref,))),
                    f"Payment received for {order.id} from {customer.name}",
                    ref,
                ),
            )

    def usage(self, records: Iterable[UsageRecord]) -> None:
        by_day: dict[dt.date, list[UsageRecord]] = defaultdict(list)
        for record in self.own(records):
            by_day[record.day].append(record)
        for day, day_records in sorted(by_day.items()):
            lines = tuple(
                LineDraft(
                    "9100",
                    quantity=r.gb_used,
                    dimensions=((CUSTOMER, r.customer_id), (ITEM, USAGE_PRODUCT)),
                    sources=(source_ref(r),),
                )
                for r in day_records
            )
            self.book.add_in_parts(
                f"usage:{self.code}:{day.isoformat()}",
                EntryDraft("STAT", day, lines, f"Storage used on {day.isoformat()}"),
            )

    def depreciation_lines(self) -> list[LineDraft]:
        equipment = round(SOFTWARE_OPENING["1500"] * self.scale) * 10**self.book.scale // 36
        software = round(SOFTWARE_OPENING["1600"] * self.scale) * 10**self.book.scale // 60
        lines = []
        for expense, contra, minor in (("6700", "1510", equipment), ("6700", "1610", software)):
            if minor > 0:
                lines += self.transfer(
                    expense, contra, minor, debit_dimensions=((DEPARTMENT, "FIN"),)
                )
        return lines
