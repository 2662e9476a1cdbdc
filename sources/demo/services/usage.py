"""The demo usage tracker: a REST API of metered storage per customer and day.

``/usage/usage-records`` with ``?ids=`` batches, ``/{id}``, and listing by customer and day
(``?customerId=CUST-0007&day=2026-03-14``). Data routes need a bearer token from
``POST /oauth/token`` (OAuth2 client credentials, see `oauth`), or, on a deep link, a
person's sign-in (`sign_in`).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.routing import Route

from ..records import USAGE, DemoRecords
from .oauth import TOKEN_PATH, BearerToken, ClientCredentials
from .people import DemoPerson
from .routes import Collection, collection_routes
from .sign_in import signed_in_app

DEFAULT_CLIENT_ID = "ledgergate"


def usage_collections(records: DemoRecords) -> list[Collection]:
    return [Collection(USAGE, "UsageRecord", records.usage_records)]


def create_usage_app(
    records: DemoRecords,
    *,
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str,
    token_ttl: int = 3600,
    people: Iterable[DemoPerson] = (),
) -> Starlette:
    credentials = ClientCredentials(client_id, client_secret, ttl=token_ttl)
    collections = usage_collections(records)
    routes = [Route(TOKEN_PATH, credentials.token_endpoint, methods=["POST"])]
    return signed_in_app(
        USAGE,
        routes + collection_routes(collections),
        collections,
        machine=BearerToken(credentials, realm=USAGE),
        people=people,
        open_paths=[TOKEN_PATH],  # the token endpoint authenticates the client itself
    )
