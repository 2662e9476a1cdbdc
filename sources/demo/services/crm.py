"""The demo CRM: a REST API of customers, opportunities, sales orders and products.

Routes (see `routes`): ``/crm/customers``, ``/crm/opportunities``, ``/crm/sales-orders``,
``/crm/products``, each with ``?ids=`` batches and ``/{id}``. Every request needs the
``X-API-Key`` header.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware

from ..records import CRM, DemoRecords
from .api_key import ApiKeyMiddleware
from .routes import Collection, collection_routes


def crm_collections(records: DemoRecords) -> list[Collection]:
    return [
        Collection(CRM, "Customer", records.customers),
        Collection(CRM, "Opportunity", records.opportunities),
        Collection(CRM, "SalesOrder", records.sales_orders),
        Collection(CRM, "Product", records.products),
    ]


def create_crm_app(records: DemoRecords, *, api_key: str) -> Starlette:
    """`api_key`: what clients must send; no default, so no key is ever in the code."""
    return Starlette(
        routes=collection_routes(crm_collections(records)),
        middleware=[Middleware(ApiKeyMiddleware, key=api_key)],
    )
