"""The demo ledger, posted source-first from the demo world's records."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import text

from gateway.demo.sales_orders import flows_through_an_order
from gateway.demo.world import build_demo
from ledger.migrate import upgrade
from ledger.model import DIMENSION_COLUMNS, DimensionKind
from ledger.store import LedgerDatabase
from ledger.verification import verify_chain
from sources.demo.generate import generate_world

SEED, SCALE = 7, 0.2


async def _build(path):
    db = LedgerDatabase.from_url(f"sqlite:///{path}")
    await upgrade(db.engine)
    posted = []
    summary = await build_demo(db, seed=SEED, scale=SCALE, progress=posted.append)
    return db, summary, posted


@pytest.fixture(scope="module")
async def demo(tmp_path_factory):
    db, summary, posted = await _build(tmp_path_factory.mktemp("demo") / "demo.db")
    yield db, summary, posted
    await db.dispose()


@pytest.fixture(scope="module")
def records():
    return generate_world(seed=SEED, scale=SCALE)


async def _rows(db, sql, **params):
    async with db.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).all()


async def test_two_entities_with_their_currencies(demo):
    db, summary, _ = demo
    rows = await _rows(db, "SELECT code, base_currency FROM entities ORDER BY id")
    assert rows == [("SOFTCO", "USD"), ("HOTELCO", "EUR")]
    assert [e.code for e in summary.entities] == ["SOFTCO", "HOTELCO"]


async def test_charts_have_thirty_accounts_and_statistical_ones(demo):
    db, _, _ = demo
    rows = await _rows(
        db,
        """
        SELECT e.code, COUNT(*), SUM(a.type = 'STATISTICAL'), COUNT(DISTINCT a.type)
        FROM accounts a JOIN entities e ON e.id = a.entity_id GROUP BY e.code""",
    )
    for code, total, statistical, types in rows:
        assert total >= 30 and statistical >= 1 and types == 6, code
    units = await _rows(
        db,
        """
        SELECT e.code, a.unit, a.quantity_scale
        FROM accounts a JOIN entities e ON e.id = a.entity_id
        WHERE a.type = 'STATISTICAL'""",
    )
    assert ("SOFTCO", "people", 0) in units and ("SOFTCO", "GB", 3) in units
    assert ("HOTELCO", "people", 0) in units and ("HOTELCO", "rooms", 0) in units
    assert (
        await _rows(
            db, "SELECT code FROM accounts WHERE type != 'STATISTICAL' AND unit IS NOT NULL"
        )
        == []
    )


async def test_every_dimension_kind_is_used_on_lines_of_each_entity(demo):
    db, _, _ = demo
    for entity_id, code in await _rows(db, "SELECT id, code FROM entities"):
        for kind, column in DIMENSION_COLUMNS.items():
            [(used,)] = await _rows(
                db,
                f"""
                SELECT COUNT(*) FROM journal_lines l JOIN dimension_values d ON d.id = l.{column}
                WHERE l.entity_id = :e AND d.kind = :kind AND d.entity_id = :e""",
                e=entity_id,
                kind=kind.value,
            )
            assert used > 0, (code, kind)


async def test_party_dimensions_use_the_source_ids(demo, records):
    db, _, _ = demo
    dims = defaultdict(set)
    for kind, code in await _rows(db, "SELECT kind, code FROM dimension_values"):
        dims[kind].add(code)
    assert dims[DimensionKind.CUSTOMER.value] == {c.id for c in records.customers}
    assert dims[DimensionKind.VENDOR.value] == {v.id for v in records.vendors}
    assert dims[DimensionKind.EMPLOYEE.value] == {e.id for e in records.employees}


async def test_2025_is_closed_and_2026_open(demo):
    db, _, _ = demo
    rows = await _rows(
        db,
        "SELECT entity_id, substr(name, 1, 4), closed, COUNT(*) FROM periods "
        "GROUP BY entity_id, substr(name, 1, 4), closed",
    )
    assert sorted((year, bool(closed), n) for _, year, closed, n in rows) == [
        ("2025", True, 12),
        ("2025", True, 12),
        ("2026", False, 12),
        ("2026", False, 12),
    ]


async def test_opening_balances_then_the_year(demo):
    db, _, _ = demo
    dates = await _rows(db, "SELECT DISTINCT date FROM journal_entries WHERE date < '2026-01-01'")
    assert [str(d) for (d,) in dates] == ["2025-12-31"]
    # Balance-sheet accounts start non-zero, and the opening entry comes first in each chain.
    rows = await _rows(
        db,
        """
        SELECT e.entity_id, COUNT(DISTINCT l.account_id) FROM journal_lines l
        JOIN journal_entries e ON e.id = l.entry_id JOIN accounts a ON a.id = l.account_id
        WHERE e.date = '2025-12-31' AND a.type IN ('ASSET', 'LIABILITY', 'EQUITY')
        GROUP BY e.entity_id""",
    )
    assert len(rows) == 2 and all(n >= 10 for _, n in rows)
    firsts = await _rows(db, "SELECT description, date FROM journal_entries WHERE seq = 1")
    assert [(d, str(day)) for d, day in firsts] == [("Opening balances", "2025-12-31")] * 2
    # Numbering follows dates.
    out_of_order = await _rows(
        db,
        """
        SELECT a.number FROM journal_entries a JOIN journal_entries b
          ON b.entity_id = a.entity_id AND b.seq = a.seq + 1 WHERE b.date < a.date""",
    )
    assert out_of_order == []


async def test_every_entry_balances_in_money(demo):
    db, _, _ = demo
    unbalanced = await _rows(
        db,
        """
        SELECT l.entry_id, SUM(l.debit), SUM(l.credit) FROM journal_lines l
        JOIN accounts a ON a.id = l.account_id WHERE a.type != 'STATISTICAL'
        GROUP BY l.entry_id HAVING SUM(l.debit) != SUM(l.credit)""",
    )
    assert unbalanced == []
    [(zero,)] = await _rows(
        db,
        """
        SELECT COUNT(*) FROM journal_lines l JOIN accounts a ON a.id = l.account_id
        WHERE a.type != 'STATISTICAL' AND l.debit + l.credit = 0""",
    )
    assert zero == 0


async def test_no_entry_mixes_statistical_and_financial_lines(demo):
    db, _, _ = demo
    mixed = await _rows(
        db,
        """
        SELECT l.entry_id FROM journal_lines l JOIN accounts a ON a.id = l.account_id
        GROUP BY l.entry_id HAVING COUNT(DISTINCT a.type = 'STATISTICAL') > 1""",
    )
    assert mixed == []
    [(stat_entries,)] = await _rows(
        db,
        """
        SELECT COUNT(DISTINCT l.entry_id)
        FROM journal_lines l JOIN accounts a ON a.id = l.account_id
        WHERE a.type = 'STATISTICAL'""",
    )
    assert stat_entries > 0


async def test_every_source_link_names_a_generated_record(demo, records):
    db, _, _ = demo
    index = records.index()
    links = await _rows(db, "SELECT DISTINCT system, record_type, record_id, url FROM source_links")
    assert {system for system, *_ in links} == {"crm", "pos", "hr", "usage", "ap"}
    missing = [(s, t, i) for s, t, i, _ in links if i not in index.get((s, t), {})]
    assert missing == []
    wrong_url = [(s, t, i, u) for s, t, i, u in links if index[(s, t)][i].url != u]
    assert wrong_url == []
    linked = defaultdict(set)
    for system, record_type, record_id, _ in links:
        linked[(system, record_type)].add(record_id)
    # Every receipt, usage record, sales order, bill and payment drills down from some line;
    # the CRM's invoice of a won services deal does through the opportunity (the ledger's
    # own sales order invoiced it: `test_won_deals_run_as_sales_orders`).
    deals = {o.id: o.opportunity_id for o in records.sales_orders if flows_through_an_order(o)}
    assert deals and set(deals.values()) <= linked[("crm", "Opportunity")]
    for group, key in (
        ("receipts", ("pos", "Receipt")),
        ("usage_records", ("usage", "UsageRecord")),
        ("sales_orders", ("crm", "SalesOrder")),
        ("bills", ("ap", "Bill")),
        ("payments", ("ap", "Payment")),
        ("hires", ("hr", "Hire")),
        ("terminations", ("hr", "Termination")),
    ):
        assert {r.id for r in getattr(records, group)} - deals.keys() == linked[key], group
    [(unlinked_lines,)] = await _rows(
        db,
        """
        SELECT COUNT(*) FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
        JOIN journals j ON j.id = e.journal_id
        WHERE j.code IN ('SALES', 'POS', 'AP', 'PAYROLL') AND l.account_id NOT IN
          (SELECT id FROM accounts WHERE code IN ('1000', '1050', '2300'))
        AND NOT EXISTS (SELECT 1 FROM source_links s WHERE s.line_id = l.id)""",
    )
    assert unlinked_lines == 0


async def test_statistics_agree_with_their_sources(demo, records):
    db, _, _ = demo

    async def quantity(entity, account):
        [(total,)] = await _rows(
            db,
            """
            SELECT SUM(l.quantity) FROM journal_lines l JOIN accounts a ON a.id = l.account_id
            JOIN entities e ON e.id = l.entity_id WHERE e.code = :entity AND a.code = :account
            AND l.date >= '2026-01-01'""",
            entity=entity,
            account=account,
        )
        return total

    gb = sum(u.gb_used for u in records.usage_records)
    assert Decimal(await quantity("SOFTCO", "9100")).scaleb(-3) == gb
    assert await quantity("HOTELCO", "9100") == sum(r.room_nights for r in records.receipts)
    # Headcount is a STOCK account: a level per person (1 employed, 0 gone); the trial
    # balance reads the company's headcount on a date, not the year's changes.
    from ledger import reports

    for code, entity_id in await _rows(db, "SELECT code, id FROM entities"):
        for day in (dt.date(2026, 6, 30), dt.date(2026, 12, 31)):
            async with db.session(entity_id) as session:
                rows = await reports.trial_balance(session, dt.date(2026, 1, 1), day, (), "STATISTICAL")
            [level] = [r.quantity for r in rows if r.stock]
            employed = sum(1 for e in records.employees if e.company == code and e.employed_on(day))
            assert level == employed > 2, (code, day)


async def test_summary_and_progress_match_the_database(demo):
    db, summary, posted = demo
    [(entries, lines)] = await _rows(
        db, "SELECT (SELECT COUNT(*) FROM journal_entries), (SELECT COUNT(*) FROM journal_lines)"
    )
    [(links,)] = await _rows(db, "SELECT COUNT(*) FROM source_links")
    assert (summary.entries, summary.lines, summary.source_links) == (entries, lines, links)
    assert sum(posted) == lines and all(n > 0 for n in posted)
    assert summary.accounts == (await _rows(db, "SELECT COUNT(*) FROM accounts"))[0][0]
    keys = await _rows(db, "SELECT COUNT(*), SUM(key LIKE 'demo:%') FROM idempotency_keys")
    # A sales order's entries are keyed by the order's own requests (document_requests).
    [(by_orders,)] = await _rows(db, "SELECT COUNT(*) FROM sales_order_entries")
    assert by_orders > 0 and keys == [(entries - by_orders, entries - by_orders)]
    assert "2 entities" in str(summary)


async def test_each_chain_verifies(demo):
    db, summary, _ = demo
    for entity in summary.entities:
        async with db.session(entity.entity_id) as s:
            result = await verify_chain(s)
        assert result.ok, (entity.code, result)
        assert result.entries_checked == entity.entries


async def _content(db):
    entries = await _rows(
        db,
        """
        SELECT n.code, e.id, e.number, e.date, e.description, j.code FROM journal_entries e
        JOIN entities n ON n.id = e.entity_id JOIN journals j ON j.id = e.journal_id
        ORDER BY n.code, e.seq""",
    )
    lines = defaultdict(list)
    for entry_id, *line in await _rows(
        db,
        """
            SELECT l.entry_id, l.line_no, a.code, l.debit, l.credit, l.quantity, l.memo,
                   l.department_id IS NOT NULL, l.customer_id IS NOT NULL
            FROM journal_lines l JOIN accounts a ON a.id = l.account_id
            ORDER BY l.entry_id, l.line_no""",
    ):
        lines[entry_id].append(tuple(line))
    links = defaultdict(list)
    for entry_id, *link in await _rows(
        db,
        """
            SELECT s.entry_id, l.line_no, s.position, s.system, s.record_type, s.record_id
            FROM source_links s LEFT JOIN journal_lines l ON l.id = s.line_id
            ORDER BY s.entry_id, l.line_no, s.position""",
    ):
        links[entry_id].append(tuple(link))
    return [
        (code, number, str(day), description, journal, lines[i], links[i])
        for code, i, number, day, description, journal in entries
    ]


async def test_the_same_seed_builds_the_same_ledger(demo, tmp_path):
    db, summary, _ = demo
    again, again_summary, _ = await _build(tmp_path / "again.db")
    try:
        assert again_summary == summary
        assert await _content(again) == await _content(db)
    finally:
        await again.dispose()


async def test_entries_longer_than_the_demo_allows_are_split_and_still_balance(tmp_path, monkeypatch, records):
    from gateway.demo import book

    monkeypatch.setattr(book, "ENTRY_LINES", 3)
    db, _, _ = await _build(tmp_path / "split.db")
    rows = await _rows(
        db,
        """SELECT e.id, count(*), sum(l.quantity) FROM journal_entries e
        JOIN journal_lines l ON l.entry_id = e.id JOIN journals j ON j.id = e.journal_id
        JOIN accounts a ON a.id = l.account_id
        WHERE a.code = '9100' AND j.code = 'STAT' AND e.description LIKE 'Storage used%'
        GROUP BY e.id""",
    )
    unbalanced = await _rows(
        db,
        """SELECT e.id FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
        GROUP BY e.id HAVING sum(l.debit) <> sum(l.credit)""",
    )
    city_ledger = await _rows(
        db,
        """SELECT count(*) FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
        WHERE e.description LIKE 'City-ledger%' GROUP BY e.id""",
    )
    await db.dispose()
    # Transfers are cut only between pairs: at most 2 of the 3 lines allowed.
    assert unbalanced == [] and city_ledger and max(n for (n,) in city_ledger) == 2
    assert rows and max(count for _, count, _ in rows) == 3
    assert Decimal(sum(q for _, _, q in rows)).scaleb(-3) == sum(u.gb_used for u in records.usage_records)


async def test_the_demo_balance_sheets_balance_with_the_years_result_in_equity(demo):
    from ledger import statements

    db, _, _ = demo
    for code, entity_id in await _rows(db, "SELECT code, id FROM entities"):
        async with db.session(entity_id) as session:
            sheet = await statements.balance_sheet(session, dt.date(2026, 12, 31), ["PRIOR_PERIOD"])
            income = await statements.income_statement(session, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
        totals = {r.code: r.amounts for r in sheet.rows if r.kind in ("TOTAL", "RESULT")}
        assert totals["ASSET"] == totals["LIABILITY_AND_EQUITY"] and any(totals["ASSET"]), code
        [result] = [r.amounts for r in sheet.rows if r.kind == "RESULT"]
        [net] = [r.amounts for r in income.rows if r.code == "NET_RESULT"]
        assert result[0] == net[0] != 0, code  # nothing closed yet: the year's result is equity's


async def test_won_deals_run_as_sales_orders(demo, records):
    """Each won services deal is a ledger sales order made from its opportunity: invoiced on
    the CRM's order date, paid as the customer paid (large ones in two instalments), every
    step an outbox message for the CRM, and the order's entries linked to the opportunity."""
    db, _, _ = demo
    deals = {o.opportunity_id: o for o in records.sales_orders if flows_through_an_order(o)}
    assert len(deals) >= 2
    orders = await _rows(db, """
        SELECT o.id, o.source_record_id, o.state, o.version, o.total, o.invoiced, o.paid, o.paid_on
        FROM sales_orders o JOIN entities e ON e.id = o.entity_id WHERE e.code = 'SOFTCO'
          AND o.source_system = 'crm' AND o.source_record_type = 'Opportunity'""")
    assert {deal for _, deal, *_ in orders} == deals.keys() and len(orders) == len(deals)
    for order_id, deal, state, version, total, invoiced, paid, paid_on in orders:
        made = deals[deal]
        instalments = 0 if made.paid_on is None else 2 if made.amount_minor >= 50_000_00 else 1
        assert (state, total, invoiced, paid, paid_on) == (
            "INVOICED" if made.paid_on is None else "PAID", made.amount_minor, made.amount_minor,
            made.amount_minor if made.paid_on else 0, made.paid_on and made.paid_on.isoformat())
        assert version == 3 + instalments  # created, fulfilled, invoiced, each payment
        entries = await _rows(db, """
            SELECT s.kind, e.date, e.description, j.code,
                   (SELECT COUNT(*) FROM source_links l WHERE l.entry_id = e.id AND l.record_id = :deal)
            FROM sales_order_entries s JOIN journal_entries e ON e.id = s.entry_id
            JOIN journals j ON j.id = e.journal_id WHERE s.order_id = :order ORDER BY e.seq""",
            order=order_id, deal=deal)
        assert [(k, str(d)) for k, d, *_ in entries][:1] == [("INVOICE", str(made.order_date))]
        assert [k for k, *_ in entries] == ["INVOICE"] + ["PAYMENT"] * instalments
        assert all(j == "SALES" and links == 3 for *_, j, links in entries)  # 2 lines + the entry
        if instalments:
            assert str(entries[-1][1]) == str(made.paid_on)
        messages = await _rows(db, """
            SELECT system, version, state FROM outbox_messages
            WHERE topic = 'salesOrder' AND record_key = (SELECT number FROM sales_orders WHERE id = :order)
              AND json_extract(payload, '$.company') = 'SOFTCO' ORDER BY version""", order=order_id)
        assert messages == [("crm", v, "PENDING") for v in range(1, version + 1)]
    # The services revenue is what the CRM invoiced, deals included, and balances.
    [(revenue,)] = await _rows(db, """
        SELECT SUM(l.credit - l.debit) FROM journal_lines l JOIN accounts a ON a.id = l.account_id
        JOIN entities e ON e.id = a.entity_id WHERE e.code = 'SOFTCO' AND a.code = '4200'""")
    services = [o for o in records.sales_orders if o.company == "SOFTCO" and o.kind == "services"]
    assert revenue == sum(o.amount_minor for o in services)
