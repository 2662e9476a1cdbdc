"""the audit log: append-only, in the database itself, and hash-chained

`ledger.audit` writes one row per token issued or refused, bearer token refused, request
with fields denied for missing scopes, mutation and read of sensitive source fields. As
for posted history (0002), triggers refuse UPDATE and DELETE for every client of the
database, so removing an event takes a deliberate act on the schema; and each entity's
events form a hash chain (`audit_heads` holds each chain's head), so such an act shows
in `ledgergate audit verify`.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLE = "audit_events"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", Id, nullable=False, autoincrement=True),
        sa.Column("entity_id", Id, nullable=True),
        sa.Column("chain", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain", "seq"),
    )
    op.create_table(
        "audit_heads",
        sa.Column("chain", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain"),
    )
    op.create_index("ix_audit_events_entity", TABLE, ["entity_id", "id"])
    op.create_index("ix_audit_events_request", TABLE, ["request_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ledgergate_refuse_audit_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'ledgergate: % rows are the audit log; % is refused',
                TG_TABLE_NAME, TG_OP;
            END $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION ledgergate_refuse_audit_change()"
        )
        # FOR EACH ROW does not fire for TRUNCATE, which would empty the log at once.
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledgergate_refuse_audit_change()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, 'ledgergate: {TABLE} rows are the audit log; "
            f"{action} is refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {TABLE}_no_truncate ON {TABLE}")
        op.execute(f"DROP TRIGGER {TABLE}_append_only ON {TABLE}")
        op.execute("DROP FUNCTION ledgergate_refuse_audit_change()")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER {TABLE}_no_{action}")
    op.drop_table("audit_heads")
    op.drop_index("ix_audit_events_request", TABLE)
    op.drop_index("ix_audit_events_entity", TABLE)
    op.drop_table(TABLE)
