"""A REST source system in process: records served by a batch path and an item path, with
the calls it received counted, optional API-key or OAuth2 client-credentials protection,
and a `respond` hook that replaces the data answer to inject garbage."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BATCH_PATH = "/crm/sales-orders"
ITEM_PATH = "/usage/records/{id}"
TOKEN_PATH = "/oauth/token"


class RestSystem:
    """Attributes:
        records: raw JSON records by id, served as they are.
        calls: the data requests received (path and query), in order.
        token_requests: how many tokens were issued.
        max_in_flight: the most data requests handled at once.
        respond: when set, answers every data request instead of the records.
        items_envelope: answer batches as {"items": [...]} instead of a bare list.
    """

    def __init__(
        self,
        records: dict[str, dict[str, Any]] | None = None,
        *,
        api_key: str | None = None,
        client: tuple[str, str] | None = None,
        delay: float = 0.0,
    ):
        self.records = dict(records or {})
        self.api_key = api_key
        self.client = client
        self.delay = delay
        self.calls: list[str] = []
        self.token_requests = 0
        self.tokens: set[str] = set()
        self.in_flight = 0
        self.max_in_flight = 0
        self.respond: Callable[[Request], Response] | None = None
        self.items_envelope = False
        self.last_scope: str | None = None

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(BATCH_PATH, self._batch),
                Route(ITEM_PATH.replace("{id}", "{id:str}"), self._item),
                Route(TOKEN_PATH, self._token, methods=["POST"]),
            ]
        )

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    async def _batch(self, request: Request) -> Response:
        return await self._data(request, lambda: self._batch_body(request))

    def _batch_body(self, request: Request) -> Response:
        ids = request.query_params.get("ids", "").split(",")
        found = [self.records[i] for i in ids if i in self.records]
        return JSONResponse({"items": found} if self.items_envelope else found)

    async def _item(self, request: Request) -> Response:
        def body() -> Response:
            found = self.records.get(request.path_params["id"])
            if found is None:
                return JSONResponse({"error": "not_found"}, 404)
            return JSONResponse(found)

        return await self._data(request, body)

    async def _data(self, request: Request, body: Callable[[], Response]) -> Response:
        self.calls.append(request.url.path + ("?" + request.url.query if request.url.query else ""))
        refused = self._refusal(request)
        if refused is not None:
            return refused
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            return self.respond(request) if self.respond is not None else body()
        finally:
            self.in_flight -= 1

    def _refusal(self, request: Request) -> Response | None:
        if self.api_key is not None and request.headers.get("x-api-key") != self.api_key:
            return JSONResponse({"error": "unauthorized"}, 401)
        if self.client is not None:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or token not in self.tokens:
                return JSONResponse({"error": "invalid_token"}, 401)
        return None

    async def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        given = tuple(base64.b64decode(value).decode().split(":", 1)) if scheme == "Basic" else None
        if given != self.client or form.get("grant_type") != "client_credentials":
            return JSONResponse(
                {"error": "invalid_client", "error_description": "unknown client or wrong secret"}, 401
            )
        self.token_requests += 1
        token = secrets.token_urlsafe(16)
        self.tokens.add(token)
        self.last_scope = form.get("scope")
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 3600})
