"""verification checkpoints: verifyLedger walks only the entries after the last verified one

One row per entity: the last entry whose hash chain a verification found intact (its seq and
hash) and when. `ledger.verification` starts there unless asked for a full recheck.

`ix_source_links_entity_entry`: an entity-confined read of an entry's source links
(`entity_id = ? AND entry_id IN (…)`) used the entity's record index and scanned every link
of the entity; verification of 1M lines spent most of its time there.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "verification_checkpoints",
        sa.Column("id", Id, primary_key=True),
        sa.Column("entity_id", Id, sa.ForeignKey("entities.id"), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("verified_at", sa.String(length=32), nullable=False),
        sa.UniqueConstraint("entity_id"),
    )
    op.create_index("ix_source_links_entity_entry", "source_links", ["entity_id", "entry_id"])


def downgrade() -> None:
    op.drop_index("ix_source_links_entity_entry", table_name="source_links")
    op.drop_table("verification_checkpoints")
