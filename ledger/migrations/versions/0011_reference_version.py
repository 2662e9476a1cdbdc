"""entities.reference_version: renewed by the database whenever posting's reference data changes

A posting reads its accounts, journals, dimension values and periods from a cache
(`ledger.reference_cache`) that is valid only while these tables are unchanged for its
entity. Triggers, not application code, give `entities.reference_version` a new value in the
same transaction as every INSERT, UPDATE or DELETE of those rows, so a change made by any
process, or by hand in SQL, invalidates every process's cache. The value is a token, not a
count: drawn from a sequence (PostgreSQL) or at random (SQLite, 64 bits), so a transaction
that rolls back never leaves a value that a later change could take again.

Also `idempotency_keys.key` widens to 220 characters: the entries of a batch posted under
one key are stored under that key with ` #index ` added (`ledger.posting.batch_postings`).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

REFERENCE_TABLES = ("accounts", "journals", "dimension_values", "periods")
ACTIONS = {"INSERT": ("NEW",), "UPDATE": ("OLD", "NEW"), "DELETE": ("OLD",)}


def upgrade() -> None:
    op.add_column(
        "entities",
        sa.Column("reference_version", sa.BigInteger(), nullable=False, server_default="0"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # SQLite does not enforce a VARCHAR's length: only PostgreSQL needs the change.
        op.alter_column("idempotency_keys", "key", type_=sa.String(220),
                        existing_type=sa.String(200), existing_nullable=False)
        op.execute(
            """
            CREATE SEQUENCE ledgergate_reference_versions
            """
        )
        op.execute(
            """
            CREATE FUNCTION ledgergate_bump_reference_version() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP <> 'INSERT' THEN
                UPDATE entities SET reference_version = nextval('ledgergate_reference_versions')
                 WHERE id = OLD.entity_id;
              END IF;
              IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.entity_id <> OLD.entity_id) THEN
                UPDATE entities SET reference_version = nextval('ledgergate_reference_versions')
                 WHERE id = NEW.entity_id;
              END IF;
              RETURN NULL;
            END $$
            """
        )
        for table in REFERENCE_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_reference_version AFTER INSERT OR UPDATE OR DELETE "
                f"ON {table} FOR EACH ROW EXECUTE FUNCTION ledgergate_bump_reference_version()"
            )
        return
    for table in REFERENCE_TABLES:
        for action, rows in ACTIONS.items():
            bumps = " ".join(
                "UPDATE entities SET reference_version = random() "
                f"WHERE id = {row}.entity_id;"
                for row in rows
            )
            op.execute(
                f"CREATE TRIGGER {table}_reference_version_{action.lower()} AFTER {action} "
                f"ON {table} BEGIN {bumps} END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in REFERENCE_TABLES:
            op.execute(f"DROP TRIGGER {table}_reference_version ON {table}")
        op.execute("DROP FUNCTION ledgergate_bump_reference_version()")
        op.execute("DROP SEQUENCE ledgergate_reference_versions")
        op.alter_column("idempotency_keys", "key", type_=sa.String(200),
                        existing_type=sa.String(220), existing_nullable=False)
    else:
        for table in REFERENCE_TABLES:
            for action in ACTIONS:
                op.execute(f"DROP TRIGGER {table}_reference_version_{action.lower()}")
    op.drop_column("entities", "reference_version")
