"""integration clients, web-services users, roles and the entities' allow-lists

Two levels of credentials (gateway.auth.identities): an integration client must be on an
entity's allow-list, where it acts as one web-services user of that entity, whose role
grants scopes. Client secrets are stored only as salted scrypt hashes. The allow-list's
user key includes the entity, so a user of another entity cannot be mapped.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "roles",
        sa.Column("id", Id, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "api_clients",
        sa.Column("id", Id, nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("allowed_scopes", sa.Text(), nullable=False),
        sa.Column("disabled_at", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id"),
    )
    op.create_table(
        "ws_users",
        sa.Column("id", Id, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role_id", Id, nullable=False),
        sa.Column("deactivated_at", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("entity_id", Id, nullable=False),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"]),
        sa.ForeignKeyConstraint(["role_id"], ["roles.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entity_id", "username"),
        sa.UniqueConstraint("id", "entity_id"),
    )
    op.create_table(
        "client_entities",
        sa.Column("api_client_id", Id, nullable=False),
        sa.Column("entity_id", Id, nullable=False),
        sa.Column("ws_user_id", Id, nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["api_client_id"], ["api_clients.id"]),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"]),
        sa.ForeignKeyConstraint(["ws_user_id", "entity_id"], ["ws_users.id", "ws_users.entity_id"]),
        sa.PrimaryKeyConstraint("api_client_id", "entity_id"),
    )


def downgrade() -> None:
    op.drop_table("client_entities")
    op.drop_table("ws_users")
    op.drop_table("api_clients")
    op.drop_table("roles")
