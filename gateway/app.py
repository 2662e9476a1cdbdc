"""The Starlette application factory."""

from __future__ import annotations

import contextlib
import gc
import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ledger.store import LedgerDatabase
from resolvers.schema import build_schema
from resolvers.sources.catalog import SourceCatalog

from .auth.principal import BearerPrincipalResolver
from .auth.scopes import known_scopes
from .auth.server import OAuthEndpoints
from .config import Settings
from .graphiql import graphiql_routes
from .graphql_http import GraphQLEndpoint
from .secrets import SecretsError, configured_key

log = logging.getLogger("ledgergate")


def _oauth_endpoints(settings: Settings, database: LedgerDatabase, catalog: SourceCatalog) -> OAuthEndpoints:
    """The authorization server; without a usable secrets key its routes answer 503."""
    unavailable = None
    try:
        key = configured_key(settings.secrets_key_file)
    except SecretsError as error:  # names the file or variable, never key material
        log.error("the authorization server is unavailable: %s", error)
        key = None
        unavailable = "the authorization server is not available: the secrets key cannot be read"
    return OAuthEndpoints(
        database,
        issuer=settings.issuer,
        audience=settings.oauth.audience,
        token_ttl=settings.oauth.token_ttl,
        max_body_bytes=settings.max_body_bytes,
        known_scopes=known_scopes(catalog.sources),
        secrets_key=key,
        unavailable=unavailable,
    )


def create_app(
    settings: Settings,
    *,
    db: LedgerDatabase | None = None,
    sources: SourceCatalog | None = None,
    principals=None,
) -> Starlette:
    """Build the gateway; pass `db` to share one (tests), else it is opened from settings.

    `sources` are the configured source systems, already built (`sources.config`); their
    record types become GraphQL types; their names make the `source:<system>:…` scopes the
    authorization server knows.

    The authorization server (`/oauth/token`, `/.well-known/jwks.json`,
    `/.well-known/oauth-authorization-server`, `gateway.auth.server`) needs the secrets key
    (`LEDGERGATE_SECRETS_KEY` or `[secrets] key_file`), which encrypts its signing keys;
    without one its routes answer 503 `temporarily_unavailable` and the rest serves as usual.
    The signing keys are loaded (the first one created) on first use and reloaded every 30 s.

    Who a /graphql request acts as (`principals`, an object with `async principal(headers)`;
    None: the default): the bearer tokens of that authorization server
    (`gateway.auth.principal.BearerPrincipalResolver`); without the secrets key every
    request is then 503. There is no unauthenticated mode.
    """
    owns_db = db is None
    database = db or LedgerDatabase.from_url(settings.database_url)
    catalog = sources or SourceCatalog()
    schema = build_schema(catalog, settings.introspection, compiled=settings.compiled)
    oauth = _oauth_endpoints(settings, database, catalog)
    if principals is None:
        principals = BearerPrincipalResolver(
            database,
            oauth.keys,
            issuer=settings.issuer,
            audience=settings.oauth.audience,
            unavailable_message=(
                "authentication is not available: " + oauth.unavailable.split(": ", 1)[-1]
            ),
        )
    endpoint = GraphQLEndpoint(
        schema,
        database,
        principals,
        settings.limits,
        settings.max_body_bytes,
        settings.graphiql,
        catalog,
    )

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        # Everything built at start (schema, catalog, modules) lives as long as the process:
        # out of the collector's sight, a full collection takes a tenth of the time (bench:
        # ~90 ms → ~9 ms each, one every few requests of a big lineage query).
        gc.freeze()
        yield
        await catalog.aclose()
        if owns_db:
            await database.dispose()

    routes = [
        Route("/graphql", endpoint.handle, methods=["GET", "POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        *oauth.routes(),
    ]
    if settings.graphiql:
        routes += graphiql_routes()
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.db = database
    app.state.schema = schema
    app.state.oauth = oauth
    app.state.principals = principals
    return app
