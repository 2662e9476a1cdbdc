"""posted history is immutable in the database itself

The ORM already refuses to change posted rows (ledger.tenancy); these triggers refuse it
for any other client of the database too, so altering history takes a deliberate act
(dropping or disabling a trigger) — which the hash chain then still exposes.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

HISTORY = ("journal_entries", "journal_lines", "source_links", "idempotency_keys")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ledgergate_refuse_history_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'ledgergate: % rows are posted history; % is refused',
                TG_TABLE_NAME, TG_OP;
            END $$
            """
        )
        for table in HISTORY:
            op.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledgergate_refuse_history_change()"
            )
        return
    for table in HISTORY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'ledgergate: {table} rows are posted history; "
                f"{action} is refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in HISTORY:
            op.execute(f"DROP TRIGGER {table}_immutable ON {table}")
        op.execute("DROP FUNCTION ledgergate_refuse_history_change()")
        return
    for table in HISTORY:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{action}")
