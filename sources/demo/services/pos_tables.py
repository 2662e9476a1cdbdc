"""The point of sale's tables: the item catalogue, receipts and receipt lines.

Plain columns a SQL connector can map one to one: dates and times as ISO 8601 text, money
twice — integer minor units (``total_minor``, for exact SQL arithmetic) and the exact amount
in currency units as text (``total``, ``"123.45"``; text because SQLite's NUMERIC would keep
a float). Lines are keyed by (receipt_id, line_no), so a receipt's lines are one index range.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class PosBase(DeclarativeBase):
    pass


class ItemRow(PosBase):
    __tablename__ = "items"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    company: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(16))
    tax_rate: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))


class ReceiptRow(PosBase):
    __tablename__ = "receipts"
    __table_args__ = (Index("ix_receipts_location_date", "location_id", "business_date"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    company: Mapped[str] = mapped_column(String(16))
    location_id: Mapped[str] = mapped_column(String(16))
    outlet: Mapped[str] = mapped_column(String(16))
    business_date: Mapped[str] = mapped_column(String(10))
    closed_at: Mapped[str] = mapped_column(String(19))
    payment_method: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str | None] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    line_count: Mapped[int]
    room_nights: Mapped[int]
    net_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[str] = mapped_column(String(24))
    tax: Mapped[str] = mapped_column(String(24))
    total: Mapped[str] = mapped_column(String(24))


class ReceiptLineRow(PosBase):
    __tablename__ = "receipt_lines"
    __table_args__ = (Index("ix_receipt_lines_item", "item_id"),)

    receipt_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    line_no: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    tax_rate: Mapped[str] = mapped_column(String(16))
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    net_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    unit_price: Mapped[str] = mapped_column(String(24))
    net: Mapped[str] = mapped_column(String(24))
    tax: Mapped[str] = mapped_column(String(24))
    total: Mapped[str] = mapped_column(String(24))
