"""The REST routes every demo system serves for its record types.

For each record type, under the path of its deep link (`records.RECORD_PATHS`):

- ``GET /<system>/<path>/{id}``: the record as JSON, or 404 ``{"error": "not_found"}``; the
  deep link. A browser (``Accept: text/html``) gets it as a page (`record_page`); a person
  signed in (`people`) sees the `compensation` fields only if their role sees pay;
- ``GET /<system>/<path>?ids=A,B``: the records with those ids as a JSON list, in the order
  asked, unknown ids left out (a batch endpoint for connectors);
- ``POST /<system>/<path>`` with ``{"ids": [...]}``: the same batch, for id lists too long
  for a URL;
- ``GET /<system>/<path>`` without ``ids``: a page of all records (``limit``, default 100,
  at most 1,000; ``offset``), optionally filtered by equality on any top-level JSON key
  (``?customerId=CUST-0007&day=2026-03-14``).

A batch names at most `MAX_BATCH` ids; more is a 400.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..records import RECORD_PATHS, SourceRecord
from .encoding import record_json
from .people import PERSON_KEY, DemoPerson
from .record_page import record_page, wants_html

MAX_BATCH = 1000
DEFAULT_PAGE = 100
MAX_PAGE = 1000


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": code, "message": message}, status, headers=headers)


class Collection:
    """The records of one (system, record type), by id, with their JSON encoded once.

    `compensation`: JSON keys (pay) left out for a signed-in person whose role does not see
    pay; machine clients get every key (the gateway decides who may read what).
    """

    def __init__(
        self,
        system: str,
        record_type: str,
        records: Iterable[SourceRecord],
        *,
        compensation: Iterable[str] = (),
    ):
        self.system = system
        self.record_type = record_type
        self.compensation = frozenset(compensation)
        self.path = f"/{system}/{RECORD_PATHS[(system, record_type)]}"
        self.by_id: dict[str, SourceRecord] = {r.id: r for r in records}
        self._json: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.by_id)

    def get(self, record_id: str) -> SourceRecord | None:
        return self.by_id.get(record_id)

    def put(self, record: SourceRecord) -> None:
        """Add `record`, or replace the one with its id (a record changed in the system)."""
        self.by_id[record.id] = record
        self._json.pop(record.id, None)

    def json(self, record_id: str) -> dict[str, Any] | None:
        found = self._json.get(record_id)
        if found is None:
            record = self.by_id.get(record_id)
            if record is None:
                return None
            found = self._json[record_id] = record_json(record)
        return found

    def batch(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        found = (self.json(record_id) for record_id in dict.fromkeys(ids))
        return [record for record in found if record is not None]

    def routes(self) -> list[Route]:
        return [
            Route(self.path, self._many, methods=["GET", "POST"]),
            Route(self.path + "/{id:str}", self._one, methods=["GET"]),
        ]

    async def _one(self, request: Request) -> Response:
        record_id = request.path_params["id"]
        found = self.json(record_id)
        if found is None:
            return error(404, "not_found", f"no {self.record_type} {record_id!r}")
        person: DemoPerson | None = request.scope.get(PERSON_KEY)
        if person is not None and not person.sees_compensation:
            found = {key: value for key, value in found.items() if key not in self.compensation}
        if wants_html(request):
            who = person.user if person is not None else "the system's API client"
            return record_page(self.system, self.record_type, found, who)
        return JSONResponse(found)

    async def _many(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                body = orjson.loads(await request.body())
            except orjson.JSONDecodeError:
                return error(400, "bad_request", "the body must be JSON: {\"ids\": [...]}")
            ids = body.get("ids") if isinstance(body, dict) else None
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                return error(400, "bad_request", "the body must be {\"ids\": [strings]}")
            return self._batch(ids)
        if "ids" in request.query_params:
            raw = request.query_params["ids"]
            return self._batch([i for i in raw.split(",") if i])
        return self._page(request)

    def _batch(self, ids: list[str]) -> Response:
        if len(ids) > MAX_BATCH:
            return error(400, "bad_request", f"at most {MAX_BATCH} ids per batch, got {len(ids)}")
        return JSONResponse(self.batch(ids))

    def _page(self, request: Request) -> Response:
        filters = dict(request.query_params)
        try:
            limit = int(filters.pop("limit", DEFAULT_PAGE))
            offset = int(filters.pop("offset", 0))
        except ValueError:
            return error(400, "bad_request", "limit and offset must be integers")
        if not 0 < limit <= MAX_PAGE or offset < 0:
            return error(400, "bad_request", f"limit must be 1..{MAX_PAGE}, offset >= 0")
        matches = (self.json(record_id) for record_id in self.by_id)
        if filters:
            first = next(iter(self.by_id), None)
            unknown = sorted(set(filters) - set(self.json(first) if first else ()))
            if unknown:
                return error(400, "bad_request", f"unknown filter(s): {', '.join(unknown)}")
            matches = (
                record
                for record in matches
                if all(_as_text(record[key]) == value for key, value in filters.items())
            )
        page = []
        for n, record in enumerate(matches):
            if n >= offset + limit:
                break
            if n >= offset:
                page.append(record)
        return JSONResponse(page)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def collection_routes(collections: Iterable[Collection]) -> list[Route]:
    return [route for collection in collections for route in collection.routes()]
