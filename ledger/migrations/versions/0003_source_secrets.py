"""source system credentials, encrypted at rest

`ledgergate secrets set NAME KEY` stores each value AES-GCM encrypted (gateway.secrets);
the table holds no plaintext and the secrets key is never in the database.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("name", "key"),
    )


def downgrade() -> None:
    op.drop_table("source_secrets")
