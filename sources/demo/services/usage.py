"""The demo usage tracker: a REST API of metered storage per customer and day.

``/usage/usage-records`` with ``?ids=`` batches, ``/{id}``, and listing by customer and day
(``?customerId=CUST-0007&day=2026-03-14``). Data routes need a bearer token from
``POST /oauth/token`` (OAuth2 client credentials, see `oauth`).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from ..records import USAGE, DemoRecords
from .oauth import TOKEN_PATH, BearerTokenMiddleware, ClientCredentials
from .routes import Collection, collection_routes

DEFAULT_CLIENT_ID = "ledgergate"


def usage_collections(records: DemoRecords) -> list[Collection]:
    return [Collection(USAGE, "UsageRecord", records.usage_records)]


def create_usage_app(
    records: DemoRecords,
    *,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str,
    token_ttl: int = 3600,
) -> Starlette:
    credentials = ClientCredentials(client_id, client_secret, ttl=token_ttl)
    routes = [Route(TOKEN_PATH, credentials.token_endpoint, methods=["POST"])]
    routes += collection_routes(usage_collections(records))
    return Starlette(
        routes=routes,
        middleware=[Middleware(BearerTokenMiddleware, credentials=credentials, realm=USAGE)],
    )
