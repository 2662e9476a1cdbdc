"""The demo's two-way integration end to end, over real HTTP on loopback: the demo ledger's
sales orders reach the demo CRM through the outbox (the CRM's own REST endpoint shows what
the ledger shows), a deal won in the CRM is pushed and becomes an order, the order runs to
PAID through GraphQL with the CRM following each step, notes go both ways and never echo,
and the CRM remembers it all across a restart."""

from __future__ import annotations

import asyncio
import socket
from decimal import Decimal

import httpx
import pytest

from gateway.app import create_app
from gateway.demo.clients import provision_demo_clients
from gateway.demo.sources import demo_systems
from gateway.demo.world import build_demo
from sources.demo.generate import generate_world
from sources.demo.services import SERVICES
from sources.demo.services.crm_state import CrmState
from sources.demo.services.serve import serving
from tests.callers import GraphQLClient, Party
from tests.conftest import make_settings

SCALE = 0.2
ORDERS = "/crm/ledger/sales-orders"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
async def demo(db, tmp_path):
    """The demo ledger served by the real app (its dispatcher running) on loopback, with the
    five systems; the CRM pushes to the app's /hooks/crm and keeps its state in a file."""
    await build_demo(db, seed=7, scale=SCALE)
    records = generate_world(7, SCALE)
    port = _free_port()
    state = tmp_path / "crm.json"
    async with demo_systems(records, pos_db_path=tmp_path / "pos.db", ports=dict.fromkeys(SERVICES, 0),
                            hooks_url=f"http://127.0.0.1:{port}/hooks/crm",
                            crm_state_path=state) as (running, catalog):
        app = create_app(make_settings(), db=db, sources=catalog)
        clients = {c.role: c for c in await provision_demo_clients(db, catalog.sources)}
        async with serving(app, port=port) as url, httpx.AsyncClient(base_url=url) as gateway, \
                httpx.AsyncClient(base_url=running.url("crm"), timeout=10,
                                  headers={"X-API-Key": running.api_keys["crm"]}) as crm:
            poster = GraphQLClient(gateway, Party(clients["poster"].client_id, clients["poster"].secret))
            yield poster, crm, records, state


async def _crm_order(crm, number: str) -> dict | None:
    answer = await crm.get(f"{ORDERS}/SOFTCO/{number}")
    return answer.json() if answer.status_code == 200 else None


async def _until(check, what: str, seconds: float = 10.0):
    """Poll `check()` until it returns something true (the outbox delivers in the background)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.05)


async def _ask(poster, query: str, **variables) -> dict:
    body = (await poster.post(query, variables, entity="SOFTCO")).json()
    assert "errors" not in body, body
    return body["data"]


ORDER_FIELDS = "number state version total amountDue amountPaid paidOn notes { author text origin }"


async def test_the_demo_crm_hears_of_every_order_and_its_deals_become_orders(demo):
    poster, crm, records, state = demo
    ledger = (await _ask(poster, f"{{ salesOrders(first: 100) {{ edges {{ node {{ {ORDER_FIELDS} }} }} }} }}"))
    built = {e["node"]["number"]: e["node"] for e in ledger["salesOrders"]["edges"]}
    deals = [o for o in records.sales_orders if o.kind == "services" and o.opportunity_id]
    assert len(built) == len(deals) >= 2

    # 1. The year's history reaches the CRM through the outbox: the CRM's own copy of each
    #    order is at the ledger's version, with the ledger's state and amounts.
    async def delivered():
        held = {o["number"]: o for o in (await crm.get(ORDERS)).json() if o["company"] == "SOFTCO"}
        return all(held.get(n, {}).get("version") == o["version"] for n, o in built.items()) and held
    held = await _until(delivered, "the built orders delivered to the CRM")
    for number, order in built.items():
        assert (held[number]["state"], Decimal(held[number]["total"]), Decimal(held[number]["amountDue"])) == \
            (order["state"], Decimal(order["total"]), Decimal(order["amountDue"]))

    # 2. A sales person wins an open deal in the CRM: the CRM pushes it, the ledger makes
    #    the order (read back from the CRM through the connector) and tells the CRM.
    deal = next(o for o in records.master.opportunities
                if o.company == "SOFTCO" and o.kind == "services" and o.stage == "open")
    won = (await crm.post(f"/crm/opportunities/{deal.id}/win")).json()
    assert won["opportunity"]["stage"] == "won" and won["push"]["status"] == 200, won
    number = won["push"]["answer"]["salesOrder"]
    assert number not in built
    again = (await crm.post(f"/crm/opportunities/{deal.id}/win")).json()  # the same event again
    assert again["push"]["answer"] == won["push"]["answer"]
    order = (await _ask(poster, "query($n: String!) { salesOrder(number: $n) { state total source { recordId } } }",
                        n=number))["salesOrder"]
    assert order == {"state": "OPEN", "total": str(Decimal(deal.amount_minor).scaleb(-2)),
                     "source": {"recordId": deal.id}}

    async def crm_shows(state: str, version: int):
        async def check():
            held = await _crm_order(crm, number)
            return held if held and held["version"] == version and held["state"] == state else None
        return await _until(check, f"the CRM shows {number} {state} v{version}")
    await crm_shows("OPEN", 1)

    # 3. The back office runs it to PAID through GraphQL; the CRM follows every step.
    step = "mutation($n: String!, $k: String!) { %s(number: $n, idempotencyKey: $k) { salesOrder { version } } }"
    await _ask(poster, step % "fulfillSalesOrder", n=number, k=f"t-{number}-fulfil")
    await crm_shows("FULFILLED", 2)
    await _ask(poster, """mutation($n: String!) { invoiceSalesOrder(number: $n, date: "2026-12-01",
                          idempotencyKey: "t-invoice") { salesOrder { version } } }""", n=number)
    invoiced = await crm_shows("INVOICED", 3)
    assert invoiced["invoiceNumber"] and Decimal(invoiced["amountDue"]) == Decimal(deal.amount_minor).scaleb(-2)
    pay = """mutation($n: String!, $a: Decimal!, $k: String!) { recordPayment(number: $n, amount: $a,
             currency: "USD", date: "2026-12-20", idempotencyKey: $k) { salesOrder { amountDue } } }"""
    total = Decimal(deal.amount_minor).scaleb(-2)
    await _ask(poster, pay, n=number, a=str(Decimal("1000.00")), k="t-pay-1")
    part = await crm_shows("INVOICED", 4)
    assert Decimal(part["amountPaid"]) == Decimal("1000.00") and Decimal(part["amountDue"]) == total - 1000
    await _ask(poster, pay, n=number, a=str(total - 1000), k="t-pay-2")
    paid = await crm_shows("PAID", 5)
    assert (Decimal(paid["amountDue"]), paid["paidOn"]) == (0, "2026-12-20")

    # 4. Notes both ways, never echoed back where they were written.
    from_crm = await crm.post(f"{ORDERS}/SOFTCO/{number}/notes", json={"author": "Dana (sales)",
                                                                       "text": "Customer asks for a copy"})
    assert from_crm.status_code == 201 and from_crm.json()["push"]["status"] == 200, from_crm.text
    await _ask(poster, """mutation($n: String!) { addSalesOrderNote(number: $n, text: "Copy sent",
                          idempotencyKey: "t-note") { salesOrder { version } } }""", n=number)

    async def noted():
        held = await _crm_order(crm, number)
        return held if len(held["notes"]) == 2 else None
    notes = (await _until(noted, "the ledger's note on the CRM"))["notes"]
    assert [(n["text"], n["origin"]) for n in notes] == [("Customer asks for a copy", "crm"),
                                                         ("Copy sent", "ledgergate")]
    shown = (await _ask(poster, "query($n: String!) { salesOrder(number: $n) { notes { text origin } } }",
                        n=number))["salesOrder"]["notes"]
    assert shown == [{"text": "Customer asks for a copy", "origin": "crm"},
                     {"text": "Copy sent", "origin": "ledgergate"}]
    await asyncio.sleep(0.5)  # an echo would have arrived by now
    assert len((await _crm_order(crm, number))["notes"]) == 2

    # 5. The CRM remembers: what a restarted CRM loads is what it holds now.
    kept = CrmState(state)
    assert {o["number"]: o["version"] for o in kept.get("orders", []) if o["company"] == "SOFTCO"}[number] == 5
    assert kept.get("won", {}).keys() == {deal.id}
