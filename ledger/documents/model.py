"""The tables of business documents (the outbox that tells other systems about them is
`ledger.outbox`).

A document is mutable (its state moves on), unlike posted history; every change of it is
made in one transaction with its postings, its audit row and its outbox messages
(`ledger.documents.sales_orders`). Amounts are integer minor units of the order's
currency; quantities and unit prices are integers at fixed scales
(`sales_order.QUANTITY_PLACES`, `sales_order.PRICE_PLACES`).
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..model import Base, EntityScoped, Id


class SalesOrderBook(EntityScoped, Base):
    """Where a company's sales orders post: the journal and the three accounts an invoice
    (receivable against revenue) and a payment (cash against receivable) use."""

    __tablename__ = "sales_order_books"
    __table_args__ = (UniqueConstraint("entity_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    journal_id: Mapped[int] = mapped_column(Id, ForeignKey("journals.id"))
    receivable_account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id"))
    revenue_account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id"))
    cash_account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id"))


class SalesOrder(EntityScoped, Base):
    """A sales order.

    Attributes:
        number: `SO-000001`, gapless per company.
        state: a `sales_order.OrderState` value.
        version: 1 when created, one more with every change; outbox messages carry it so a
            receiver can ignore a change older than one it applied.
        total / invoiced / paid: minor units of `currency`; amount due = invoiced − paid.
        source_*: the record it came from (the CRM opportunity); a record makes one order.
        created_at / updated_at: ISO-8601 UTC with microseconds, as `JournalEntry.posted_at`.
        paid_on: the date of the payment that left nothing due.
    """

    __tablename__ = "sales_orders"
    __table_args__ = (
        UniqueConstraint("entity_id", "number"),
        UniqueConstraint("entity_id", "source_system", "source_record_type", "source_record_id",
                         name="uq_sales_orders_source"),
        Index("ix_sales_orders_entity_state", "entity_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("dimension_values.id"))
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(BigInteger)
    invoiced: Mapped[int] = mapped_column(BigInteger, default=0)
    paid: Mapped[int] = mapped_column(BigInteger, default=0)
    source_system: Mapped[str | None] = mapped_column(String(64))
    source_record_type: Mapped[str | None] = mapped_column(String(64))
    source_record_id: Mapped[str | None] = mapped_column(String(128))
    source_url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[str] = mapped_column(String(32))
    paid_on: Mapped[str | None] = mapped_column(String(10))


class SalesOrderLine(EntityScoped, Base):
    __tablename__ = "sales_order_lines"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(Id, ForeignKey("sales_orders.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(BigInteger)  # at sales_order.QUANTITY_PLACES
    unit_price: Mapped[int] = mapped_column(BigInteger)  # at sales_order.PRICE_PLACES
    amount: Mapped[int] = mapped_column(BigInteger)
    # [[kind, code], ...] as the posting's revenue line carries them.
    dimensions: Mapped[list] = mapped_column(JSON, default=list)


class SalesOrderEntry(EntityScoped, Base):
    """A journal entry a sales order posted: its invoice or one of its payments."""

    __tablename__ = "sales_order_entries"
    __table_args__ = (Index("ix_sales_order_entries_order", "entity_id", "order_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(Id, ForeignKey("sales_orders.id"))
    entry_id: Mapped[int] = mapped_column(Id, ForeignKey("journal_entries.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # INVOICE or PAYMENT
    amount: Mapped[int] = mapped_column(BigInteger)


class DocumentRequest(EntityScoped, Base):
    """A document write's idempotency key, the fingerprint of its request and what it
    did: the order and the version the change left it at."""

    __tablename__ = "document_requests"
    __table_args__ = (
        UniqueConstraint("entity_id", "client_id", "key", name="uq_document_requests_client_key"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), default="")
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(Id, ForeignKey("sales_orders.id"))
    version: Mapped[int] = mapped_column(Integer)


class SalesOrderNote(EntityScoped, Base):
    """A note on an order, shared with the order's system both ways.

    Attributes:
        origin: where it was written: `ledgergate`, or the system that pushed it.
        external_id: the note's id in `origin` (a pushed note), so a redelivered push adds
            nothing.
        created_at: ISO-8601 UTC text.
    """

    __tablename__ = "sales_order_notes"
    __table_args__ = (
        UniqueConstraint("order_id", "origin", "external_id", name="uq_sales_order_notes_external"),
        Index("ix_sales_order_notes_order", "entity_id", "order_id", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    order_id: Mapped[int] = mapped_column(Id, ForeignKey("sales_orders.id"))
    author: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[str] = mapped_column(String(32))
