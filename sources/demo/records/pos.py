"""The hotel point of sale's records: the item catalogue and receipts with their lines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from .base import POS, SourceRecord


@dataclass(frozen=True)
class PosItem(SourceRecord):
    """An item in the hotel POS catalogue (a room type, food, beverages).

    Attributes:
        id: ``ROOM-DLX``, ``FOOD``…; also the ledger ITEM dimension code.
        company: owning company code.
        name: display name.
        category: ``room``, ``food`` or ``beverage``.
        tax_rate: VAT rate as an exact fraction (``0.07``).
        currency: ISO 4217 code.
    """

    SYSTEM: ClassVar[str] = POS
    RECORD_TYPE: ClassVar[str] = "PosItem"

    id: str
    company: str
    name: str
    category: str
    tax_rate: Decimal
    currency: str


@dataclass(frozen=True)
class ReceiptLine:
    """One line of a POS receipt (kept as detail in the POS; the ledger gets summaries).

    Attributes:
        receipt_id: the receipt this line belongs to.
        line_no: 1-based position on the receipt.
        item_id: `PosItem.id`.
        description: what the guest saw on the receipt.
        quantity: units (nights for rooms); whole numbers.
        unit_price_minor: net price per unit in minor units.
        net_minor: quantity × unit price, net of VAT.
        tax_rate: VAT rate, exact.
        tax_minor: VAT on the line (net × rate, rounded half up).
    """

    receipt_id: str
    line_no: int
    item_id: str
    description: str
    quantity: int
    unit_price_minor: int
    net_minor: int
    tax_rate: Decimal
    tax_minor: int

    @property
    def total_minor(self) -> int:
        return self.net_minor + self.tax_minor


@dataclass(frozen=True)
class Receipt(SourceRecord):
    """A closed POS receipt: a hotel checkout (room folio), a restaurant or a bar bill.

    Attributes:
        id: ``R-HTL1-2026-0001234`` (numbered per hotel through the year).
        company: owning company code.
        location_id: the hotel (`Location.id`).
        outlet: ``FRONT_DESK``, ``RESTAURANT`` or ``BAR``.
        business_date: the POS business day the receipt belongs to.
        closed_at: local time the receipt was closed.
        payment_method: ``card``, ``cash`` or ``account`` (charged to a corporate account).
        customer_id: the corporate account (`Customer.id`) when paid on account.
        lines: the receipt's lines, in order.
        currency: ISO 4217 code.
    """

    SYSTEM: ClassVar[str] = POS
    RECORD_TYPE: ClassVar[str] = "Receipt"

    id: str
    company: str
    location_id: str
    outlet: str
    business_date: dt.date
    closed_at: dt.datetime
    payment_method: str
    customer_id: str | None
    lines: tuple[ReceiptLine, ...]
    currency: str

    @property
    def net_minor(self) -> int:
        return sum(line.net_minor for line in self.lines)

    @property
    def tax_minor(self) -> int:
        return sum(line.tax_minor for line in self.lines)

    @property
    def total_minor(self) -> int:
        return sum(line.total_minor for line in self.lines)

    @property
    def room_nights(self) -> int:
        return sum(line.quantity for line in self.lines if line.item_id.startswith("ROOM-"))
