"""Subscriptions over a real WebSocket (`graphql-transport-ws`) to the app served by uvicorn
on loopback: each change of the subscriber's entity arrives, in order, and only its
entity's; a bad token is refused at connection_init; a disabled client's socket closes."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import httpx
import pytest
import websockets

from gateway.app import create_app
from gateway.auth import identities
from ledger import outbox
from ledger.documents import sales_orders as so
from ledger.documents.sales_order import OrderLineDraft
from ledger.store import LedgerDatabase
from sources.demo.services.serve import serving
from tests.callers import fetch_token, provision_tester
from tests.conftest import PG_URL, make_settings

CHANGED = "subscription($id: ID) { salesOrderChanged(id: $id) { number state version } }"
DELIVERY = "subscription { deliveryChanged { topic salesOrder { number } } }"


class Socket:
    def __init__(self, ws):
        self.ws = ws

    async def send(self, message: dict) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, timeout: float = 5.0) -> dict:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))


async def connect(url: str, token: str | None):
    ws = await websockets.connect(url.replace("http", "ws") + "/graphql",
                                  subprotocols=["graphql-transport-ws"])
    socket = Socket(ws)
    await socket.send({"type": "connection_init",
                       "payload": {} if token is None else {"Authorization": f"Bearer {token}"}})
    return socket


@pytest.fixture
async def served(world):
    app = create_app(make_settings(), db=world.db)
    # Revocation is seen within the actor cache's life plus the socket's recheck: short here.
    app.state.principals.actor_ttl = 0.1
    app.state.subscriptions.recheck = 0.2
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        party = await provision_tester(world.db)
        yield url, http, party


async def _order(world_or_db, entity, n: int) -> so.Change:
    db = getattr(world_or_db, "db", world_or_db)
    async with db.session(entity) as s:
        return await so.create_order(s, so.OrderDraft("C1", "USD", (OrderLineDraft("X", Decimal(1), Decimal(5)),)),
                                     f"k{n}")


async def _fulfil(world, entity, number: str, key: str) -> None:
    async with world.db.session(entity) as s:
        await so.fulfil(s, number, key)


async def test_each_change_of_the_entity_arrives_in_order_and_only_its_own(world, served):
    url, http, party = served
    socket = await connect(url, await fetch_token(http, party, "ACME"))
    assert (await socket.receive())["type"] == "connection_ack"
    await socket.send({"id": "1", "type": "subscribe", "payload": {"query": CHANGED}})
    await asyncio.sleep(0.2)  # subscribed before the changes
    await _order(world, world.beta, 1)            # another entity's: not seen
    await _order(world, world.acme, 2)
    await _fulfil(world, world.acme, "SO-000001", "f")
    seen = [await socket.receive() for _ in range(2)]
    assert [(m["type"], m["payload"]["data"]["salesOrderChanged"]) for m in seen] == [
        ("next", {"number": "SO-000001", "state": "OPEN", "version": 1}),
        ("next", {"number": "SO-000001", "state": "FULFILLED", "version": 2})]
    with pytest.raises(TimeoutError):
        await socket.receive(timeout=0.5)
    await socket.ws.close()


async def test_a_bad_or_missing_token_is_refused_at_connection_init(served):
    url, _, _ = served
    for token in (None, "not-a-token"):
        socket = await connect(url, token)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await socket.receive()
        assert closed.value.rcvd.code == 4403


async def test_a_subscription_needs_documents_read(world, served):
    url, http, party = served
    socket = await connect(url, await fetch_token(http, party, "ACME", scope="ledger:read"))
    assert (await socket.receive())["type"] == "connection_ack"
    await socket.send({"id": "1", "type": "subscribe", "payload": {"query": CHANGED}})
    answer = await socket.receive()
    assert answer["type"] == "error"
    [error] = answer["payload"]
    assert error["extensions"] == {"code": "FORBIDDEN", "scopes": ["documents:read"]}
    await socket.send({"id": "2", "type": "subscribe", "payload": {"query": "subscription { salesOrderChange { number } }"}})
    [error] = (await socket.receive())["payload"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "Did you mean" not in error["message"]
    await socket.ws.close()


async def test_a_disabled_clients_socket_closes(world, served):
    url, http, party = served
    socket = await connect(url, await fetch_token(http, party, "ACME"))
    assert (await socket.receive())["type"] == "connection_ack"
    await identities.disable_client(world.db, party.client_id)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await socket.receive(timeout=10)
    assert closed.value.rcvd.code == 4403 and "revoked" in closed.value.rcvd.reason


async def test_delivery_changes_arrive(world, served):
    url, http, party = served
    socket = await connect(url, await fetch_token(http, party, "ACME"))
    assert (await socket.receive())["type"] == "connection_ack"
    await socket.send({"id": "d", "type": "subscribe", "payload": {"query": DELIVERY}})
    await asyncio.sleep(0.2)
    async with world.db.session(world.acme) as s:
        await so.create_order(s, so.OrderDraft("C1", "USD", (OrderLineDraft("X", Decimal(1), Decimal(5)),)),
                              "k", notify=("crm",))
    [claimed] = await outbox.claim(world.db.engine, "t")
    await outbox.delivered(world.db.engine, claimed, "t", announcements=world.db.announcements)
    message = await socket.receive()
    assert message["payload"]["data"]["deliveryChanged"] == {"topic": "salesOrder", "salesOrder": {"number": "SO-000001"}}
    await socket.ws.close()



async def test_a_change_made_by_another_process_reaches_the_subscriber(world, served):
    """On PostgreSQL another gateway process is another engine on the same database: its
    NOTIFY arrives. SQLite serves one process, whose engine this is."""
    url, http, party = served
    socket = await connect(url, await fetch_token(http, party, "ACME"))
    assert (await socket.receive())["type"] == "connection_ack"
    await socket.send({"id": "1", "type": "subscribe", "payload": {"query": CHANGED}})
    await asyncio.sleep(0.2)
    other = LedgerDatabase.from_url(world.db.engine.url.render_as_string(hide_password=False)) \
        if PG_URL else world.db
    try:
        await _order(other, world.acme, 1)
    finally:
        if other is not world.db:
            await other.dispose()
    message = await socket.receive()
    assert message["payload"]["data"]["salesOrderChanged"]["number"] == "SO-000001"
    await socket.ws.close()
