"""The bill-payment system's records: vendors, bills with their lines, and payments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from .base import AP, SourceRecord


@dataclass(frozen=True)
class Vendor(SourceRecord):
    """A supplier in the bill-payment system.

    Attributes:
        id: ``V-0012``; also the ledger VENDOR dimension code.
        company: the buying company.
        name: supplier name.
        category: main spend category (``HOSTING``, ``FNB_SUPPLIES``…).
        location_id: the site it mostly supplies (`Location.id`).
        payment_terms_days: days from bill date to due date.
        cadence: ``monthly`` (one bill a month) or ``adhoc``.
        currency: ISO 4217 code.
    """

    SYSTEM: ClassVar[str] = AP
    RECORD_TYPE: ClassVar[str] = "Vendor"

    id: str
    company: str
    name: str
    category: str
    location_id: str
    payment_terms_days: int
    cadence: str
    currency: str


@dataclass(frozen=True)
class BillLine:
    """One line of a vendor bill (detail; the ledger gets one summary line per account/department).

    Attributes:
        bill_id: `Bill.id`.
        line_no: 1-based position on the bill.
        description: what was bought.
        category: spend category (mapped to an expense account by the ledger side).
        department_id: the department charged.
        location_id: the site charged.
        project_id: the project charged, if any.
        quantity: units bought; exact.
        amount_minor: line amount in minor units (> 0).
    """

    bill_id: str
    line_no: int
    description: str
    category: str
    department_id: str
    location_id: str
    project_id: str | None
    quantity: Decimal
    amount_minor: int


@dataclass(frozen=True)
class Bill(SourceRecord):
    """A vendor bill, possibly with thousands of lines.

    Attributes:
        id: ``BILL-000321``.
        company: the buying company.
        vendor_id: `Vendor.id`.
        vendor_invoice: the vendor's own invoice number.
        bill_date / due_date: dates.
        lines: the bill's lines, in order.
        currency: ISO 4217 code.
    """

    SYSTEM: ClassVar[str] = AP
    RECORD_TYPE: ClassVar[str] = "Bill"

    id: str
    company: str
    vendor_id: str
    vendor_invoice: str
    bill_date: dt.date
    due_date: dt.date
    lines: tuple[BillLine, ...]
    currency: str

    @property
    def total_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)


@dataclass(frozen=True)
class Payment(SourceRecord):
    """A payment of one bill in full.

    Attributes:
        id: ``PAY-000321``.
        company: the paying company.
        bill_id / vendor_id: what was paid, to whom.
        paid_on: value date.
        amount_minor: amount paid in minor units.
        method: ``ach``, ``wire`` or ``sepa``.
        currency: ISO 4217 code.
    """

    SYSTEM: ClassVar[str] = AP
    RECORD_TYPE: ClassVar[str] = "Payment"

    id: str
    company: str
    bill_id: str
    vendor_id: str
    paid_on: dt.date
    amount_minor: int
    method: str
    currency: str
