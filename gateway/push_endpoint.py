"""`POST /hooks/{system}`: signed events pushed by a source system (`[systems.NAME.push]`).

Before anything is read from a push: its size (413 over `max_bytes`), then its signature
and timestamp (`sources.push`; 401 unsigned, badly signed or stale). Every refusal leaves
a `push_refused` row in the audit log and changes nothing. Then, by the sender's event id
(`ledger.inbound`): an event seen before gets its stored answer again, changing nothing
(the same id with another body is a 409).

Events understood:

- `opportunity.closed_won`, `data: {company, recordType, recordId}`: a sales order for the
  record, read live through the system's connector (`resolvers.documents.from_source`), in
  the company the push names. A record that already made an order is acknowledged and
  ignored (`ignored: true`): an older or repeated event never changes a newer order.
- `note.added`, `data: {company, salesOrder, noteId, author, text}`: a note on the order,
  from the system (it is shared with every other system that takes notes, never sent back).

A push whose work failed for a passing reason (the system could not be read back) is
answered 503 and not stored, so the sender's retry is processed again; any other answer is
stored and repeated for every redelivery.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from ledger import audit, inbound
from ledger.audit import AuditTrail
from ledger.documents import sales_orders as orders
from ledger.errors import Conflict, NotFound, Rejected
from ledger.model import Entity
from ledger.store import LedgerDatabase
from resolvers.documents.from_source import order_from_source
from resolvers.errors import CodedError
from resolvers.sources.catalog import SourceCatalog
from sources.push import HEADER, PushRefused, verify

from .request_id import request_id

log = logging.getLogger("ledgergate.push")
CLOSED_WON = "opportunity.closed_won"
NOTE_ADDED = "note.added"


def _json(content: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(content), status, headers=headers, media_type="application/json")


class PushEndpoint:
    def __init__(self, db: LedgerDatabase, catalog: SourceCatalog):
        self.db, self.catalog = db, catalog

    async def handle(self, request: Request) -> Response:
        system = request.path_params["system"]
        rid = request_id(request.headers)
        push = self.catalog.pushes.get(system)
        if push is None:
            return _json({"error": "not_found", "message": f"no system {system!r} pushes here"}, 404)
        settings, secret = push
        try:
            body = await _read(request, settings.max_bytes)
            signed_at = verify(secret, request.headers.get(HEADER), body, tolerance=settings.tolerance)
            event = _event(body)
        except PushRefused as refused:
            await audit.record(self.db, [AuditTrail(rid, client_id=f"push:{system}").event(
                audit.PUSH_REFUSED, refused.code, {"system": system, "reason": str(refused)})])
            return _json({"error": refused.code, "message": str(refused)}, refused.status,
                         headers={"X-Request-Id": rid})
        stored = await inbound.earlier(self.db.engine, system, event["id"])
        if stored is not None:
            if stored.body_sha256 != inbound.body_hash(body):
                await audit.record(self.db, [AuditTrail(rid, client_id=f"push:{system}").event(
                    audit.PUSH_REFUSED, "event_id_reused", {"system": system, "event": event["id"]})])
                return _json({"error": "event_id_reused",
                              "message": f"event {event['id']} was received with another body"}, 409)
            return _json(stored.answer, stored.status, headers={"Idempotent-Replayed": "true"})
        entity_id, status, answer = await self._apply(system, event, rid)
        if status < 500:
            status, answer = await inbound.remember(
                self.db.engine, system=system, event_id=event["id"], body=body, signed_at=signed_at,
                entity_id=entity_id, status=status, answer=answer)
        return _json(answer, status, headers={"X-Request-Id": rid})

    async def _apply(self, system: str, event: dict, rid: str) -> tuple[int | None, int, dict]:
        kinds = {CLOSED_WON: ("recordType", "recordId"), NOTE_ADDED: ("salesOrder", "noteId", "author", "text")}
        if event["type"] not in kinds:
            return None, 422, {"error": "unknown_event", "message": f"event type {event['type']!r} "
                               f"is not one ledgergate acts on ({', '.join(kinds)})"}
        data = event["data"]
        needed = ("company", *kinds[event["type"]])
        if not all(isinstance(data.get(k), str) and data[k] for k in needed):
            return None, 422, {"error": "invalid", "message": f"data needs {', '.join(needed)} (strings)"}
        company = data["company"]
        async with self.db.engine.connect() as connection:
            entity_id = await connection.scalar(select(Entity.id).where(Entity.code == company))
        if entity_id is None:
            return None, 422, {"error": "invalid", "message": f"no company {company!r}"}
        trail = AuditTrail(rid, client_id=f"push:{system}", entity_id=entity_id)
        operation = "createSalesOrderFromPush" if event["type"] == CLOSED_WON else "addSalesOrderNoteFromPush"
        detail = {"system": system, "event": event["id"],
                  **{k: data[k][:200] for k in needed if k not in ("company", "text")}}

        async def before_commit(session, change) -> None:
            await audit.append(session, [trail.event(audit.MUTATION, audit.OK, {
                "operation": operation, **detail, "salesOrder": change.number,
                "version": change.version})])

        key, client = f"push:{event['id']}"[:200], f"push:{system}"
        try:
            if event["type"] == NOTE_ADDED:
                notify = tuple(s for s in self.catalog.deliveries
                               if self.catalog.delivers(s, orders.NOTE_TOPIC))
                async with self.db.session(entity_id) as session:
                    change = await orders.add_note(
                        session, data["salesOrder"], data["author"], data["text"], key, client=client,
                        origin=system, external_id=data["noteId"], notify=notify,
                        before_commit=before_commit)
                return entity_id, 200, {"salesOrder": change.number, "added": not change.replayed}
            draft = await order_from_source(self.catalog, system, data["recordType"], data["recordId"], company)
            async with self.db.session(entity_id) as session:
                change = await orders.create_order(
                    session, draft, key, client=client,
                    notify=(system,) if self.catalog.delivers(system, orders.TOPIC) else (),
                    before_commit=before_commit)
        except CodedError as error:
            code = error.extensions.get("code")
            if code in ("SOURCE_UNAVAILABLE", "SOURCE_TIMEOUT"):
                return entity_id, 503, {"error": "unavailable", "message": str(error)}
            return entity_id, 422, {"error": "invalid", "message": str(error)}
        except NotFound as error:
            return entity_id, 422, {"error": "invalid", "message": str(error)}
        except Rejected as error:
            return entity_id, 422, {"error": "invalid", "message": str(error),
                                    "violations": [{"path": v.path, "message": v.message}
                                                   for v in error.violations]}
        except Conflict as error:
            if "already made sales order" in str(error):
                return entity_id, 200, {"ignored": True, "message": str(error)}
            return entity_id, 409, {"error": "conflict", "message": str(error)}
        return entity_id, 200, {"salesOrder": change.number, "version": change.version}


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PushRefused(413, "too_large", f"a push is at most {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PushRefused(413, "too_large", f"a push is at most {limit} bytes")
    return bytes(body)


def _event(body: bytes) -> dict:
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise PushRefused(400, "bad_request", "the push's body is not JSON") from None
    if not (isinstance(event, dict) and isinstance(event.get("id"), str) and 0 < len(event["id"]) <= 128
            and isinstance(event.get("type"), str) and isinstance(event.get("data"), dict)):
        raise PushRefused(400, "bad_request", "a push is {\"id\": ≤128 characters, \"type\", \"data\": {…}}")
    return event
