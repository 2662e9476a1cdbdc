"""sales orders and the outbox

- `sales_order_books`: per company, the journal and accounts its sales orders post to;
- `sales_orders`, `sales_order_lines`: the documents, their state and version;
- `sales_order_entries`: the invoice and payment entries each order posted;
- `sales_order_notes`: notes on orders, written here or pushed by the order's system;
- `document_requests`: idempotency keys of document writes;
- `outbox_messages`: what other systems must hear, written with the change it reports;
- `inbound_events`: what each signed push from a source system did, by its event id.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _entity() -> sa.Column:
    return sa.Column("entity_id", Id, sa.ForeignKey("entities.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "sales_order_books",
        sa.Column("id", Id, primary_key=True),
        _entity(),
        sa.Column("journal_id", Id, sa.ForeignKey("journals.id"), nullable=False),
        sa.Column("receivable_account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("revenue_account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("cash_account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
        sa.UniqueConstraint("entity_id"),
    )
    op.create_table(
        "sales_orders",
        sa.Column("id", Id, primary_key=True),
        _entity(),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("customer_id", Id, sa.ForeignKey("dimension_values.id"), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("invoiced", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("source_system", sa.String(64), nullable=True),
        sa.Column("source_record_type", sa.String(64), nullable=True),
        sa.Column("source_record_id", sa.String(128), nullable=True),
        sa.Column("source_url", sa.String(1000), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("paid_on", sa.String(10), nullable=True),
        sa.UniqueConstraint("entity_id", "number"),
        sa.UniqueConstraint("entity_id", "source_system", "source_record_type", "source_record_id",
                            name="uq_sales_orders_source"),
    )
    op.create_index("ix_sales_orders_entity_state", "sales_orders", ["entity_id", "state", "id"])
    op.create_table(
        "sales_order_lines",
        sa.Column("id", Id, primary_key=True),
        _entity(),
        sa.Column("order_id", Id, sa.ForeignKey("sales_orders.id"), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("dimensions", sa.JSON(), nullable=False),
        sa.UniqueConstraint("order_id", "line_no"),
    )
    op.create_table(
        "sales_order_entries",
        sa.Column("id", Id, primary_key=True),
        _entity(),
        sa.Column("order_id", Id, sa.ForeignKey("sales_orders.id"), nullable=False),
        sa.Column("entry_id", Id, sa.ForeignKey("journal_entries.id"), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_sales_order_entries_order", "sales_order_entries", ["entity_id", "order_id"])
    op.create_table(
        "sales_order_notes",
        sa.Column("id", Id, primary_key=True),
        _entity(),
        sa.Column("order_id", Id, sa.ForeignKey("sales_orders.id"), nullable=False),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("order_id", "origin", "external_id", name="uq_sales_order_notes_external"),
    )
    op.create_index("ix_sales_order_notes_order", "sales_order_notes", ["entity_id", "order_id", "id"])
    op.create_table(
        "document_requests",
        sa.Column("id", Id, primary_key=True),
        _entity(),
        sa.Column("client_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("order_id", Id, sa.ForeignKey("sales_orders.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("entity_id", "client_id", "key", name="uq_document_requests_client_key"),
    )
    op.create_table(
        "outbox_messages",
        sa.Column("id", Id, primary_key=True),
        _entity(),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("record_key", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False, unique=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.String(32), nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", sa.String(32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("delivered_at", sa.String(32), nullable=True),
    )
    op.create_index("ix_outbox_messages_due", "outbox_messages", ["state", "next_attempt_at"])
    # What a claim walks, in id order: the pending messages only (not every delivered one).
    op.create_index("ix_outbox_messages_pending", "outbox_messages", ["id"],
                    postgresql_where=sa.text("state = 'PENDING'"), sqlite_where=sa.text("state = 'PENDING'"))
    op.create_index("ix_outbox_messages_record", "outbox_messages",
                    ["entity_id", "system", "topic", "record_key", "version"])


    op.create_table(
        "inbound_events",
        sa.Column("id", Id, primary_key=True),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("entity_id", Id, sa.ForeignKey("entities.id"), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("signed_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("system", "event_id"),
    )


def downgrade() -> None:
    for table in ("inbound_events", "outbox_messages", "document_requests", "sales_order_entries",
                  "sales_order_notes", "sales_order_lines", "sales_orders", "sales_order_books"):
        op.drop_table(table)
