"""The bulk write path (`ledger.posting_write`: ids drawn ahead, rows in by the driver's
COPY or executemany) writes exactly the rows the statement-by-statement path writes, and
a refused batch still writes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from ledger import posting_write
from ledger.drafts import EntryDraft, LineDraft, SourceRef
from ledger.errors import InvalidEntry
from ledger.posting import post_entries
from ledger.posting_plan import batch_postings
from ledger.verification import verify_chain
from tests.conftest import ACME_ACCOUNTS, BETA_ACCOUNTS, _entity, fresh_database

TABLES = ("journal_entries", "journal_lines", "source_links", "idempotency_keys", "entities")


def _drafts(count: int, run: str) -> list[EntryDraft]:
    """Entries of every shape a line can take: dimensions, line and entry links (with and
    without a URL), a statistical line, a transaction-currency line, memos or none."""
    drafts = []
    for i in range(count):
        amount = Decimal(f"{i + 1}.25")
        drafts.append(EntryDraft(
            journal="SALES" if i % 2 else "GJ", date=dt.date(2026, 3, 1 + i % 28),
            description=None if i % 3 else f"sale {run} {i}",
            source=SourceRef("crm", "Order", f"{run}-{i}", "https://crm/o" if i % 4 else None)
            if i % 2 else None,
            lines=(
                LineDraft("9000", quantity=Decimal(i % 3 + 1), memo="heads"),
                LineDraft("9100", quantity=Decimal("1.5"),
                          sources=(SourceRef("pos", "Count", f"{run}-{i}"),)),
            ) if i % 5 == 0 else (
                LineDraft("1100", debit=amount, memo=f"r {i}", dimensions=(("CUSTOMER", "C1"),),
                          sources=(SourceRef("pos", "Receipt", f"{run}-{i}-a"),
                                   SourceRef("pos", "Receipt", f"{run}-{i}-b", "https://pos/r"))),
                LineDraft("1000", debit=Decimal("10.00"), currency="EUR", rate=Decimal("1.1")),
                LineDraft("4000", credit=amount + Decimal("11.00"),
                          dimensions=(("DEPARTMENT", "SALES"), ("LOCATION", "NYC"))),
            ),
        ))
    return drafts


async def _rows(database, entity_id) -> dict[str, list]:
    async with database.session(entity_id) as session:
        connection = await session.connection()
        return {
            # An entity's row: its chain head (its reference_version is random by design).
            table: [tuple(row) for row in await connection.execute(text(
                f"SELECT {'id, head_seq, head_hash' if table == 'entities' else '*'} "
                f"FROM {table} ORDER BY id"))]
            for table in TABLES
        }


async def _post_everything(tmp_path, monkeypatch, bulk: bool) -> dict[str, list]:
    monkeypatch.setattr(posting_write, "_utc_now", lambda: "2026-03-31T12:00:00.000000Z")
    monkeypatch.setattr(posting_write, "BULK_MIN_LINES", 0 if bulk else 10**9)
    folder = tmp_path / ("bulk" if bulk else "rows")
    folder.mkdir()
    async with fresh_database(folder) as database:
        acme = await _entity(database, "ACME", "Acme Software Inc.", "USD", ACME_ACCOUNTS)
        beta = await _entity(database, "BETA", "Beta Hotels GmbH", "EUR", BETA_ACCOUNTS)
        for n, entity_id in enumerate((acme, beta, acme)):
            drafts = [EntryDraft("GJ", dt.date(2026, 3, 2), (
                LineDraft("1000", debit=Decimal("3")), LineDraft("4000", credit=Decimal("3"))))
            ] if entity_id == beta else _drafts(60, f"b{n}")
            postings = batch_postings(drafts, f"key-{n}", "client")
            async with database.session(entity_id) as session:
                ids = await post_entries(session, postings)
            # Sent again, the batch replays: the same ids, nothing new.
            async with database.session(entity_id) as session:
                assert await post_entries(session, postings) == ids
        for entity_id in (acme, beta):
            async with database.session(entity_id) as session:
                assert (await verify_chain(session, full=True)).ok
        return {**await _rows(database, acme), "beta": await _rows(database, beta)}


async def test_the_bulk_path_writes_the_rows_the_statement_path_writes(tmp_path, monkeypatch):
    by_statements = await _post_everything(tmp_path, monkeypatch, bulk=False)
    in_bulk = await _post_everything(tmp_path, monkeypatch, bulk=True)
    assert len(by_statements["journal_lines"]) == 2 * (12 * 2 + 48 * 3) + 2
    assert len(by_statements["source_links"]) == 2 * (12 + 48 * 2 + 30)
    for table in TABLES:
        assert in_bulk[table] == by_statements[table], table
    assert in_bulk["beta"] == by_statements["beta"]


async def test_a_refused_bulk_batch_lists_every_violation_and_writes_nothing(world, monkeypatch):
    monkeypatch.setattr(posting_write, "BULK_MIN_LINES", 0)
    drafts = _drafts(80, "refused")
    drafts[3] = EntryDraft("GJ", dt.date(2026, 3, 3), (
        LineDraft("7777", debit=Decimal("1")), LineDraft("4000", credit=Decimal("1"))))
    drafts[70] = EntryDraft("GJ", dt.date(2026, 3, 3), (
        LineDraft("1000", debit=Decimal("1")), LineDraft("4000", credit=Decimal("2"))))
    async with world.db.session(world.acme) as session:
        with pytest.raises(InvalidEntry) as refused:
            await post_entries(session, batch_postings(drafts, "k"), path="inputs")
    paths = [v.path for v in refused.value.violations]
    assert paths[0] == "inputs[3].lines[0].account" and paths[-1].startswith("inputs[70].")
    async with world.db.session(world.acme) as session:
        connection = await session.connection()
        for table in TABLES[:-1]:
            assert await connection.scalar(select(func.count()).select_from(text(table))) == 0


async def test_a_bulk_write_that_fails_in_the_database_leaves_nothing(world, monkeypatch):
    """A row the database refuses (here: a second posting with a line id already taken)
    rolls the whole batch back, entries and head included."""
    monkeypatch.setattr(posting_write, "BULK_MIN_LINES", 0)
    async with world.db.session(world.acme) as session:
        await post_entries(session, batch_postings(_drafts(2, "first"), "first"))
    real_draw = posting_write.draw_ids

    async def stale_line_ids(connection, table, count):
        ids = await real_draw(connection, table, count)
        return [1, *ids[1:]] if table.name == "journal_lines" else ids

    monkeypatch.setattr(posting_write, "draw_ids", stale_line_ids)
    before = await _rows(world.db, world.acme)
    with pytest.raises(Exception):  # noqa: B017 - the driver's own integrity error
        async with world.db.session(world.acme) as session:
            await post_entries(session, batch_postings(_drafts(5, "second"), "second"))
    assert await _rows(world.db, world.acme) == before
