"""The /graphql endpoint: GraphQL over HTTP with coded errors and orjson encoding.

A thin endpoint of our own rather than Strawberry's view: every failure, including a
body that is not JSON, must come back as JSON with `extensions.code`, and the request
path should do no work per request beyond what the request needs.

Every response carries the request's `X-Request-Id` (`gateway.request_id`). What the
audit log must keep of a request (`ledger.audit`) is written once it ends, in one INSERT,
and only if there is something: a refused bearer token (`authentication_refused`), fields
refused for missing scopes (`access_denied`, read off the FORBIDDEN errors, one row), a
mutation that failed (`mutation`; a successful one wrote its row in its own transaction)
and sensitive source fields returned (`sensitive_read`). A plain query records nothing
and runs no statement for it.

The response's media type and status follow GraphQL over HTTP (`gateway.graphql_media`):
`application/graphql-response+json` with 4xx for a request that did not execute when the
client asks for it, `application/json` (200) by default. No error message carries a "Did
you mean …?" suggestion (`resolvers.suggestions`): they would name hidden fields.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from graphql import FieldNode, GraphQLError, get_operation_ast, parse
from graphql import OperationType as GraphQLOperationType
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from ledger import audit
from resolvers.context import Limits, RequestContext
from resolvers.errors import (
    BAD_USER_INPUT,
    FORBIDDEN,
    INTERNAL,
    RATE_LIMITED,
    RETRY_AFTER,
    UNAVAILABLE,
    CodedError,
    format_error,
    limit_exceeded,
)
from resolvers.suggestions import without_suggestions

from .graphql_media import JSON, response_media_type, result_status
from .rate_limit import RateLimited, RateLimits
from .request_id import HEADER, request_id

log = logging.getLogger("ledgergate.http")

def error_response(
    status: int, message: str, code: str, headers: dict | None = None, extensions: dict | None = None,
    media_type: str = JSON,
) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code, **(extensions or {})}}]}
    return Response(orjson.dumps(body), status_code=status, media_type=media_type, headers=headers)


class RequestRejected(Exception):
    def __init__(
        self, status: int, message: str, code: str = BAD_USER_INPUT, headers=None, extensions=None
    ):
        super().__init__(message)
        self.status, self.code, self.headers, self.extensions = status, code, headers, extensions

    @classmethod
    def coded(cls, status: int, error: CodedError) -> RequestRejected:
        extensions = dict(error.extensions)
        return cls(status, str(error), extensions.pop("code"), extensions=extensions)


def _json_param(raw: str | None, name: str) -> Any:
    if raw is None or raw == "":
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RequestRejected(400, f"The {name} parameter is not valid JSON") from None


class GraphQLEndpoint:
    def __init__(
        self, schema, db, principals, limits: Limits, max_body_bytes: int, graphiql: bool, sources,
        *, rate_limits: RateLimits | None = None, connections_per_request: int = 2,
        connection_timeout: float = 5.0,
    ):
        self.connections_per_request = connections_per_request
        self.connection_timeout = connection_timeout
        self.schema = schema
        self.rate_limits = rate_limits
        self.sources = sources
        self.db = db
        self.principals = principals
        self.limits = limits
        self.max_body_bytes = max_body_bytes
        self.graphiql = graphiql

    async def handle(self, request: Request) -> Response:
        rid = request_id(request.headers)
        response = await self._handle(request, rid)
        response.headers[HEADER] = rid
        return response

    async def _handle(self, request: Request, rid: str) -> Response:
        media_type = response_media_type(request.headers.get("accept"))
        try:
            if request.method == "GET":
                if self.graphiql and "query" not in request.query_params and "text/html" in request.headers.get("accept", ""):
                    return RedirectResponse("/graphiql", status_code=302)
                params = self._get_params(request)
                allowed = {OperationType.QUERY}
            else:
                params = await self._post_params(request)
                allowed = {OperationType.QUERY, OperationType.MUTATION}
            query, variables, operation_name = self._validate(params)
            try:
                principal = await self.principals.principal(request.headers)
            except CodedError as error:
                # A resolver may say which status and headers (a bearer token's 401 with
                # WWW-Authenticate, 503); otherwise a principal failure is a 401.
                status = getattr(error, "status", 401)
                if status == 401:
                    self._admit_refusal(request)
                    await self._refused(error, rid, query, operation_name)
                raise RequestRejected(
                    status, str(error), error.extensions["code"],
                    headers=getattr(error, "headers", None),
                ) from None
            # Only once the caller is known: a bad token is refused above and consumes no
            # one's budget; a limited request is refused before anything executes.
            if self.rate_limits is not None:
                try:
                    self.rate_limits.graphql_request(principal.client_id)
                except RateLimited as limited:
                    raise self._rate_limited(limited) from None
            return await self._execute(
                query, variables, operation_name, principal, allowed, rid, media_type
            )
        except RequestRejected as rejected:
            return error_response(
                rejected.status, str(rejected), rejected.code, rejected.headers, rejected.extensions,
                media_type,
            )

    def _get_params(self, request: Request) -> dict:
        q = request.query_params
        return {
            "query": q.get("query"),
            "variables": _json_param(q.get("variables"), "variables"),
            "operationName": q.get("operationName"),
            "extensions": _json_param(q.get("extensions"), "extensions"),
        }

    async def _post_params(self, request: Request) -> dict:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != JSON:
            raise RequestRejected(415, f"POST a JSON body with Content-Type: {JSON}")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_large(int(declared))
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > self.max_body_bytes:
                raise self._too_large(len(body))
        try:
            params = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise RequestRejected(400, "The request body is not valid JSON") from None
        if not isinstance(params, dict):
            raise RequestRejected(400, "The request body must be a JSON object with a query")
        return params

    def _too_large(self, size: int) -> RequestRejected:
        return RequestRejected.coded(413, limit_exceeded("body_bytes", size, self.max_body_bytes))

    @staticmethod
    def _validate(params: dict) -> tuple[str, dict | None, str | None]:
        query, variables, name = params.get("query"), params.get("variables"), params.get("operationName")
        if not isinstance(query, str) or not query.strip():
            raise RequestRejected(400, "The request has no GraphQL query")
        if variables is not None and not isinstance(variables, dict):
            raise RequestRejected(400, "variables must be a JSON object")
        if name is not None and not isinstance(name, str):
            raise RequestRejected(400, "operationName must be a string")
        extensions = params.get("extensions")
        if extensions is not None and not isinstance(extensions, dict):
            raise RequestRejected(400, "extensions must be a JSON object")
        return query, variables, name

    def _admit_refusal(self, request: Request) -> None:
        """Past its address's budget of refused tokens, a 429 instead of one more audit row."""
        if self.rate_limits is None:
            return
        address = request.client.host if request.client else None
        try:
            self.rate_limits.refused_token_from(address)
        except RateLimited as limited:
            log.info("bearer token refused: address %s over its limit of refusals", address)
            raise self._rate_limited(limited) from None

    @staticmethod
    def _rate_limited(limited: RateLimited) -> RequestRejected:
        return RequestRejected(
            429, str(limited), RATE_LIMITED,
            headers={"Retry-After": str(limited.retry_after)},
            extensions={"limit": limited.limit, "retryAfter": limited.retry_after},
        )

    async def _refused(self, error: CodedError, rid: str, query: str, operation_name: str | None) -> None:
        # Only fixed reasons and claims the token's signature vouches for: never the token.
        detail = {"reason": getattr(error, "reason", None) or "refused",
                  "operation": self._operation(query, operation_name)}
        await self._record(rid, [audit.Event(
            audit.AUTHENTICATION_REFUSED, error.extensions["code"], rid, detail,
            client_id=getattr(error, "client_id", None), entity_code=getattr(error, "entity", None),
        )])

    async def _record(self, rid: str, events: list[audit.Event]) -> bool:
        """Write `events`; False, with the events logged at ERROR, if the log cannot be
        written (they hold no secret, so the log line keeps them for the auditors)."""
        try:
            await audit.record(self.db, events)
            return True
        except Exception as error:  # whatever the driver raises: the request must still answer
            for event in events:
                log.error(
                    "the audit log cannot be written (%s); event lost: request %s, %s %s, "
                    "client %s, user %s, entity %s, %s", type(error).__name__, rid, event.event,
                    event.outcome, event.client_id, event.username,
                    event.entity_id or event.entity_code, orjson.dumps(event.detail).decode(),
                )
            return False

    def _operation(self, query: str, operation_name: str | None) -> str | None:
        """The operation's name, for an audit row: given, or read off the document."""
        if operation_name is not None:
            return operation_name
        operation = self._operation_node(query, None)
        return operation.name.value if operation is not None and operation.name else None

    def _operation_node(self, query: str, operation_name: str | None):
        """The document's operation, parsed again only here, on the rare requests that
        record something (within the token limit: an unauthenticated caller's document may
        get here); None if it does not parse or names no such operation."""
        try:
            document = parse(query, no_location=True, max_tokens=self.limits.max_tokens)
            return get_operation_ast(document, operation_name)
        except GraphQLError:
            return None

    def _mutation_refused_early(self, context: RequestContext, query: str, operation_name,
                                errors: list[dict]) -> None:
        """A mutation refused before it ran (its variables, a limit, validation) is still a
        mutation attempt the log must show: outcome the error's code, `ran: false`. A
        document that did not parse (a syntax error, over the token limit) is no operation
        at all, and is not parsed again here: a token bomb costs one bounded parse, not two."""
        for error in errors:
            limit = (error.get("extensions", {}).get("limit") or {}).get("name")
            if limit in ("tokens", "comments") or error["message"].startswith("Syntax Error"):
                return
        operation = self._operation_node(query, operation_name)
        if operation is None or operation.operation != GraphQLOperationType.MUTATION:
            return
        code = errors[0].get("extensions", {}).get("code", INTERNAL)
        context.audit.add(audit.MUTATION, code, {
            "operation": operation.name.value if operation.name else None,
            "fields": [s.name.value for s in operation.selection_set.selections
                       if isinstance(s, FieldNode)],
            "ran": False,
            "errors": [e["message"][:500] for e in errors[:10]],
        })

    async def _audit(self, context: RequestContext, query: str, operation_name,
                     errors: list[dict] | None) -> bool:
        """Record what this request must leave in the audit log; False if that failed."""
        denied = [
            {"path": e.get("path"), "scopes": e["extensions"].get("scopes", []),
             "message": e["message"]}
            for e in errors or ()
            if e.get("extensions", {}).get("code") == FORBIDDEN
        ]
        if denied:
            context.audit.add(audit.ACCESS_DENIED, FORBIDDEN, {
                "operation": self._operation(query, operation_name), "fields": denied,
            })
        elif not context.audit_started:
            return True
        trail = context.audit
        if not trail.events and not trail.has_sensitive_reads:
            return True
        return await self._record(trail.request_id, trail.pending())

    async def _execute(self, query, variables, operation_name, principal, allowed, rid, media_type) -> Response:
        context = RequestContext(
            self.db, principal, self.limits, self.sources, request_id=rid,
            connections=self.connections_per_request, connection_timeout=self.connection_timeout,
        )
        try:
            result = await self.schema.execute(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=operation_name,
                allowed_operation_types=allowed,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type == OperationType.SUBSCRIPTION:
                # Not a method question: no HTTP method carries a subscription's stream.
                raise RequestRejected(
                    400, "Subscriptions need a WebSocket, not an HTTP request; ledgergate "
                    "serves queries and mutations only",
                ) from None
            raise RequestRejected(
                405, "Only queries may be sent with GET; send mutations with POST",
                headers={"Allow": "POST"},
            ) from None
        except (MissingQueryError, CannotGetOperationTypeError) as error:
            message = (
                error.as_http_error_reason() if isinstance(error, CannotGetOperationTypeError)
                else "The request has no GraphQL query"
            )
            raise RequestRejected(400, message) from None
        body: dict[str, Any] = {}
        errors = [_unsuggested(format_error(e)) for e in result.errors] if result.errors else None
        if errors and result.data is None and not any(e.path for e in result.errors):
            self._mutation_refused_early(context, query, operation_name, errors)
        if not await self._audit(context, query, operation_name, errors) and context.audit.has_sensitive_reads:
            # Fail closed: personal and compensation data leaves only with its trace. Other
            # rows fail open (logged at ERROR above): a refusal or a failed mutation
            # disclosed nothing, and a successful mutation wrote its row with its entries.
            return error_response(
                503, "The audit log cannot be written; the response holds sensitive fields "
                "and is withheld", INTERNAL, headers={"Retry-After": "30"}, media_type=media_type,
            )
        if errors:
            body["errors"] = errors
        if errors and not any(result.data.values() if result.data else ()) and all(
            e.get("extensions", {}).get("code") == UNAVAILABLE for e in errors
        ):
            # Nothing could be answered because the database was busy: a retryable 503.
            body["data"] = result.data
            return Response(orjson.dumps(body), status_code=503, media_type=media_type,
                            headers={"Retry-After": str(RETRY_AFTER)})
        # Errors raised before execution (syntax, validation, variables) have no path and
        # no data entry; once execution started, `data` is present even if null.
        if result.data is not None or not result.errors or any(e.path for e in result.errors):
            body["data"] = result.data
        internal = any(e.get("extensions", {}).get("code") == INTERNAL for e in errors or ())
        status = result_status(media_type, body, internal)
        return Response(orjson.dumps(body), status_code=status, media_type=media_type)


def _unsuggested(error: dict) -> dict:
    error["message"] = without_suggestions(error["message"])
    return error
