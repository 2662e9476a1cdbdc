"""The demo CRM's side of the pushes (`crm_deals`): what its people do, what it refuses,
how it signs, and what it remembers (`crm_state`)."""

from __future__ import annotations

import httpx
import orjson
import pytest

from sources.demo.generate import generate_world
from sources.demo.services.crm import create_crm_app
from sources.demo.services.crm_deals import Pusher
from sources.push import HEADER, verify

KEY, SECRET = "crm-key", "push-secret"
ORDER = {"company": "SOFTCO", "number": "SO-000001", "version": 1, "state": "OPEN"}


@pytest.fixture(scope="module")
def world():
    return generate_world(7, 1.0)  # open and lost deals both


class Ledger:
    """Stands in for the gateway's /hooks/crm: checks each push's signature, answers `status`."""

    def __init__(self, status: int = 200):
        self.status, self.events = status, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        verify(SECRET.encode(), request.headers.get(HEADER), request.content)
        self.events.append(orjson.loads(request.content))
        return httpx.Response(self.status, json={"salesOrder": "SO-000009", "version": 1})


def _crm(world, ledger: Ledger | None, tmp_path):
    pusher = None if ledger is None else Pusher("http://ledger/hooks/crm", SECRET,
                                                 transport=httpx.MockTransport(ledger))
    app = create_crm_app(world, api_key=KEY, state_path=tmp_path / "crm.json", pusher=pusher)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://crm",
                             headers={"X-API-Key": KEY})


def _deal(world, stage: str):
    return next(o for o in world.master.opportunities if o.stage == stage)


async def test_winning_a_deal_pushes_a_signed_event_and_is_remembered(world, tmp_path):
    ledger = Ledger()
    deal = _deal(world, "open")
    async with _crm(world, ledger, tmp_path) as crm:
        won = await crm.post(f"/crm/opportunities/{deal.id}/win")
        assert won.status_code == 200 and won.json()["push"] == {
            "delivered": True, "status": 200, "answer": {"salesOrder": "SO-000009", "version": 1}}
        assert (await crm.get(f"/crm/opportunities/{deal.id}")).json()["stage"] == "won"
        again = await crm.post(f"/crm/opportunities/{deal.id}/win")  # pushed again, same event
        assert again.status_code == 200
    assert [e["id"] for e in ledger.events] == [f"crm-won-{deal.id}"] * 2
    assert ledger.events[0] == {"id": f"crm-won-{deal.id}", "type": "opportunity.closed_won", "data": {
        "company": deal.company, "recordType": "Opportunity", "recordId": deal.id}}
    async with _crm(world, None, tmp_path) as restarted:  # a new process, the same file
        assert (await restarted.get(f"/crm/opportunities/{deal.id}")).json()["stage"] == "won"


async def test_what_the_crm_refuses_changes_nothing(world, tmp_path):
    ledger = Ledger()
    async with _crm(world, ledger, tmp_path) as crm:
        missing = await crm.post("/crm/opportunities/OPP-999999/win")
        lost = _deal(world, "lost")
        refused = await crm.post(f"/crm/opportunities/{lost.id}/win")
        no_order = await crm.post("/crm/ledger/sales-orders/SOFTCO/SO-000001/notes", json={"author": "a", "text": "t"})
        assert (missing.status_code, refused.status_code, no_order.status_code) == (404, 409, 404)
        assert (await crm.get(f"/crm/opportunities/{lost.id}")).json()["stage"] == "lost"
        put = await crm.post("/crm/ledger/sales-orders", json=ORDER, headers={"Idempotency-Key": "k1"})
        assert put.status_code == 200
        notes = "/crm/ledger/sales-orders/SOFTCO/SO-000001/notes"
        bad_json = await crm.post(notes, content=b"{", headers={"Content-Type": "application/json"})
        blank = await crm.post(notes, json={"author": " ", "text": "t"})
        no_text = await crm.post(notes, json={"author": "a"})
        assert [r.status_code for r in (bad_json, blank, no_text)] == [400, 422, 422]
        assert (await crm.get("/crm/ledger/sales-orders/SOFTCO/SO-000001")).json()["notes"] == []
    assert ledger.events == []


async def test_a_note_is_pushed_and_a_ledger_that_cannot_be_reached_is_reported(world, tmp_path):
    ledger = Ledger(status=503)
    async with _crm(world, ledger, tmp_path) as crm:
        await crm.post("/crm/ledger/sales-orders", json=ORDER, headers={"Idempotency-Key": "k1"})
        noted = await crm.post("/crm/ledger/sales-orders/SOFTCO/SO-000001/notes",
                               json={"author": "Dana", "text": "Call me"})
        assert noted.status_code == 201
        body = noted.json()
        assert body["note"] == {"id": "CRM-N1", "author": "Dana", "text": "Call me", "origin": "crm"}
        assert body["push"]["delivered"] is False and body["push"]["status"] == 503
    # Retried (a 503 is passing), each attempt signed afresh; the note stays in the CRM.
    assert [e["type"] for e in ledger.events] == ["note.added"] * 3
    async with _crm(world, None, tmp_path) as crm:  # run alone: no ledger to push to
        held = (await crm.get("/crm/ledger/sales-orders/SOFTCO/SO-000001")).json()
        assert [n["text"] for n in held["notes"]] == ["Call me"]
        alone = (await crm.post(f"/crm/opportunities/{_deal(world, 'open').id}/win")).json()
        assert alone["push"] == {"delivered": False, "error": "this CRM has no ledger to push to"}
