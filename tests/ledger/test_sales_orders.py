"""Sales orders in the ledger: each change with its entry, its key, its audit row and its
outbox messages in one transaction; every refusal writes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ledger.documents import sales_orders as so
from ledger.documents.model import DocumentRequest, SalesOrder, SalesOrderEntry
from ledger.documents.sales_order import OrderLineDraft
from ledger.drafts import SourceRef
from ledger.errors import Conflict, NotFound, Rejected
from ledger.model import JournalEntry, JournalLine, SourceLink
from ledger.outbox import OutboxMessage
from ledger.verification import verify_chain

OPPORTUNITY = SourceRef("crm", "Opportunity", "OPP-1", "http://crm/opp/1")
DAY = dt.date(2026, 3, 15)


def order(customer="C1", currency="USD", source=OPPORTUNITY, lines=None) -> so.OrderDraft:
    lines = lines or (
        OrderLineDraft("SEATS", Decimal("3"), Decimal("19.99"), "Seats", (("DEPARTMENT", "SALES"),)),
        OrderLineDraft("SETUP", Decimal("1"), Decimal("100")),
    )
    return so.OrderDraft(customer, currency, tuple(lines), source)


async def _book(world, entity=None):
    async with world.db.session(entity or world.acme) as s:
        await so.set_book(s, journal="SALES", receivable="1100", revenue="4000", cash="1000")
        await s.commit()


async def _do(world, step, *args, entity=None, **kwargs):
    async with world.db.session(entity or world.acme) as s:
        return await step(s, *args, notify=("crm",), **kwargs)


async def _counts(world, entity=None) -> dict:
    async with world.db.session(entity or world.acme) as s:
        return {t.__name__: await s.scalar(select(func.count()).select_from(t))
                for t in (SalesOrder, SalesOrderEntry, DocumentRequest, OutboxMessage, JournalEntry)}


async def test_the_whole_cycle_posts_balanced_entries_and_tells_the_crm_each_step(world):
    await _book(world)
    created = await _do(world, so.create_order, order(), "k1")
    assert (created.number, created.version) == ("SO-000001", 1)
    await _do(world, so.fulfil, "SO-000001", "k2")
    invoiced = await _do(world, so.invoice, "SO-000001", DAY, "k3")
    part = await _do(world, so.record_payment, "SO-000001", Decimal("59.97"), "USD", DAY, "k4")
    paid = await _do(world, so.record_payment, "SO-000001", Decimal("100.00"), "USD", DAY, "k5")
    assert paid.version == 5
    async with world.db.session(world.acme) as s:
        row = await s.scalar(select(SalesOrder))
        assert (row.state, row.total, row.invoiced, row.paid, row.paid_on) == ("PAID", 15997, 15997, 15997, "2026-03-15")
        lines = (await s.execute(select(JournalLine.entry_id, JournalLine.debit, JournalLine.credit,
                                        JournalLine.customer_id, JournalLine.department_id))).all()
        by_entry = {}
        for entry_id, debit, credit, *_ in lines:
            d, c = by_entry.get(entry_id, (0, 0))
            by_entry[entry_id] = (d + debit, c + credit)
        assert by_entry == {invoiced.entry_id: (15997, 15997), part.entry_id: (5997, 5997),
                            paid.entry_id: (10000, 10000)}
        assert all(customer is not None for *_, customer, _ in lines)
        links = (await s.execute(select(SourceLink.entry_id, SourceLink.record_id))).all()
        assert {r for _, r in links} == {"OPP-1"}
        assert {e for e, _ in links} == {invoiced.entry_id, part.entry_id, paid.entry_id}
        messages = (await s.execute(select(OutboxMessage.version, OutboxMessage.payload)
                                    .order_by(OutboxMessage.version))).all()
        assert [(v, p["state"]) for v, p in messages] == [
            (1, "OPEN"), (2, "FULFILLED"), (3, "INVOICED"), (4, "INVOICED"), (5, "PAID")]
        assert messages[3].payload["amountDue"] == "100.00"
        assert messages[2].payload["invoiceNumber"] == "JE-0000001"
        assert (await verify_chain(s)).ok


async def test_a_repeated_key_replays_and_another_request_under_it_conflicts(world):
    await _book(world)
    first = await _do(world, so.create_order, order(), "k1")
    again = await _do(world, so.create_order, order(), "k1")
    assert again.replayed and (again.order_id, again.version) == (first.order_id, first.version)
    before = await _counts(world)
    with pytest.raises(Conflict):
        await _do(world, so.create_order, order(customer="C1", source=None), "k1")
    await _do(world, so.fulfil, "SO-000001", "f")
    assert (await _do(world, so.fulfil, "SO-000001", "f")).replayed
    assert (await _counts(world))["OutboxMessage"] == before["OutboxMessage"] + 1


@pytest.mark.parametrize("steps,bad,words", [
    ((), (so.record_payment, "SO-000001", Decimal("1"), "USD", DAY), "is OPEN"),
    ((), (so.invoice, "SO-000001", DAY), "is OPEN"),
    (((so.fulfil, "SO-000001"), (so.invoice, "SO-000001", DAY)), (so.invoice, "SO-000001", DAY), "is INVOICED"),
    (((so.fulfil, "SO-000001"), (so.invoice, "SO-000001", DAY)),
     (so.record_payment, "SO-000001", Decimal("159.98"), "USD", DAY), "more than the 159.97 USD due"),
    (((so.fulfil, "SO-000001"), (so.invoice, "SO-000001", DAY)),
     (so.record_payment, "SO-000001", Decimal("1"), "EUR", DAY), "payment in EUR"),
    (((so.fulfil, "SO-000001"),), (so.cancel, "SO-000001"), "is FULFILLED"),
    (((so.fulfil, "SO-000001"),), (so.invoice, "SO-000001", dt.date(2025, 6, 1)), "entry."),
])
async def test_an_illegal_step_is_refused_and_writes_nothing(world, steps, bad, words):
    await _book(world)
    await _do(world, so.create_order, order(), "create")
    for n, (step, *args) in enumerate(steps):
        await _do(world, step, *args, f"s{n}")
    before = await _counts(world)
    step, *args = bad
    with pytest.raises(Rejected) as refused:
        await _do(world, step, *args, "bad")
    assert words in str(refused.value)
    assert await _counts(world) == before


@pytest.mark.parametrize("draft,path", [
    (order(customer="NOPE"), "customer"),
    (order(lines=(OrderLineDraft("X", Decimal("1"), Decimal("5"), None, (("DEPARTMENT", "OLD"),)),)), "lines[0].dimensions[0]"),
    (order(lines=(OrderLineDraft("X", Decimal("1"), Decimal("5"), None, (("CUSTOMER", "C1"),)),)), "lines[0].dimensions[0]"),
    (order(currency="XXX"), "currency"),
    (order(lines=(OrderLineDraft("X", Decimal("0"), Decimal("5")),)), "lines[0].quantity"),
])
async def test_a_bad_order_is_refused_whole(world, draft, path):
    before = await _counts(world)
    with pytest.raises(Rejected) as refused:
        await _do(world, so.create_order, draft, "k")
    assert path in [v.path for v in refused.value.violations]
    assert await _counts(world) == before


async def test_a_record_makes_one_order(world):
    await _do(world, so.create_order, order(), "k1")
    with pytest.raises(Conflict, match="already made sales order SO-000001"):
        await _do(world, so.create_order, order(), "k2")


async def test_orders_are_confined_to_their_company(world):
    await _do(world, so.create_order, order(), "k1")
    with pytest.raises(NotFound):
        await _do(world, so.fulfil, "SO-000001", "k", entity=world.beta)
    assert (await _counts(world, world.beta))["SalesOrder"] == 0
    # BETA numbers its own orders from 1, and may take an order for the same record.
    beta = await _do(world, so.create_order, order(currency="EUR"), "k1", entity=world.beta)
    assert beta.number == "SO-000001"


async def test_invoicing_needs_a_book(world):
    await _do(world, so.create_order, order(), "k1")
    await _do(world, so.fulfil, "SO-000001", "k2")
    with pytest.raises(Rejected, match="no sales order book"):
        await _do(world, so.invoice, "SO-000001", DAY, "k3")


async def test_a_book_names_existing_accounts_of_the_right_kind(world):
    async with world.db.session(world.acme) as s:
        with pytest.raises(Rejected) as refused:
            await so.set_book(s, journal="NOPE", receivable="4000", revenue="1100", cash="9999")
    assert [v.path for v in refused.value.violations] == ["journal", "receivable", "revenue", "cash"]


async def test_audit_runs_in_the_change_transaction(world):
    seen = []

    async def before_commit(session, change):
        seen.append((change.number, change.version, await session.scalar(
            select(SalesOrder.version).where(SalesOrder.id == change.order_id))))
    async with world.db.session(world.acme) as s:
        await so.create_order(s, order(), "k1", before_commit=before_commit)
    assert seen == [("SO-000001", 1, 1)]
