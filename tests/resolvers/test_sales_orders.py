"""Sales orders through the real HTTP app: the lifecycle, its entries, its outbox rows, its
scopes and every refusal (with its code, writing nothing)."""

import dataclasses

import httpx
import pytest
from sqlalchemy import func, select

from gateway.app import create_app
from ledger.audit import MUTATION
from ledger.documents.model import DocumentRequest, SalesOrder
from ledger.model import AuditEvent, JournalEntry
from ledger.outbox import OutboxMessage
from tests.callers import fetch_token, pin_actor_cache, provision_tester
from tests.conftest import make_settings
from tests.record_types import linkable_catalog

BOOK = """mutation { setSalesOrderBook(journal: "SALES", receivableAccount: "1100",
  revenueAccount: "4000", cashAccount: "1000") { journal } }"""
ORDER = """fragment O on SalesOrder { number state version customer currency total amountInvoiced
  amountPaid amountDue paidOn source { system recordType recordId }
  lines { lineNo item quantity unitPrice amount dimensions { kind code } }
  entries { number lines { account { code } debit credit } }
  deliveries { system version state attempts } }"""
CREATE = ORDER + """
mutation($input: SalesOrderInput!, $key: String!) {
  createSalesOrder(input: $input, idempotencyKey: $key) { replayed salesOrder { ...O } } }"""
FULFIL = ORDER + "mutation($n: String!, $k: String!) { fulfillSalesOrder(number: $n, idempotencyKey: $k) { replayed salesOrder { ...O } } }"
INVOICE = ORDER + "mutation($n: String!, $k: String!, $d: Date!) { invoiceSalesOrder(number: $n, date: $d, idempotencyKey: $k) { salesOrder { ...O } } }"
PAY = ORDER + """mutation($n: String!, $k: String!, $d: Date!, $a: Decimal!, $c: String!) {
  recordPayment(number: $n, amount: $a, currency: $c, date: $d, idempotencyKey: $k) { salesOrder { ...O } } }"""
CANCEL = ORDER + "mutation($n: String!, $k: String!) { cancelSalesOrder(number: $n, idempotencyKey: $k) { salesOrder { ...O } } }"

INPUT = {
    "customer": "C1", "currency": "USD",
    "source": {"system": "crm", "recordType": "SalesOrder", "recordId": "OPP-1"},
    "lines": [
        {"item": "SEATS", "quantity": "3", "unitPrice": "19.99", "description": "Seats",
         "dimensions": [{"kind": "DEPARTMENT", "code": "SALES"}]},
        {"item": "SETUP", "quantity": "1", "unitPrice": "100"},
    ],
}


async def _written(world) -> dict:
    async with world.db.session(world.acme) as s:
        return {t.__name__: await s.scalar(select(func.count()).select_from(t))
                for t in (SalesOrder, DocumentRequest, OutboxMessage, JournalEntry)}


def _data(answer: dict) -> dict:
    assert "errors" not in answer, answer
    return answer["data"]


@pytest.fixture
async def http(world):
    """The tests' app, its crm taking sales order messages (none is delivered here:
    tests/gateway/test_outbox_delivery.py delivers them)."""
    catalog = dataclasses.replace(linkable_catalog(), deliveries={"crm": {"salesOrder": "/orders"}})
    app = create_app(make_settings(), db=world.db, sources=catalog)
    pin_actor_cache(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ledgergate.test") as client:
        yield client


@pytest.fixture
async def booked(gql):
    _data(await gql(BOOK))
    return gql


async def test_an_order_runs_its_whole_cycle_with_balanced_entries_and_a_message_each_step(booked, world):
    gql = booked
    order = _data(await gql(CREATE, {"input": INPUT, "key": "c"}))["createSalesOrder"]["salesOrder"]
    assert order["number"] == "SO-000001" and order["state"] == "OPEN" and order["total"] == "159.97"
    assert order["lines"][0] == {"lineNo": 1, "item": "SEATS", "quantity": "3", "unitPrice": "19.99",
                                 "amount": "59.97", "dimensions": [{"kind": "DEPARTMENT", "code": "SALES"}]}
    assert order["deliveries"] == [{"system": "crm", "version": 1, "state": "PENDING", "attempts": 0}]
    n = {"n": "SO-000001"}
    assert _data(await gql(FULFIL, {**n, "k": "f"}))["fulfillSalesOrder"]["salesOrder"]["state"] == "FULFILLED"
    invoiced = _data(await gql(INVOICE, {**n, "k": "i", "d": "2026-03-15"}))["invoiceSalesOrder"]["salesOrder"]
    assert (invoiced["state"], invoiced["amountDue"]) == ("INVOICED", "159.97")
    [entry] = invoiced["entries"]
    debits = [line["debit"] for line in entry["lines"] if line["debit"] != "0.00"]
    credits = [line["credit"] for line in entry["lines"] if line["credit"] != "0.00"]
    assert debits == ["159.97"] and sorted(credits) == ["100.00", "59.97"]
    part = _data(await gql(PAY, {**n, "k": "p1", "d": "2026-03-20", "a": "59.97", "c": "USD"}))
    assert part["recordPayment"]["salesOrder"]["amountDue"] == "100.00"
    assert part["recordPayment"]["salesOrder"]["state"] == "INVOICED"
    paid = _data(await gql(PAY, {**n, "k": "p2", "d": "2026-03-25", "a": "100", "c": "USD"}))
    paid = paid["recordPayment"]["salesOrder"]
    assert (paid["state"], paid["amountDue"], paid["amountPaid"], paid["paidOn"]) == ("PAID", "0.00", "159.97", "2026-03-25")
    assert [e["number"] for e in paid["entries"]] == ["JE-0000001", "JE-0000002", "JE-0000003"]
    assert [(d["version"], d["state"]) for d in paid["deliveries"]] == [(v, "PENDING") for v in range(1, 6)]
    listed = _data(await gql('{ salesOrders(state: PAID) { edges { node { number } } } }'))
    assert listed["salesOrders"]["edges"] == [{"node": {"number": "SO-000001"}}]
    async with world.db.session(world.acme) as s:
        rows = (await s.execute(select(AuditEvent.detail).where(AuditEvent.event == MUTATION))).scalars().all()
    assert [(r["operation"], r["version"]) for r in rows] == [
        ("createSalesOrder", 1), ("fulfillSalesOrder", 2), ("invoiceSalesOrder", 3),
        ("recordPayment", 4), ("recordPayment", 5)]


async def test_a_repeated_key_replays_the_change(booked, world):
    first = _data(await booked(CREATE, {"input": INPUT, "key": "c"}))["createSalesOrder"]
    again = _data(await booked(CREATE, {"input": INPUT, "key": "c"}))["createSalesOrder"]
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert again["salesOrder"]["version"] == 1
    assert (await _written(world))["SalesOrder"] == 1


@pytest.mark.parametrize("steps,query,variables,code,words", [
    ((), PAY, {"d": "2026-03-15", "a": "1", "c": "USD"}, "BAD_USER_INPUT", "is OPEN"),
    ((FULFIL, INVOICE), INVOICE, {"d": "2026-03-15"}, "BAD_USER_INPUT", "is INVOICED"),
    ((FULFIL, INVOICE), PAY, {"d": "2026-03-15", "a": "159.98", "c": "USD"}, "BAD_USER_INPUT", "due"),
    ((FULFIL, INVOICE), PAY, {"d": "2026-03-15", "a": "10", "c": "EUR"}, "BAD_USER_INPUT", "payment in EUR"),
    ((FULFIL,), CANCEL, {}, "BAD_USER_INPUT", "is FULFILLED"),
    ((), FULFIL, {"n": "SO-000999"}, "NOT_FOUND", "SO-000999"),
    ((), CREATE, {"input": {**INPUT, "source": None}, "k": None}, "CONFLICT", "different request"),
    ((), CREATE, {"input": {**INPUT, "source": {"system": "nope", "recordType": "X", "recordId": "1"}},
                  "key": "other"}, "BAD_USER_INPUT", "nope"),
    ((), CREATE, {"key": "again"}, "CONFLICT", "already made sales order SO-000001"),
])
async def test_every_refusal_has_a_code_and_writes_nothing(booked, world, steps, query, variables, code, words):
    _data(await booked(CREATE, {"input": INPUT, "key": "create"}))
    for i, step in enumerate(steps):
        _data(await booked(step, {"n": "SO-000001", "k": f"s{i}", "d": "2026-03-15"}))
    before = await _written(world)
    variables = {"n": "SO-000001", "k": "bad", "key": "create", "input": INPUT, **variables}
    answer = await booked(query, {k: v for k, v in variables.items() if v is not None})
    [error] = answer["errors"]
    assert error["extensions"]["code"] == code and words in error["message"], error
    assert await _written(world) == before


async def test_a_bad_order_lists_every_violation(booked, world):
    bad = {**INPUT, "customer": "NOPE", "lines": [{"item": "X", "quantity": "0", "unitPrice": "1"}]}
    answer = await booked(CREATE, {"input": bad, "key": "k"})
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "customer" in error["message"] and "lines[0].quantity" in error["message"]
    assert (await _written(world))["SalesOrder"] == 0


async def test_orders_are_confined_to_the_callers_company(booked, world):
    _data(await booked(CREATE, {"input": INPUT, "key": "c"}))
    assert _data(await booked('{ salesOrder(number: "SO-000001") { number } }', entity="BETA")) == {"salesOrder": None}
    answer = await booked(FULFIL, {"n": "SO-000001", "k": "f"}, entity="BETA")
    assert answer["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_document_scopes_guard_reads_and_writes(booked, http, world):
    _data(await booked(CREATE, {"input": INPUT, "key": "c"}))
    party = await provision_tester(world.db)
    reader = {"Authorization": f"Bearer {await fetch_token(http, party, 'ACME', scope='ledger:read documents:read')}"}
    writer_only = {"Authorization": f"Bearer {await fetch_token(http, party, 'ACME', scope='ledger:read ledger:post')}"}
    read = (await http.post("/graphql", headers=reader, json={"query": '{ salesOrder(number: "SO-000001") { state } }'})).json()
    assert read == {"data": {"salesOrder": {"state": "OPEN"}}}
    before = await _written(world)
    refused = (await http.post("/graphql", headers=reader, json={"query": FULFIL, "variables": {"n": "SO-000001", "k": "f"}})).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "documents:write" in refused["errors"][0]["message"]
    assert await _written(world) == before
    hidden = (await http.post("/graphql", headers=writer_only, json={"query": '{ __type(name: "SalesOrder") { name } }'})).json()
    assert hidden == {"data": {"__type": None}}
