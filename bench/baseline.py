"""The hand-written baseline: plain Starlette endpoints running the same SQL as ledgergate
and returning the same JSON, so a benchmark ratio measures GraphQL's overhead only."""

from __future__ import annotations

import contextlib

import orjson
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledger import reads, reports
from ledger.model import Entity
from ledger.money import CURRENCY_SCALES, currency_scale, from_minor
from ledger.store import LedgerDatabase
from ledger.tenancy import ALL_ENTITIES
from resolvers.ids import cursor, global_id


def _json(document) -> Response:
    return Response(orjson.dumps(document), media_type="application/json")


def create_baseline_app(database_url: str, entity_code: str) -> Starlette:
    db = LedgerDatabase.from_url(database_url)
    state: dict = {}

    async def entity() -> Entity:
        if "entity" not in state:
            async with db.session(None) as s:
                state["entity"] = await s.scalar(
                    select(Entity).where(Entity.code == entity_code).execution_options(**ALL_ENTITIES)
                )
        return state["entity"]

    async def lines(request: Request) -> Response:
        """Same as `account(code) { lines(first) { edges { cursor node { 8 scalars } } pageInfo } }`."""
        e = await entity()
        first = int(request.query_params.get("first", "100"))
        async with db.session(e.id) as s:
            account = await reads.account_by_code(s, request.query_params["code"])
            rows, has_next = await reads.line_page(
                s, (account.id, ()), date_from=None, date_to=None, first=first, after=None
            )
        edges = []
        for r in rows:
            scale = CURRENCY_SCALES[r.currency]
            edges.append({
                "cursor": cursor(r.date, r.id),
                "node": {
                    "id": global_id("JournalLine", r.id),
                    "lineNo": r.line_no,
                    "date": r.date.isoformat(),
                    "debit": str(from_minor(r.debit, scale)),
                    "credit": str(from_minor(r.credit, scale)),
                    "currency": r.currency,
                    "quantity": None if r.quantity is None else str(from_minor(r.quantity, r.quantity_scale)),
                    "memo": r.memo,
                },
            })
        page = {"hasNextPage": has_next, "endCursor": edges[-1]["cursor"] if edges else None}
        return _json({"data": {"account": {"lines": {"edges": edges, "pageInfo": page}}}})

    async def account(request: Request) -> Response:
        """Same as `account(code) { code name balance }`."""
        e = await entity()
        async with db.session(e.id) as s:
            found = await reads.account_by_code(s, request.query_params["code"])
            sums = await reports.account_balances(s, [found.id], None, None)
        debit, credit, quantity = sums.get(found.id, (0, 0, None))
        if found.type == "STATISTICAL":
            balance = from_minor(quantity or 0, found.quantity_scale)
        else:
            balance = from_minor(debit - credit, currency_scale(e.base_currency))
        return _json({"data": {"account": {"code": found.code, "name": found.name, "balance": str(balance)}}})

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        await db.dispose()

    return Starlette(routes=[Route("/lines", lines), Route("/account", account)], lifespan=lifespan)

