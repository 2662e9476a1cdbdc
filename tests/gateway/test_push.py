"""Signed pushes from the demo CRM (`POST /hooks/crm`): a Closed Won opportunity becomes a
sales order, read back from the CRM on loopback; every refusal is audited and changes
nothing; a redelivered event changes nothing and gets the same answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.config import OutboxSettings
from gateway.outbox_dispatcher import OutboxDispatcher
from gateway.source_catalog import open_catalog
from ledger.audit import MUTATION, PUSH_REFUSED
from ledger.documents.model import SalesOrder
from ledger.inbound import InboundEvent
from ledger.model import AuditEvent
from ledger.outbox import OutboxMessage
from sources.config import parse_sources_config
from sources.demo.generate import generate_world
from sources.demo.records.crm import Opportunity
from sources.demo.services import create_crm_app
from sources.demo.services.crm_ledger import LedgerOrders, sources_toml
from sources.demo.services.serve import serving
from sources.push import HEADER, sign
from tests.callers import pin_actor_cache, tester_client
from tests.conftest import make_settings

KEY, SECRET = "crm-push-test-key", "push-test-secret"


def opportunity(n: int, stage: str = "won", company: str = "ACME", customer: str = "C1") -> Opportunity:
    return Opportunity(id=f"OPP-T{n}", company=company, customer_id=customer, name=f"Deal {n}",
                       kind="new_business", stage=stage, amount_minor=125_050, currency="USD",
                       created_on=dt.date(2026, 1, 5), close_date=dt.date(2026, 3, 1), project_id=None)


@pytest.fixture(scope="module")
def records():
    base = generate_world(7, 0.05)
    return dataclasses.replace(base, master=dataclasses.replace(base.master, opportunities=(
        opportunity(1), opportunity(2, stage="open"), opportunity(3, company="BETA"),
        opportunity(4, customer="NOBODY"), opportunity(5))))


@pytest.fixture
def crm():
    return LedgerOrders()


@pytest.fixture
async def hook(world, records, crm):
    async with serving(create_crm_app(records, api_key=KEY, ledger_orders=crm)) as url:
        catalog = await open_catalog(parse_sources_config(sources_toml(
            url, notes=True, order_fields=True,
            push={"secret": "push_secret", "tolerance": 300, "max_bytes": 4096})),
                                     secrets={"crm": {"api_key": KEY, "push_secret": SECRET}})
        app = create_app(make_settings(), db=world.db, sources=catalog)
        pin_actor_cache(app)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://lg.test") as http:
            http.dispatcher = OutboxDispatcher(world.db, catalog, OutboxSettings(retry_delays=(0.0,), jitter=0.0))
            http.crm_url = url
            yield http
        await catalog.aclose()


def event(n: int, record: str = "OPP-T1", company: str = "ACME", kind: str = "opportunity.closed_won") -> bytes:
    return orjson.dumps({"id": f"evt_{n}", "type": kind,
                         "data": {"company": company, "recordType": "Opportunity", "recordId": record}})


async def push(http, body: bytes, *, secret: str = SECRET, at: int | None = None, header: str | None = None):
    signature = header if header is not None else sign(secret.encode(), body, at)
    headers = {"Content-Type": "application/json"} | ({HEADER: signature} if signature else {})
    return await http.post("/hooks/crm", content=body, headers=headers)


async def state(world) -> dict:
    async with world.db.engine.connect() as c:
        return {
            "orders": await c.scalar(select(func.count()).select_from(SalesOrder)),
            "messages": await c.scalar(select(func.count()).select_from(OutboxMessage)),
            "events": await c.scalar(select(func.count()).select_from(InboundEvent)),
        }


async def audit_rows(world, event_kind: str) -> list:
    async with world.db.engine.connect() as c:
        return (await c.execute(select(AuditEvent.outcome, AuditEvent.client_id, AuditEvent.detail)
                                .where(AuditEvent.event == event_kind).order_by(AuditEvent.id))).all()


async def test_a_closed_won_push_makes_one_order_read_from_the_crm(world, hook):
    answer = await push(hook, event(1))
    assert answer.status_code == 200 and answer.json() == {"salesOrder": "SO-000001", "version": 1}
    async with world.db.session(world.acme) as s:
        order = await s.scalar(select(SalesOrder))
    assert (order.total, order.currency, order.source_record_id) == (125050, "USD", "OPP-T1")
    assert await state(world) == {"orders": 1, "messages": 1, "events": 1}
    [(outcome, client, detail)] = await audit_rows(world, MUTATION)
    assert (outcome, client, detail["salesOrder"]) == ("OK", "push:crm", "SO-000001")
    # Redelivered: the same answer, nothing new.
    again = await push(hook, event(1))
    assert again.json() == answer.json() and again.headers["Idempotent-Replayed"] == "true"
    # Another event about the same opportunity: acknowledged and ignored.
    later = await push(hook, event(2))
    assert later.status_code == 200 and later.json()["ignored"] is True
    assert (await state(world))["orders"] == 1


@pytest.mark.parametrize("case,status,code", [
    ("unsigned", 401, "unsigned"),
    ("wrong secret", 401, "bad_signature"),
    ("tampered body", 401, "bad_signature"),
    ("stale", 401, "stale"),
    ("from the future", 401, "stale"),
    ("too large", 413, "too_large"),
    ("not json", 400, "bad_request"),
])
async def test_a_bad_push_is_refused_audited_and_changes_nothing(world, hook, case, status, code):
    body = event(1)
    kwargs = {
        "unsigned": {"header": ""},
        "wrong secret": {"secret": "not-the-secret"},
        "stale": {"at": int(time.time()) - 301},
        "from the future": {"at": int(time.time()) + 301},
    }.get(case, {})
    if case == "tampered body":
        kwargs = {"header": sign(SECRET.encode(), body)}
        body = event(1, record="OPP-T5")
    if case == "too large":
        body = orjson.dumps({"id": "evt_big", "type": "x", "data": {"pad": "x" * 5000}})
    if case == "not json":
        body = b"{nope"
    answer = await push(hook, body, **kwargs)
    assert answer.status_code == status and answer.json()["error"] == code
    assert await state(world) == {"orders": 0, "messages": 0, "events": 0}
    [(outcome, client, detail)] = await audit_rows(world, PUSH_REFUSED)
    assert (outcome, client, detail["system"]) == (code, "push:crm", "crm")
    assert SECRET not in str(detail)


@pytest.mark.parametrize("body,words", [
    (event(1, record="OPP-T2"), "'open', not won"),
    (event(1, record="OPP-T3"), "does not exist"),           # BETA's opportunity, pushed as ACME's
    (event(1, record="OPP-T4"), "no customer 'NOBODY'"),
    (event(1, company="NOPE"), "no company 'NOPE'"),
    (event(1, kind="opportunity.lost"), "not one ledgergate acts on"),
])
async def test_an_event_that_cannot_make_an_order_is_answered_422_and_stays_so(world, hook, body, words):
    answer = await push(hook, body)
    assert answer.status_code == 422 and words in answer.json()["message"], answer.json()
    assert (await state(world))["orders"] == 0
    again = await push(hook, body)
    assert again.status_code == 422 and again.headers.get("Idempotent-Replayed") == "true"


async def test_the_same_event_id_with_another_body_is_a_conflict(world, hook):
    assert (await push(hook, event(1))).status_code == 200
    reused = await push(hook, event(1, record="OPP-T5"))
    assert reused.status_code == 409 and reused.json()["error"] == "event_id_reused"
    assert (await state(world))["orders"] == 1


async def test_a_system_that_does_not_push_has_no_hook(hook):
    answer = await hook.post("/hooks/hr", content=event(1))
    assert answer.status_code == 404


async def test_create_sales_order_from_source_reads_the_record_through_the_connector(world, hook):
    gql = await tester_client(hook, world.db, ["crm"])
    query = """mutation($id: String!, $k: String!) { createSalesOrderFromSource(system: "crm",
      recordType: "Opportunity", recordId: $id, idempotencyKey: $k) { salesOrder { number total customer
      source { recordId url } lines { item description quantity unitPrice } } } }"""
    made = await gql(query, {"id": "OPP-T5", "k": "k1"})
    order = made["data"]["createSalesOrderFromSource"]["salesOrder"]
    assert order["total"] == "1250.50" and order["customer"] == "C1"
    assert order["lines"] == [{"item": "NEW_BUSINESS", "description": "Deal 5", "quantity": "1", "unitPrice": "1250.5"}]
    assert order["source"]["url"].endswith("/crm/opportunities/OPP-T5")
    for record, code in (("OPP-T3", "NOT_FOUND"), ("OPP-T2", "BAD_USER_INPUT"), ("OPP-T5", "CONFLICT")):
        [error] = (await gql(query, {"id": record, "k": f"other-{record}"}))["errors"]
        assert error["extensions"]["code"] == code, error
    assert (await state(world))["orders"] == 1


NOTE = """mutation($n: String!, $t: String!, $k: String!) { addSalesOrderNote(number: $n, text: $t,
  idempotencyKey: $k) { salesOrder { notes { author text origin } } } }"""


async def _drain(dispatcher):
    while await dispatcher.run_once():
        pass


async def test_notes_travel_both_ways_and_never_echo(world, hook, crm):
    assert (await push(hook, event(1))).status_code == 200
    gql = await tester_client(hook, world.db, ["crm"])
    added = await gql(NOTE, {"n": "SO-000001", "t": "Customer asked for a PO number", "k": "n1"})
    assert added["data"]["addSalesOrderNote"]["salesOrder"]["notes"] == [
        {"author": "tester", "text": "Customer asked for a PO number", "origin": "ledgergate"}]
    await _drain(hook.dispatcher)
    async with httpx.AsyncClient(base_url=hook.crm_url, headers={"X-API-Key": KEY}) as client:
        seen = (await client.get("/crm/ledger/sales-orders/ACME/SO-000001")).json()
    assert seen["state"] == "OPEN" and [n["origin"] for n in seen["notes"]] == ["ledgergate"]
    # A note written in the CRM arrives by push, once, and is not sent back.
    note = crm.add_note("ACME", "SO-000001", "ana@crm", "PO 4711 attached")
    body = orjson.dumps({"id": "evt_note_1", "type": "note.added", "data": {
        "company": "ACME", "salesOrder": "SO-000001", "noteId": note["id"], "author": note["author"],
        "text": note["text"]}})
    assert (await push(hook, body)).json() == {"salesOrder": "SO-000001", "added": True}
    same_note = body.replace(b"evt_note_1", b"evt_note_2")  # the CRM sends it again, as a new event
    assert (await push(hook, same_note)).json() == {"salesOrder": "SO-000001", "added": False}
    order = (await gql('{ salesOrder(number: "SO-000001") { notes { author text origin } } }'))["data"]
    assert [n["origin"] for n in order["salesOrder"]["notes"]] == ["ledgergate", "crm"]
    await _drain(hook.dispatcher)
    assert [n["origin"] for n in crm.notes[("ACME", "SO-000001")]] == ["ledgergate", "crm"]
    async with world.db.engine.connect() as c:
        topics = (await c.execute(select(OutboxMessage.topic).order_by(OutboxMessage.id))).scalars().all()
    assert topics == ["salesOrder", "salesOrderNote"]  # the CRM's own note made no message


@pytest.mark.parametrize("text,words", [("", "needs some text"), ("x" * 4001, "at most 4000")])
async def test_a_bad_note_is_refused(world, hook, text, words):
    assert (await push(hook, event(1))).status_code == 200
    gql = await tester_client(hook, world.db, ["crm"])
    [error] = (await gql(NOTE, {"n": "SO-000001", "t": text, "k": "n"}))["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and words in error["message"]
    [error] = (await gql(NOTE, {"n": "SO-000404", "t": "hello", "k": "m"}))["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
