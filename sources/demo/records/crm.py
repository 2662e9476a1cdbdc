"""The CRM's records: the product catalogue, customers, opportunities and sales orders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from .base import CRM, SourceRecord


@dataclass(frozen=True)
class Product(SourceRecord):
    """A software product in the CRM catalogue (a plan, metered usage, or a service).

    Attributes:
        id: product code, e.g. ``PLAN-TEAM``; also the ledger ITEM dimension code.
        company: owning company code.
        name: display name.
        kind: ``subscription``, ``usage`` or ``services``.
        unit: what one unit is (``seat-month``, ``GB``, ``project``).
        unit_price: list price per unit in currency units (exact; may have more places
            than the currency, e.g. ``0.085`` per GB); None when quoted per order.
        currency: ISO 4217 code.
    """

    SYSTEM: ClassVar[str] = CRM
    RECORD_TYPE: ClassVar[str] = "Product"

    id: str
    company: str
    name: str
    kind: str
    unit: str
    unit_price: Decimal | None
    currency: str


@dataclass(frozen=True)
class Customer(SourceRecord):
    """A customer account in the CRM (software customers and the hotel's corporate accounts).

    Attributes:
        id: ``CUST-0007``; also the ledger CUSTOMER dimension code.
        company: the company the customer buys from.
        name: company name.
        segment: ``SMB``, ``MIDMARKET``, ``ENTERPRISE`` (software) or ``CORPORATE`` (hotel).
        country: ISO 3166 alpha-2 code.
        since: first day as a customer (may be inside the demo year).
        plan_id: subscribed plan (`Product.id`); None for hotel accounts.
        seats: subscribed seats; 0 for hotel accounts.
        metered: whether usage (GB) is tracked and billed monthly.
        payment_terms_days: days until an invoice is due.
    """

    SYSTEM: ClassVar[str] = CRM
    RECORD_TYPE: ClassVar[str] = "Customer"

    id: str
    company: str
    name: str
    segment: str
    country: str
    since: dt.date
    plan_id: str | None
    seats: int
    metered: bool
    payment_terms_days: int


@dataclass(frozen=True)
class Opportunity(SourceRecord):
    """A sales opportunity; won ones become customers or professional-services projects.

    Attributes:
        id: ``OPP-000012``.
        company: selling company.
        customer_id: the (prospective) customer.
        name: short description.
        kind: ``new_business`` or ``services``.
        stage: ``won``, ``lost`` or ``open``.
        amount_minor: expected value in minor units of `currency`.
        currency: ISO 4217 code.
        created_on: when the opportunity was opened.
        close_date: when it was won or lost (expected close date while open).
        project_id: the delivery project of a won services opportunity (PROJECT dimension code).
    """

    SYSTEM: ClassVar[str] = CRM
    RECORD_TYPE: ClassVar[str] = "Opportunity"

    id: str
    company: str
    customer_id: str
    name: str
    kind: str
    stage: str
    amount_minor: int
    currency: str
    created_on: dt.date
    close_date: dt.date
    project_id: str | None


@dataclass(frozen=True)
class SalesOrder(SourceRecord):
    """An invoiced sales order: a month of subscription, a month of metered usage, or a project.

    Attributes:
        id: ``SO-2026-000123``.
        company: selling company.
        customer_id: buyer (`Customer.id`).
        order_date: invoice date.
        kind: ``subscription``, ``usage`` or ``services``.
        product_id: what was sold (`Product.id`).
        quantity: seats, GB (three places) or 1 project; exact.
        unit_price: price per unit in currency units; exact.
        amount_minor: invoiced amount in minor units (quantity × unit price, rounded half up).
        currency: ISO 4217 code.
        period_start / period_end: service period covered.
        due_date: payment due date.
        paid_on: when the customer paid, or None if still open at year end.
        opportunity_id: the won opportunity behind a services order.
        project_id: delivery project of a services order (PROJECT dimension code).
    """

    SYSTEM: ClassVar[str] = CRM
    RECORD_TYPE: ClassVar[str] = "SalesOrder"

    id: str
    company: str
    customer_id: str
    order_date: dt.date
    kind: str
    product_id: str
    quantity: Decimal
    unit_price: Decimal
    amount_minor: int
    currency: str
    period_start: dt.date
    period_end: dt.date
    due_date: dt.date
    paid_on: dt.date | None
    opportunity_id: str | None = None
    project_id: str | None = None

    @property
    def status(self) -> str:
        return "paid" if self.paid_on is not None else "invoiced"
