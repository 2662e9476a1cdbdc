"""integration clients that authenticate with private_key_jwt, and their used assertion ids

A client may hold a public JWK set (`api_clients.jwks`, JSON text, public keys only) instead
of a secret: it then authenticates at /oauth/token with a JWT it signs (OpenID Connect Core
§9, RFC 7523 §2.2), and its `secret_hash` is a marker no secret matches. Each assertion's
`jti` is kept until the assertion expires (`client_assertion_jtis`), unique per client, so
an assertion cannot be replayed; expired rows are deleted as new ones arrive.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLE = "client_assertion_jtis"


def upgrade() -> None:
    op.add_column("api_clients", sa.Column("jwks", sa.Text(), nullable=True))
    op.create_table(
        TABLE,
        sa.Column("api_client_id", Id, nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["api_client_id"], ["api_clients.id"]),
        sa.PrimaryKeyConstraint("api_client_id", "jti"),
    )
    op.create_index("ix_client_assertion_jtis_expires_at", TABLE, ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_client_assertion_jtis_expires_at", TABLE)
    op.drop_table(TABLE)
    # SQLite drops a column only by rebuilding the table (batch mode).
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_column("jwks")
