"""The Starlette application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from ledger.outbox import DELIVERY_TOPIC
from ledger.store import LedgerDatabase, PoolSettings
from resolvers.schema import build_schema
from resolvers.sources.catalog import SourceCatalog

from .auth.issuers import builtin_issuer, external_issuer
from .auth.principal import BearerPrincipalResolver
from .auth.scopes import known_scopes
from .auth.server import OAuthEndpoints
from .change_bus import ChangeBus
from .config import Settings
from .graphiql import graphiql_routes
from .graphql_http import GraphQLEndpoint
from .outbox_dispatcher import OutboxDispatcher
from .push_endpoint import PushEndpoint
from .rate_limit import RateLimits
from .secrets import SecretsError, configured_key
from .subscriptions import SubscriptionsView

log = logging.getLogger("ledgergate")


def _oauth_endpoints(
    settings: Settings, database: LedgerDatabase, catalog: SourceCatalog,
    rate_limits: RateLimits | None,
) -> OAuthEndpoints:
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
        enabled=settings.oauth.builtin,
        issuer=settings.issuer,
        audience=settings.oauth.audience,
        token_ttl=settings.oauth.token_ttl,
        max_body_bytes=settings.max_body_bytes,
        known_scopes=known_scopes(catalog.sources),
        secrets_key=key,
        unavailable=unavailable,
        rate_limits=rate_limits,
    )


def _trusted_issuers(settings: Settings, oauth: OAuthEndpoints) -> list:
    """The issuers /graphql accepts tokens of: the built-in server (unless disabled) and the
    external identity providers."""
    trusted = [external_issuer(provider) for provider in settings.oauth.external]
    if any(t.issuer.rstrip("/") == settings.issuer for t in trusted):
        # `load_settings` refuses it; settings built in code (or a --port) could still.
        raise ValueError(f"an external issuer is the built-in server's issuer {settings.issuer!r}")
    if settings.oauth.builtin:
        trusted.insert(0, builtin_issuer(
            oauth.keys,
            issuer=settings.issuer,
            audience=settings.oauth.audience,
            unavailable_message=(
                "authentication is not available: " + oauth.unavailable.split(": ", 1)[-1]
            ),
        ))
    return trusted


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
    None: the default): the bearer tokens of that authorization server — without the secrets
    key its tokens are then 503 — and of the external identity providers
    (`[[oauth.external]]`; `gateway.auth.principal.BearerPrincipalResolver`). There is no
    unauthenticated mode. With `[oauth] builtin = false` the authorization server's routes
    say it is disabled and only the external providers' tokens are accepted.

    Per-client rate limits (`[rate_limit]`, `gateway.rate_limit`) guard /graphql and
    /oauth/token; `app.state.rate_limits` holds them (None when off), its `clock` replaceable.
    """
    owns_db = db is None
    pools = settings.database
    database = db or LedgerDatabase.from_url(settings.database_url, pool=PoolSettings(
        pools.pool_size, pools.max_overflow, pools.pool_timeout))
    # Authentication and token issuance on connections of their own: a request holding
    # GraphQL's pool must not make every other caller's authentication wait (issue 10).
    auth_db = database.with_own_pool(PoolSettings(pools.auth_pool_size, 0, pools.pool_timeout))
    catalog = sources or SourceCatalog()
    schema = build_schema(catalog, settings.introspection, compiled=settings.compiled)
    rate_limits = RateLimits.from_settings(settings.rate_limit)
    oauth = _oauth_endpoints(settings, auth_db, catalog, rate_limits)
    if principals is None:
        principals = BearerPrincipalResolver(auth_db, _trusted_issuers(settings, oauth))
    endpoint = GraphQLEndpoint(
        schema,
        database,
        principals,
        settings.limits,
        settings.max_body_bytes,
        settings.graphiql,
        catalog,
        rate_limits=rate_limits,
        connections_per_request=pools.connections_per_request,
        connection_timeout=pools.pool_timeout,
    )

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    dispatcher = None
    if settings.outbox.dispatch and catalog.deliveries:
        dispatcher = OutboxDispatcher(database, catalog, settings.outbox)
    bus = ChangeBus(database)
    if dispatcher is not None:
        # A committed change may have written messages: deliver now, not at the next poll.
        bus.watchers.append(lambda _entity, topic, _key: topic != DELIVERY_TOPIC and dispatcher.wake())
    subscriptions = SubscriptionsView(
        schema, database, principals, settings.limits, catalog, bus,
        connections_per_request=pools.connections_per_request, connection_timeout=pools.pool_timeout,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        # Everything built at start (schema, catalog, modules) lives as long as the process:
        # out of the collector's sight, a full collection takes a tenth of the time (bench:
        # ~90 ms → ~9 ms each, one every few requests of a big lineage query).
        gc.freeze()
        stop = asyncio.Event()
        running = None if dispatcher is None else asyncio.create_task(dispatcher.run(stop), name="outbox")
        await bus.start()
        yield
        await bus.stop()
        if running is not None:
            stop.set()
            await running
        await catalog.aclose()
        await auth_db.dispose()
        if owns_db:
            await database.dispose()

    routes = [
        Route("/graphql", endpoint.handle, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", subscriptions),
        Route("/healthz", healthz, methods=["GET"]),
        *oauth.routes(),
    ]
    if catalog.pushes:
        routes.append(Route("/hooks/{system}", PushEndpoint(database, catalog).handle, methods=["POST"]))
    if settings.graphiql:
        routes += graphiql_routes()
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.db = database
    app.state.auth_db = auth_db
    app.state.schema = schema
    app.state.oauth = oauth
    app.state.principals = principals
    app.state.rate_limits = rate_limits
    app.state.outbox = dispatcher
    app.state.changes = bus
    app.state.subscriptions = subscriptions
    return app
