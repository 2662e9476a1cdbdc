"""The /graphql endpoint: GraphQL over HTTP with coded errors and orjson encoding.

A thin endpoint of our own rather than Strawberry's view: every failure, including a
body that is not JSON, must come back as JSON with `extensions.code`, and the request
path should do no work per request beyond what the request needs.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from resolvers.context import Limits, RequestContext
from resolvers.errors import BAD_USER_INPUT, RATE_LIMITED, CodedError, format_error, limit_exceeded

from .rate_limit import RateLimited, RateLimits

log = logging.getLogger("ledgergate.http")

JSON = "application/json"


def error_response(
    status: int, message: str, code: str, headers: dict | None = None, extensions: dict | None = None
) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code, **(extensions or {})}}]}
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)


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
        *, rate_limits: RateLimits | None = None,
    ):
        self.schema = schema
        self.rate_limits = rate_limits
        self.sources = sources
        self.db = db
        self.principals = principals
        self.limits = limits
        self.max_body_bytes = max_body_bytes
        self.graphiql = graphiql

    async def handle(self, request: Request) -> Response:
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
                raise RequestRejected(
                    getattr(error, "status", 401), str(error), error.extensions["code"],
                    headers=getattr(error, "headers", None),
                ) from None
            # Only once the caller is known: a bad token is refused above and consumes no
            # one's budget; a limited request is refused before anything executes.
            if self.rate_limits is not None:
                try:
                    self.rate_limits.graphql_request(principal.client_id)
                except RateLimited as limited:
                    raise RequestRejected(
                        429, str(limited), RATE_LIMITED,
                        headers={"Retry-After": str(limited.retry_after)},
                        extensions={"limit": limited.limit, "retryAfter": limited.retry_after},
                    ) from None
            return await self._execute(query, variables, operation_name, principal, allowed)
        except RequestRejected as rejected:
            return error_response(
                rejected.status, str(rejected), rejected.code, rejected.headers, rejected.extensions
            )

    def _get_params(self, request: Request) -> dict:
        q = request.query_params
        return {
            "query": q.get("query"),
            "variables": _json_param(q.get("variables"), "variables"),
            "operationName": q.get("operationName"),
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
        return query, variables, name

    async def _execute(self, query, variables, operation_name, principal, allowed) -> Response:
        context = RequestContext(self.db, principal, self.limits, self.sources)
        try:
            result = await self.schema.execute(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=operation_name,
                allowed_operation_types=allowed,
            )
        except InvalidOperationTypeError:
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
        if result.errors:
            body["errors"] = [format_error(e) for e in result.errors]
        # Errors raised before execution (syntax, validation, variables) have no path and
        # no data entry; once execution started, `data` is present even if null.
        if result.data is not None or not result.errors or any(e.path for e in result.errors):
            body["data"] = result.data
        return Response(orjson.dumps(body), media_type=JSON)
