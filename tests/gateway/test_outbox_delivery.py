"""The outbox end to end: sales order changes made through the real app reach the demo CRM,
served over HTTP on loopback, by the dispatcher; the CRM's own record is the proof. Faults:
the CRM failing before or after applying, down for a while, refusing for good; two
dispatchers at once."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest
from sqlalchemy import select

from gateway.app import create_app
from gateway.config import OutboxSettings
from gateway.outbox_dispatcher import OutboxDispatcher
from gateway.source_catalog import open_catalog
from ledger import outbox
from ledger.outbox import OutboxMessage
from sources.config import parse_sources_config
from sources.demo.generate import generate_world
from sources.demo.services import create_crm_app
from sources.demo.services.crm_ledger import LedgerOrders, sources_toml
from sources.demo.services.serve import serving
from tests.callers import pin_actor_cache, tester_client
from tests.conftest import make_settings

KEY = "crm-outbox-test-key"
ORDER = "fragment O on SalesOrder { number state version deliveries { system version state attempts } }"
CREATE = ORDER + """
mutation($input: SalesOrderInput!, $key: String!) {
  createSalesOrder(input: $input, idempotencyKey: $key) { salesOrder { ...O } } }"""
FULFIL = ORDER + "mutation($n: String!, $k: String!) { fulfillSalesOrder(number: $n, idempotencyKey: $k) { salesOrder { ...O } } }"
INVOICE = ORDER + "mutation($n: String!, $k: String!, $d: Date!) { invoiceSalesOrder(number: $n, date: $d, idempotencyKey: $k) { salesOrder { ...O } } }"
PAY = ORDER + """mutation($n: String!, $k: String!, $d: Date!, $a: Decimal!) {
  recordPayment(number: $n, amount: $a, currency: "USD", date: $d, idempotencyKey: $k) { salesOrder { ...O } } }"""
BOOK = """mutation { setSalesOrderBook(journal: "SALES", receivableAccount: "1100",
  revenueAccount: "4000", cashAccount: "1000") { journal } }"""
NOW = OutboxSettings(retry_delays=(0.0, 0.0, 0.0), jitter=0.0, poll_seconds=0.05)




@pytest.fixture(scope="module")
def records():
    return generate_world(7, 0.05)


@dataclasses.dataclass
class Rig:
    gql: object
    crm: LedgerOrders
    url: str
    port: int
    catalog: object
    world: object
    app: object

    def dispatcher(self, settings: OutboxSettings = NOW, name: str = "d1") -> OutboxDispatcher:
        return OutboxDispatcher(self.world.db, self.catalog, settings, name=name)

    async def crm_record(self, number: str) -> dict | None:
        async with httpx.AsyncClient(base_url=self.url, headers={"X-API-Key": KEY}) as client:
            answer = await client.get(f"/crm/ledger/sales-orders/ACME/{number}")
        return answer.json() if answer.status_code == 200 else None


@pytest.fixture
async def rig(world, records):
    crm = LedgerOrders()
    async with serving(create_crm_app(records, api_key=KEY, ledger_orders=crm)) as url:
        catalog = await open_catalog(parse_sources_config(sources_toml(url)), secrets={"crm": {"api_key": KEY}})
        settings = dataclasses.replace(make_settings(), outbox=NOW)
        app = create_app(settings, db=world.db, sources=catalog)
        pin_actor_cache(app)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ledgergate.test") as http:
            gql = await tester_client(http, world.db, ["crm"])
            answer = await gql(BOOK)
            assert "errors" not in answer, answer
            yield Rig(gql, crm, url, int(url.rsplit(":", 1)[1]), catalog, world, app)
        await catalog.aclose()


def order_input(records, n: int = 0) -> dict:
    # The demo's crm does not check links (`verify_links` off): ids past its records are fine.
    opportunity = records.opportunities[n].id if n < len(records.opportunities) else f"OPP-T{n}"
    return {"customer": "C1", "currency": "USD",
            "source": {"system": "crm", "recordType": "Opportunity", "recordId": opportunity},
            "lines": [{"item": "SEATS", "quantity": "2", "unitPrice": "50"}]}


async def ok(gql, query, variables) -> dict:
    answer = await gql(query, variables)
    assert "errors" not in answer, answer
    return next(iter(answer["data"].values()))["salesOrder"]


async def drain(dispatcher: OutboxDispatcher, rounds: int = 20) -> None:
    for _ in range(rounds):
        if not await dispatcher.run_once():
            return


async def test_each_step_of_an_order_reaches_the_crm_and_the_crms_own_record_shows_it(rig, records):
    d = rig.dispatcher()
    await ok(rig.gql, CREATE, {"input": order_input(records), "key": "c"})
    await drain(d)
    assert (await rig.crm_record("SO-000001"))["state"] == "OPEN"
    steps = [(FULFIL, {"k": "f"}, "FULFILLED", "0.00"), (INVOICE, {"k": "i", "d": "2026-03-15"}, "INVOICED", "0.00"),
             (PAY, {"k": "p1", "d": "2026-03-20", "a": "40"}, "INVOICED", "40.00"),
             (PAY, {"k": "p2", "d": "2026-03-21", "a": "60"}, "PAID", "100.00")]
    for query, variables, state, paid in steps:
        await ok(rig.gql, query, {"n": "SO-000001", **variables})
        await drain(d)
        seen = await rig.crm_record("SO-000001")
        assert (seen["state"], seen["amountPaid"]) == (state, paid)
    assert seen["invoiceNumber"] == "JE-0000001" and seen["paidOn"] == "2026-03-21" and seen["version"] == 5
    assert rig.crm.applied == [("ACME", "SO-000001", v) for v in range(1, 6)]
    order = (await rig.gql('{ salesOrder(number: "SO-000001") { deliveries { version state attempts } } }'))["data"]
    assert order["salesOrder"]["deliveries"] == [{"version": v, "state": "DELIVERED", "attempts": 1} for v in range(1, 6)]


async def test_an_order_without_a_delivering_source_writes_no_message(rig):
    no_source = {"customer": "C1", "currency": "USD", "lines": [{"item": "X", "quantity": "1", "unitPrice": "1"}]}
    order = await ok(rig.gql, CREATE, {"input": no_source, "key": "c"})
    assert order["deliveries"] == []


async def test_a_crm_failing_before_applying_gets_the_message_again_and_applies_it_once(rig, records):
    d = rig.dispatcher()
    rig.crm.faults.fail_before = 2
    await ok(rig.gql, CREATE, {"input": order_input(records), "key": "c"})
    assert await d.run_once() == 1 and await d.run_once() == 1 and await d.run_once() == 1
    assert rig.crm.applied == [("ACME", "SO-000001", 1)]
    [(key, count)] = rig.crm.requests.items()
    assert count == 3


async def test_a_crm_that_applied_then_failed_is_not_applied_twice(rig, records):
    d = rig.dispatcher()
    rig.crm.faults.fail_after = 1
    await ok(rig.gql, CREATE, {"input": order_input(records), "key": "c"})
    await drain(d)
    assert rig.crm.applied == [("ACME", "SO-000001", 1)]
    assert list(rig.crm.requests.values()) == [2]  # the retry was answered from the CRM's key store
    async with rig.world.db.engine.connect() as c:
        assert (await c.execute(select(OutboxMessage.state, OutboxMessage.attempts))).all() == [("DELIVERED", 2)]


async def test_changes_made_while_the_crm_is_down_arrive_in_order_once_it_is_back(world, records):
    crm = LedgerOrders()
    app = create_crm_app(records, api_key=KEY, ledger_orders=crm)
    async with serving(app) as url:
        port = int(url.rsplit(":", 1)[1])
    # The CRM is down now, on a port the catalog knows.
    catalog = await open_catalog(parse_sources_config(sources_toml(url)), secrets={"crm": {"api_key": KEY}})
    gateway = create_app(dataclasses.replace(make_settings(), outbox=NOW), db=world.db, sources=catalog)
    pin_actor_cache(gateway)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://t") as http:
        gql = await tester_client(http, world.db, ["crm"])
        await gql(BOOK)
        d = OutboxDispatcher(world.db, catalog, dataclasses.replace(NOW, retry_delays=(0.0,) * 10))
        await ok(gql, CREATE, {"input": order_input(records, 0), "key": "a"})
        await ok(gql, CREATE, {"input": order_input(records, 1), "key": "b"})
        for number in ("SO-000001", "SO-000002"):
            await ok(gql, FULFIL, {"n": number, "k": f"f{number}"})
        await ok(gql, INVOICE, {"n": "SO-000001", "k": "i", "d": "2026-03-15"})
        assert await d.run_once() == 2  # the first version of each; both fail
        assert crm.applied == []
        async with serving(app, port=port):
            await drain(d)
    await catalog.aclose()
    assert [v for _, n, v in crm.applied if n == "SO-000001"] == [1, 2, 3]
    assert [v for _, n, v in crm.applied if n == "SO-000002"] == [1, 2]


async def test_a_message_that_never_succeeds_is_dead_lettered_and_can_be_retried(rig, records):
    d = rig.dispatcher(dataclasses.replace(NOW, retry_delays=(0.0, 0.0)))
    rig.crm.faults.fail_before = 100
    await ok(rig.gql, CREATE, {"input": order_input(records), "key": "c"})
    await drain(d)
    async with rig.world.db.engine.connect() as c:
        assert (await c.execute(select(OutboxMessage.state, OutboxMessage.attempts))).all() == [("DEAD", 3)]
    order = (await rig.gql('{ salesOrder(number: "SO-000001") { deliveries { state attempts lastError } } }'))["data"]
    [delivery] = order["salesOrder"]["deliveries"]
    assert delivery["state"] == "DEAD" and "HTTP 500" in delivery["lastError"]
    rig.crm.faults.fail_before = 0
    async with rig.world.db.engine.begin() as connection:
        assert len(await outbox.retry_dead(connection)) == 1
    await drain(d)
    assert rig.crm.applied == [("ACME", "SO-000001", 1)]


async def test_a_refusal_for_good_is_dead_at_once(rig, records):
    bad = dataclasses.replace(rig.catalog, deliveries={"crm": {"salesOrder": "/crm/no-such-endpoint"}})
    d = OutboxDispatcher(rig.world.db, bad, NOW)
    await ok(rig.gql, CREATE, {"input": order_input(records), "key": "c"})
    await drain(d)
    async with rig.world.db.engine.connect() as c:
        [(state, attempts, error)] = (await c.execute(
            select(OutboxMessage.state, OutboxMessage.attempts, OutboxMessage.last_error))).all()
    assert (state, attempts) == ("DEAD", 1) and "HTTP 404" in error


async def test_two_dispatchers_deliver_each_message_once(rig, records):
    for n in range(6):
        await ok(rig.gql, CREATE, {"input": order_input(records, n), "key": f"c{n}"})
        await ok(rig.gql, FULFIL, {"n": f"SO-{n + 1:06d}", "k": f"f{n}"})
    rig.crm.faults.delay = 0.01
    a, b = rig.dispatcher(name="a"), rig.dispatcher(name="b")
    for _ in range(10):
        await asyncio.gather(a.run_once(), b.run_once())
    assert sorted(rig.crm.applied) == sorted(("ACME", f"SO-{n:06d}", v) for n in range(1, 7) for v in (1, 2))
    assert set(rig.crm.requests.values()) == {1}


async def test_the_apps_lifespan_runs_the_dispatcher(rig, records):
    async with rig.app.router.lifespan_context(rig.app):
        await ok(rig.gql, CREATE, {"input": order_input(records), "key": "c"})
        for _ in range(100):
            if rig.crm.applied:
                break
            await asyncio.sleep(0.02)
    assert rig.crm.applied == [("ACME", "SO-000001", 1)]


RETRY = "mutation($ids: [ID!], $all: Boolean! = false) { retryDeadDeliveries(ids: $ids, all: $all) { retried } }"


async def test_an_operator_retries_dead_deliveries_of_its_own_entity_only(rig, records):
    d = rig.dispatcher(dataclasses.replace(NOW, retry_delays=(0.0,)))
    rig.crm.faults.fail_before = 100
    await ok(rig.gql, CREATE, {"input": order_input(records), "key": "c"})
    await drain(d)
    [delivery] = (await rig.gql('{ salesOrder(number: "SO-000001") { deliveries { id state } } }'))["data"]["salesOrder"]["deliveries"]
    assert delivery["state"] == "DEAD"
    refused = await rig.gql(RETRY, {"ids": [delivery["id"]]}, entity="BETA")
    assert refused["data"]["retryDeadDeliveries"]["retried"] == []  # another entity's: not there
    for variables, words in (({}, "or all: true"), ({"ids": [delivery["id"]], "all": True}, "not both"),
                             ({"ids": ["%%"]}, "not a ledgergate ID"),
                             ({"ids": ["U2FsZXNPcmRlcjox"]}, "not a Delivery ID")):
        [error] = (await rig.gql(RETRY, variables))["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and words in error["message"], error
    async with rig.world.db.engine.connect() as c:
        assert (await c.scalar(select(OutboxMessage.state))) == "DEAD"
    rig.crm.faults.fail_before = 0
    assert (await rig.gql(RETRY, {"ids": [delivery["id"]]}))["data"]["retryDeadDeliveries"]["retried"] == [delivery["id"]]
    await drain(d)
    assert rig.crm.applied == [("ACME", "SO-000001", 1)]


async def test_rounds_in_flight_together_keep_each_orders_versions_in_order(rig, records):
    for n in range(8):
        await ok(rig.gql, CREATE, {"input": order_input(records, n), "key": f"c{n}"})
        await ok(rig.gql, FULFIL, {"n": f"SO-{n + 1:06d}", "k": f"f{n}"})
        await ok(rig.gql, INVOICE, {"n": f"SO-{n + 1:06d}", "k": f"i{n}", "d": "2026-03-15"})
    rig.crm.faults.delay = 0.005
    d = rig.dispatcher(dataclasses.replace(NOW, batch=3))  # small rounds: several overlap
    while await d.rounds():
        pass
    for n in range(1, 9):
        assert [v for _, number, v in rig.crm.applied if number == f"SO-{n:06d}"] == [1, 2, 3]
    assert len(rig.crm.applied) == len(set(rig.crm.applied)) == 24
