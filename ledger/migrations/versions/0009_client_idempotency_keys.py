"""idempotency keys belong to the integration client that sent them

Until now one company's clients shared one key space, so a second client replaying the
first one's key received the first one's entry. A key is now unique per (entity, client,
key); keys stored before this revision, and keys of writes no client sent (the demo's
loads), belong to the client "".

On SQLite the unique constraint can only change by rebuilding the table, which drops its
triggers: the posted-history triggers of 0002 are dropped first and created again after.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLE = "idempotency_keys"
NEW = "uq_idempotency_keys_client_key"
# 0001 left the old constraint unnamed; this names it for SQLite's table rebuild.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}
OLD_SQLITE = "uq_idempotency_keys_entity_id_key"


def _sqlite_triggers(action: str) -> None:
    for verb in ("update", "delete"):
        if action == "drop":
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{verb}")
        else:
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{verb} BEFORE {verb.upper()} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, 'ledgergate: {TABLE} rows are posted history; "
                f"{verb.upper()} is refused'); END"
            )


def _postgres_unique_name(columns: list[str]) -> str:
    inspector = sa.inspect(op.get_bind())
    for constraint in inspector.get_unique_constraints(TABLE):
        if constraint["column_names"] == columns:
            return constraint["name"]
    raise RuntimeError(f"{TABLE} has no unique constraint on {columns}")


def upgrade() -> None:
    column = sa.Column("client_id", sa.String(length=64), nullable=False, server_default="")
    if op.get_bind().dialect.name == "postgresql":
        op.add_column(TABLE, column)
        op.drop_constraint(_postgres_unique_name(["entity_id", "key"]), TABLE, type_="unique")
        op.create_unique_constraint(NEW, TABLE, ["entity_id", "client_id", "key"])
        return
    _sqlite_triggers("drop")
    with op.batch_alter_table(TABLE, naming_convention=NAMING, recreate="always") as batch:
        batch.add_column(column)
        batch.drop_constraint(OLD_SQLITE, type_="unique")
        batch.create_unique_constraint(NEW, ["entity_id", "client_id", "key"])
    _sqlite_triggers("create")


def downgrade() -> None:
    # Going back merges the clients' key spaces; two clients' equal keys would collide.
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(NEW, TABLE, type_="unique")
        op.create_unique_constraint(None, TABLE, ["entity_id", "key"])
        op.drop_column(TABLE, "client_id")
        return
    _sqlite_triggers("drop")
    with op.batch_alter_table(TABLE, naming_convention=NAMING, recreate="always") as batch:
        batch.drop_constraint(NEW, type_="unique")
        batch.create_unique_constraint(OLD_SQLITE, ["entity_id", "key"])
        batch.drop_column("client_id")
    _sqlite_triggers("create")
