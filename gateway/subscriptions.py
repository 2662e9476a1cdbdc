"""GraphQL subscriptions over WebSocket (`graphql-transport-ws`, Strawberry's handler on
Starlette's WebSocket) at `/graphql`.

The bearer token travels in `connection_init`'s payload (`{"Authorization": "Bearer …"}`,
as browsers cannot set headers on a WebSocket) and is checked there exactly as on HTTP; a
missing or bad one closes the socket (4403). The connection then acts for that token's
caller: its entity confines every event, its scopes are checked on every subscription
(the same `ScopeGuard`). Every `recheck` seconds the token is checked again, as a request
would be: once it has expired, or its client or user has been disabled, the socket closes
(4403, `token expired or revoked`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid

from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types.unset import UNSET

from resolvers.context import Limits, RequestContext
from resolvers.errors import BAD_USER_INPUT, INTERNAL, MASKED_MESSAGE, CodedError
from resolvers.suggestions import without_suggestions

from .change_bus import ChangeBus

log = logging.getLogger("ledgergate.subscriptions")
REVOKED = 4403


class SocketContext:
    """One connection's context: `RequestContext` once `connection_init` authenticated it."""

    connection_params = None

    def __init__(self, websocket, bus: ChangeBus):
        self.websocket = websocket
        self.changes = bus
        self.request: RequestContext | None = None
        self.watch: asyncio.Task | None = None

    def __getattr__(self, name: str):
        request = self.__dict__.get("request")
        if request is None:
            raise AttributeError(name)
        return getattr(request, name)


def _coded(error: dict) -> dict:
    """An error as /graphql would show it (`resolvers.errors.format_error`): with a code,
    no "Did you mean" suggestion, and an unexpected failure's text masked (and logged)."""
    extensions = error.get("extensions") or {}
    if "code" not in extensions:
        if "path" in error:  # raised while resolving with no code of ours: unexpected
            log.error("unexpected error in a subscription at %s: %s", error["path"], error["message"])
            return {**error, "message": MASKED_MESSAGE, "extensions": {"code": INTERNAL}}
        extensions = {**extensions, "code": BAD_USER_INPUT}  # the document itself is wrong
    return {**error, "message": without_suggestions(error["message"]), "extensions": extensions}


class _Handler(BaseGraphQLTransportWSHandler):
    async def send_message(self, message) -> None:
        payload = message.get("payload")
        if message.get("type") == "error" and isinstance(payload, list):
            message = {**message, "payload": [_coded(e) for e in payload]}
        elif message.get("type") == "next" and isinstance(payload, dict) and payload.get("errors"):
            message = {**message, "payload": {**payload, "errors": [_coded(e) for e in payload["errors"]]}}
        await super().send_message(message)


class SubscriptionsView(GraphQL):
    graphql_transport_ws_handler_class = _Handler

    def __init__(self, schema, db, principals, limits: Limits, sources, bus: ChangeBus, *,
                 recheck: float = 5.0, connections_per_request: int = 2, connection_timeout: float = 5.0):
        super().__init__(schema, graphql_ide=None, allow_queries_via_get=False,
                         subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
                         connection_init_wait_timeout=dt.timedelta(seconds=10))
        self.db, self.principals, self.limits, self.sources, self.bus = db, principals, limits, sources, bus
        self.recheck = recheck
        self.connections_per_request, self.connection_timeout = connections_per_request, connection_timeout

    async def run(self, request, context=UNSET, root_value=UNSET):
        context = SocketContext(request, self.bus)
        try:
            return await super().run(request, context=context, root_value=root_value)
        finally:
            if context.watch is not None:
                context.watch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await context.watch

    async def on_ws_connect(self, context: SocketContext):
        params = context.connection_params or {}
        authorization = params.get("Authorization", params.get("authorization"))
        if not isinstance(authorization, str):
            raise ConnectionRejectionError({"message": "connection_init needs the bearer token: "
                                                       "{\"Authorization\": \"Bearer …\"}"})
        headers = {"authorization": authorization}
        try:
            principal = await self.principals.principal(headers)
        except CodedError as error:
            raise ConnectionRejectionError({"message": str(error)}) from None
        context.request = RequestContext(
            self.db, principal, self.limits, self.sources, request_id=f"ws-{uuid.uuid4().hex[:16]}",
            connections=self.connections_per_request, connection_timeout=self.connection_timeout)
        context.watch = asyncio.create_task(self._watch(context, headers))
        return UNSET

    async def _watch(self, context: SocketContext, headers: dict) -> None:
        while True:
            await asyncio.sleep(self.recheck)
            try:
                await self.principals.principal(headers)
            except CodedError as error:
                log.info("subscription socket closed: %s", error)
                with contextlib.suppress(Exception):
                    await context.websocket.close(code=REVOKED, reason="token expired or revoked")
                return
