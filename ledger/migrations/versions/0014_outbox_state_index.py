"""ix_outbox_messages_state: the messages of a state in id order, for the claim

A claim wants the pending messages in id order, the oldest first, and stops at its limit.
SQLite planned it through ix_outbox_messages_due (state, next_attempt_at) instead, which
gives them in due-time order: it read every pending message, checked each one's earlier
versions, and sorted them all by id for each claim of 100 (25–40 ms with 10,000 pending, most
of a dispatcher's database time). It could not take the partial index of the pending
messages, as a bound `state = ?` does not tell it that the index's condition holds. With
(state, id) the rows come out in id order on either database, bound parameter or not, and a
claim stops after its first hundred claimable; the count by state (`outbox list`, the
backlog in the log) reads this index alone. Every message is due by id order anyway
(next_attempt_at is checked as a filter), so the (state, next_attempt_at) index goes.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_outbox_messages_due", table_name="outbox_messages")
    op.create_index("ix_outbox_messages_state", "outbox_messages", ["state", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_messages_state", table_name="outbox_messages")
    op.create_index("ix_outbox_messages_due", "outbox_messages", ["state", "next_attempt_at"])
