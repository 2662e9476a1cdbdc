"""What the demo CRM's sales people do that the ledger hears of by signed push
(`sources.push`, received at the gateway's `POST /hooks/crm`):

    POST /crm/opportunities/{id}/win                        an open deal is won
    POST /crm/ledger/sales-orders/{company}/{number}/notes  {"author", "text"}: a note on an order

Winning sets the opportunity's stage to `won` (closed today) and pushes
`opportunity.closed_won`; the ledger makes the sales order, and its outbox then reports the
order back (`crm_ledger`). Winning a deal already won pushes the same event again (same id:
the ledger answers as the first time), which is how a push that failed is retried. A note is
stored with origin `crm` and pushed as `note.added`; the ledger never sends it back.

Each answer carries the ledger's (`push`: its status and body), or why it could not be
reached. Without a push URL and secret (a CRM run alone), the change is made and not pushed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sources.push import HEADER, sign

from .crm_ledger import PATH, LedgerOrders
from .crm_state import CrmState
from .routes import Collection, JSONResponse, error

ATTEMPTS = 3


class Pusher:
    """Signed events to the ledger's hook `url`: retried on a refused connection, a timeout
    or a 5xx (a short while: the sales person is waiting), each attempt signed afresh."""

    def __init__(self, url: str, secret: str, transport: httpx.AsyncBaseTransport | None = None):
        self.url, self.secret = url, secret.encode()
        self.transport = transport

    async def push(self, event: dict[str, Any]) -> dict[str, Any]:
        body = orjson.dumps(event)
        async with httpx.AsyncClient(timeout=5.0, transport=self.transport) as client:
            for attempt in range(ATTEMPTS):
                try:
                    answer = await client.post(self.url, content=body, headers={
                        HEADER: sign(self.secret, body), "Content-Type": "application/json"})
                except httpx.TransportError as failed:
                    outcome = {"delivered": False, "error": f"{type(failed).__name__}: {failed}"}
                else:
                    outcome = {"delivered": answer.status_code < 300, "status": answer.status_code,
                               "answer": _json(answer)}
                    if answer.status_code < 500:
                        return outcome
                await asyncio.sleep(0.2 * 2**attempt)
        return outcome


def _json(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return answer.text[:500]


class Deals:
    def __init__(self, opportunities: Collection, orders: LedgerOrders, pusher: Pusher | None,
                 state: CrmState):
        self.opportunities, self.orders, self.pusher, self.state = opportunities, orders, pusher, state
        # Deals won here: opportunity id → the day; applied again at every start.
        self.won: dict[str, str] = dict(state.get("won", {}))
        for deal, day in self.won.items():
            self._mark_won(deal, dt.date.fromisoformat(day))

    def routes(self) -> list[Route]:
        return [
            Route(self.opportunities.path + "/{id:str}/win", self._win, methods=["POST"]),
            Route(PATH + "/{company:str}/{number:str}/notes", self._note, methods=["POST"]),
        ]

    def _mark_won(self, deal: str, day: dt.date) -> None:
        record = self.opportunities.get(deal)
        if record is not None:
            self.opportunities.put(dataclasses.replace(record, stage="won", close_date=day))

    async def _win(self, request: Request) -> Response:
        deal = request.path_params["id"]
        record = self.opportunities.get(deal)
        if record is None:
            return error(404, "not_found", f"no Opportunity {deal!r}")
        if record.stage == "lost":
            return error(409, "lost", f"{deal} was lost: it cannot be won")
        if record.stage == "open":
            today = dt.date.today()
            self.won[deal] = today.isoformat()
            self._mark_won(deal, today)
            if self.state.kept:
                self.state.save(won=self.won)
        event = {"id": f"crm-won-{deal}", "type": "opportunity.closed_won",
                 "data": {"company": record.company, "recordType": "Opportunity", "recordId": deal}}
        return JSONResponse({"opportunity": self.opportunities.json(deal), "push": await self._push(event)})

    async def _note(self, request: Request) -> Response:
        company, number = request.path_params["company"], request.path_params["number"]
        if (company, number) not in self.orders.orders:
            return error(404, "not_found", f"the CRM holds no ledger order {company} {number}")
        try:
            given = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return error(400, "bad_request", "the body must be JSON")
        if not isinstance(given, dict) or not all(
                isinstance(given.get(k), str) and given[k].strip() for k in ("author", "text")):
            return error(422, "invalid", "author and text are required (non-empty strings)")
        note = self.orders.add_note(company, number, given["author"], given["text"])
        event = {"id": f"crm-note-{note['id']}", "type": "note.added",
                 "data": {"company": company, "salesOrder": number, "noteId": note["id"],
                          "author": note["author"], "text": note["text"]}}
        return JSONResponse({"salesOrder": number, "note": note, "push": await self._push(event)}, 201)

    async def _push(self, event: dict[str, Any]) -> dict[str, Any]:
        if self.pusher is None:
            return {"delivered": False, "error": "this CRM has no ledger to push to"}
        return await self.pusher.push(event)
