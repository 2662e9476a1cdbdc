"""The demo CRM: a REST API of customers, opportunities, sales orders and products.

Routes (see `routes`): ``/crm/customers``, ``/crm/opportunities``, ``/crm/sales-orders``,
``/crm/products``, each with ``?ids=`` batches and ``/{id}``. Every request needs the
``X-API-Key`` header, or, on a deep link, a person's sign-in (`sign_in`).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.applications import Starlette

from ..records import CRM, DemoRecords
from .api_key import ApiKey
from .people import DemoPerson
from .routes import Collection, collection_routes
from .sign_in import signed_in_app


def crm_collections(records: DemoRecords) -> list[Collection]:
    return [
        Collection(CRM, "Customer", records.customers),
        Collection(CRM, "Opportunity", records.opportunities),
        Collection(CRM, "SalesOrder", records.sales_orders),
        Collection(CRM, "Product", records.products),
    ]


def create_crm_app(
    records: DemoRecords, *, api_key: str, people: Iterable[DemoPerson] = ()
) -> Starlette:
    """`api_key`: what clients must send; no default, so no key is ever in the code.
    `people`: who may sign in to a deep link."""
    collections = crm_collections(records)
    return signed_in_app(
        CRM, collection_routes(collections), collections, machine=ApiKey(api_key), people=people
    )
