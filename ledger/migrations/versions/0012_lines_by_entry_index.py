"""ix_journal_lines_entity_entry: an entity's lines of given entries, found by entry

An entity-confined read of entries' lines (`entity_id = ? AND entry_id IN (…)`, every
`JournalEntry.lines` batch) had no index leading with both columns: SQLite walked the
entity's date index, every line of the entity, to find a page's few hundred lines (at the
demo's scale 1, 16,600 index entries for 475 lines; a ledger of millions of lines pays in
proportion). With `line_no` last, the lines also come out in the read's order.
PostgreSQL found them through the (entry_id, line_no) key already; the index costs it
little, and it keeps the plan independent of the entity's size on both.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_journal_lines_entity_entry", "journal_lines", ["entity_id", "entry_id", "line_no"]
    )


def downgrade() -> None:
    op.drop_index("ix_journal_lines_entity_entry", table_name="journal_lines")
