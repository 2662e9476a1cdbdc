"""The demo CRM's write side: the finance status of sales orders, as the ledger reports it.

    POST /crm/ledger/sales-orders        a sales order's status (the ledger's outbox message)
    POST /crm/ledger/sales-order-notes   a note written in the ledger on an order
    GET  /crm/ledger/sales-orders        every order the CRM holds
    GET  /crm/ledger/sales-orders/{company}/{number}   one, as the CRM shows it, with its notes

A note written in the CRM (`add_note`) is stored with origin `crm` and pushed to the
ledger by the caller (`sources.push`); notes that came from the ledger are never pushed back.

The POST behaves as payment APIs do (Stripe's `Idempotency-Key`): the header is required;
the first request under a key is applied and its answer stored; any later request under
that key gets the stored answer and changes nothing (the same key with another body is a
422). Each message carries the order's version: one older than what the CRM holds is
acknowledged and ignored, so a status never goes back, whatever the order of arrival.

What it holds survives a restart when it is given a state file (`crm_state`).

`faults` lets tests and benchmarks make the CRM misbehave on purpose: refuse the next
requests with 500 before applying them, or apply them and then answer 500 (the case an
idempotency key exists for).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .crm_state import CrmState
from .routes import JSONResponse, error

PATH = "/crm/ledger/sales-orders"
NOTES_PATH = "/crm/ledger/sales-order-notes"
FIELDS = ("number", "version", "state", "customer", "currency", "total", "amountInvoiced",
          "amountPaid", "amountDue", "invoiceNumber", "paidOn", "updatedAt", "source")


@dataclasses.dataclass
class Faults:
    """What the next requests suffer: `fail_before` are answered 500 without being applied,
    then `fail_after` are applied and answered 500 all the same; `delay` seconds before
    answering (a slow CRM)."""

    fail_before: int = 0
    fail_after: int = 0
    delay: float = 0.0


class LedgerOrders:
    """The CRM's copy of each ledger sales order, and its idempotency store."""

    def __init__(self, state: CrmState | None = None) -> None:
        self.state = state or CrmState()
        self.orders: dict[tuple[str, str], dict[str, Any]] = {
            (o["company"], o["number"]): o for o in self.state.get("orders", [])}
        # Idempotency-Key → (the request's body, the answer's status and JSON).
        self.keys: dict[str, tuple[bytes, int, dict]] = {
            key: (body.encode("latin-1"), status, answer)
            for key, (body, status, answer) in self.state.get("keys", {}).items()}
        # Every (company, number, version) applied, in order: tests check nothing twice.
        self.applied: list[tuple[str, str, int]] = []
        # Every POST by its Idempotency-Key, replays and failures included.
        self.requests: dict[str, int] = {}
        self.faults = Faults()
        # (company, number) → notes, each {id, author, text, origin}.
        self.notes: dict[tuple[str, str], list[dict[str, Any]]] = {
            (company, number): notes for company, number, notes in self.state.get("notes", [])}
        self._lock = asyncio.Lock()

    def routes(self) -> list[Route]:
        return [
            Route(PATH, self._post, methods=["POST"]),
            Route(NOTES_PATH, self._post_note, methods=["POST"]),
            Route(PATH, self._list, methods=["GET"]),
            Route(PATH + "/{company:str}/{number:str}", self._one, methods=["GET"]),
        ]

    async def _post(self, request: Request) -> Response:
        return await self._keyed(request, self._apply)

    async def _post_note(self, request: Request) -> Response:
        return await self._keyed(request, self._apply_note)

    def add_note(self, company: str, number: str, author: str, text: str) -> dict[str, Any]:
        """A note written in the CRM on a ledger order: stored, to be pushed by the caller."""
        notes = self.notes.setdefault((company, number), [])
        note = {"id": f"CRM-N{sum(map(len, self.notes.values())) + 1}", "author": author,
                "text": text, "origin": "crm"}
        notes.append(note)
        self._keep()
        return note

    def _keep(self) -> None:
        if not self.state.kept:  # in memory only: nothing to write (a benchmark's 10,000 keys)
            return
        self.state.save(
            orders=list(self.orders.values()),
            keys={key: [body.decode("latin-1"), status, answer]
                  for key, (body, status, answer) in self.keys.items()},
            notes=[[*where, notes] for where, notes in self.notes.items()],
        )

    async def _keyed(self, request: Request, apply) -> Response:
        key = request.headers.get("idempotency-key", "")
        if not key or len(key) > 255:
            return error(400, "bad_request", "an Idempotency-Key header (1-255 characters) is required")
        body = await request.body()
        self.requests[key] = self.requests.get(key, 0) + 1
        async with self._lock:
            if self.faults.delay:
                await asyncio.sleep(self.faults.delay)
            if self.faults.fail_before:
                self.faults.fail_before -= 1
                return error(500, "unavailable", "the CRM is having a bad moment (nothing applied)")
            stored = self.keys.get(key)
            if stored is not None:
                if stored[0] != body:
                    return error(422, "idempotency_key_reused",
                                 "this Idempotency-Key was used with another request")
                return JSONResponse(stored[2], stored[1], headers={"Idempotent-Replayed": "true"})
            status, answer = apply(body)
            if status < 500:
                self.keys[key] = (body, status, answer)
                self._keep()
            if self.faults.fail_after and status == 200:
                self.faults.fail_after -= 1
                return error(500, "unavailable", "the CRM applied it, then failed to answer")
            return JSONResponse(answer, status)

    def _apply(self, body: bytes) -> tuple[int, dict]:
        try:
            message = orjson.loads(body)
        except orjson.JSONDecodeError:
            return 400, {"error": "bad_request", "message": "the body must be JSON"}
        if not isinstance(message, dict) or not isinstance(message.get("company"), str) \
                or not isinstance(message.get("number"), str) or not isinstance(message.get("version"), int):
            return 422, {"error": "invalid", "message": "company, number and version are required"}
        where = (message["company"], message["number"])
        held = self.orders.get(where)
        if held is not None and held["version"] >= message["version"]:
            return 200, {"applied": False, "version": held["version"],
                         "message": f"version {message['version']} is older than {held['version']}"}
        record = {name: message.get(name) for name in FIELDS}
        record["company"] = message["company"]
        # When the CRM took it (benchmarks measure the latency from the ledger's commit).
        record["receivedAt"] = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        self.orders[where] = record
        self.applied.append((*where, message["version"]))
        return 200, {"applied": True, "version": message["version"]}

    def _apply_note(self, body: bytes) -> tuple[int, dict]:
        try:
            note = orjson.loads(body)
        except orjson.JSONDecodeError:
            return 400, {"error": "bad_request", "message": "the body must be JSON"}
        needed = ("company", "number", "noteId", "author", "text")
        if not isinstance(note, dict) or not all(isinstance(note.get(k), str) for k in needed):
            return 422, {"error": "invalid", "message": f"{', '.join(needed)} are required"}
        notes = self.notes.setdefault((note["company"], note["number"]), [])
        if any(n["id"] == note["noteId"] for n in notes):
            return 200, {"applied": False}
        notes.append({"id": note["noteId"], "author": note["author"], "text": note["text"],
                      "origin": "ledgergate"})
        return 200, {"applied": True}

    async def _list(self, request: Request) -> Response:
        return JSONResponse(list(self.orders.values()))

    async def _one(self, request: Request) -> Response:
        found = self.orders.get((request.path_params["company"], request.path_params["number"]))
        if found is None:
            return error(404, "not_found", "no such sales order")
        where = (request.path_params["company"], request.path_params["number"])
        return JSONResponse({**found, "notes": self.notes.get(where, [])})


ORDER_FIELDS = ("customerId", "name", "kind", "stage", "amount", "currency", "projectId")
_FIELD_TYPES = {"amount": "Decimal", "currency": "String!"}


def sources_toml(base_url: str, *, timeout: float = 1.0, notes: bool = False,
                 push: dict | None = None, order_fields: bool = False) -> str:
    """A sources config with the demo CRM at `base_url` as a system that takes the ledger's
    sales order messages (and its notes, `notes`) and, with `push` (the keys of
    `[systems.crm.push]`), pushes signed events; its Opportunity type with the fields an
    order is made from (`order_fields`), else only its key and owner. For tests and
    benchmarks (`credentials = "crm"`: they supply the api key)."""
    deliveries = 'salesOrder = "/crm/ledger/sales-orders"\n'
    if notes:
        deliveries += 'salesOrderNote = "/crm/ledger/sales-order-notes"\n'
    pushes = "" if push is None else "[systems.crm.push]\n" + "".join(
        f"{key} = {value!r}\n".replace("'", '"') for key, value in push.items())
    fields = "".join(f'{name} = "{_FIELD_TYPES.get(name, "String")}"\n'
                     for name in (ORDER_FIELDS if order_fields else ()))
    return f"""
[systems.crm]
owner = "company"
kind = "rest"
base_url = "{base_url}"
auth = "api_key"
api_key_header = "X-API-Key"
credentials = "crm"
[systems.crm.policy]
timeout = {timeout}
deadline = {timeout}
[systems.crm.deliveries]
{deliveries}{pushes}[systems.crm.types.Opportunity]
url = "{base_url}/crm/opportunities/{{id}}"
batch_path = "/crm/opportunities"
[systems.crm.types.Opportunity.fields]
id = "ID!"
company = "String!"
{fields}"""
