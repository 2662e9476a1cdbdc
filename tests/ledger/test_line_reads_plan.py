"""An entity's lines of given entries are found by entry (migration 0012), not by walking
every line of the entity: the plan SQLite makes for `reads.lines_by_entries`; on PostgreSQL,
whose plan depends on its statistics, the index the planner may choose is there, on those
columns."""

import datetime as dt
from decimal import Decimal

from sqlalchemy import text

from ledger import reads
from ledger.drafts import EntryDraft, LineDraft
from ledger.posting import Posting, post_entries


async def test_lines_of_entries_are_found_through_the_entity_entry_index(world):
    if world.db.engine.dialect.name == "postgresql":
        async with world.db.engine.connect() as conn:
            definition = await conn.scalar(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_journal_lines_entity_entry'"))
        assert definition is not None and "(entity_id, entry_id, line_no)" in definition, definition
        return
    lines = (LineDraft("1000", debit=Decimal("5.00")), LineDraft("4000", credit=Decimal("5.00")))
    async with world.db.session(world.acme) as session:
        entry_ids = await post_entries(session, [
            Posting(EntryDraft("GJ", dt.date(2026, 3, 1 + n), lines)) for n in range(3)
        ])
    seen: list[tuple] = []
    world.db.listen("before_cursor_execute", lambda _c, _cur, statement, params, *_: seen.append((statement, params)))
    async with world.db.session(world.acme) as session:
        rows = await reads.lines_by_entries(session, entry_ids)
    assert [(row.entry_id, row.line_no) for row in rows] == [(e, n) for e in sorted(entry_ids) for n in (1, 2)]
    [(statement, params)] = [(s, p) for s, p in seen if "FROM journal_lines" in s]
    async with world.db.engine.connect() as conn:
        plan = [row[-1] for row in (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)).all()]
    assert any("ix_journal_lines_entity_entry" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan  # in the read's order already
