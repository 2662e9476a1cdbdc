"""The demo bill-payment system: a REST API of vendors, bills (lines nested) and payments.

``/ap/vendors``, ``/ap/bills``, ``/ap/payments``, each with ``?ids=`` batches and ``/{id}``.
Open by default; pass `api_key` to require an ``X-API-Key`` header like the CRM.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware

from ..records import AP, DemoRecords
from .api_key import ApiKeyMiddleware
from .routes import Collection, collection_routes


def ap_collections(records: DemoRecords) -> list[Collection]:
    return [
        Collection(AP, "Vendor", records.vendors),
        Collection(AP, "Bill", records.bills),
        Collection(AP, "Payment", records.payments),
    ]


def create_ap_app(records: DemoRecords, *, api_key: str | None = None) -> Starlette:
    middleware = [Middleware(ApiKeyMiddleware, key=api_key)] if api_key else []
    return Starlette(routes=collection_routes(ap_collections(records)), middleware=middleware)
