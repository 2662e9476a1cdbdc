"""The CRM's monthly sales orders (subscriptions, usage, won services) and their collection."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from ..records import DemoMaster, SalesOrder, UsageRecord
from .companies import SOFTCO
from .crm import SERVICES_PRODUCT, USAGE_PRICE, USAGE_PRODUCT
from .draws import seeded
from .numbering import Numbering
from .rounding import half_up
from .year import in_year, month_end, month_start


def sales_orders(
    master: DemoMaster, month: int, usage: Sequence[UsageRecord], numbering: Numbering
) -> tuple[SalesOrder, ...]:
    products = {p.id: p for p in master.products}
    start, end = month_start(month), month_end(month)
    gb_by_customer: dict[str, Decimal] = {}
    for record in usage:
        gb_by_customer[record.customer_id] = (
            gb_by_customer.get(record.customer_id, Decimal(0)) + record.gb_used
        )
    orders = []  # (date, rank, customer_id, fields)
    customers = {c.id: c for c in master.customers}
    for c in master.customers:
        if c.company != SOFTCO.code or c.since > end:
            continue
        first = max(start, c.since)
        price = products[c.plan_id].unit_price
        seats = Decimal(c.seats)
        orders.append(
            (
                first,
                0,
                c.id,
                dict(
                    kind="subscription",
                    product_id=c.plan_id,
                    quantity=seats,
                    unit_price=price,
                    amount_minor=half_up(seats * price * 100),
                    period_start=first,
                    period_end=end,
                ),
            )
        )
        if c.id in gb_by_customer:
            gb = gb_by_customer[c.id]
            orders.append(
                (
                    end,
                    1,
                    c.id,
                    dict(
                        kind="usage",
                        product_id=USAGE_PRODUCT,
                        quantity=gb,
                        unit_price=USAGE_PRICE,
                        amount_minor=max(1, half_up(gb * USAGE_PRICE * 100)),
                        period_start=first,
                        period_end=end,
                    ),
                )
            )
    for opp in master.opportunities:
        if opp.kind == "services" and opp.stage == "won" and start <= opp.close_date <= end:
            orders.append(
                (
                    opp.close_date,
                    2,
                    opp.customer_id,
                    dict(
                        kind="services",
                        product_id=SERVICES_PRODUCT,
                        quantity=Decimal(1),
                        unit_price=Decimal(opp.amount_minor).scaleb(-2),
                        amount_minor=opp.amount_minor,
                        period_start=opp.close_date,
                        period_end=opp.close_date,
                        opportunity_id=opp.id,
                        project_id=opp.project_id,
                    ),
                )
            )
    orders.sort(key=lambda o: (o[0], o[1], o[2]))
    found = []
    for day, rank, customer_id, fields in orders:
        customer = customers[customer_id]
        rng = seeded(master.seed, "collection", customer_id, month, rank)
        due = day + dt.timedelta(days=customer.payment_terms_days)
        paid = None
        if rng.randrange(100) >= 3:  # a few invoices are never paid
            paid = in_year(
                day + dt.timedelta(days=customer.payment_terms_days - 12 + rng.randint(0, 24))
            )
        found.append(
            SalesOrder(
                id=numbering.sales_order(),
                company=SOFTCO.code,
                customer_id=customer_id,
                order_date=day,
                currency=SOFTCO.currency,
                due_date=due,
                paid_on=paid,
                **fields,
            )
        )
    return tuple(found)
