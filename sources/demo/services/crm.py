"""The demo CRM: a REST API of customers, opportunities, sales orders and products.

Routes (see `routes`): ``/crm/customers``, ``/crm/opportunities``, ``/crm/sales-orders``,
``/crm/products``, each with ``?ids=`` batches and ``/{id}``; and the finance status the
ledger reports of its sales orders, ``/crm/ledger/sales-orders`` (`crm_ledger`). Every
request needs the ``X-API-Key`` header, or, on a deep link, a person's sign-in (`sign_in`).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.applications import Starlette

from ..records import CRM, DemoRecords
from .api_key import ApiKey
from .crm_ledger import LedgerOrders
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
    records: DemoRecords, *, api_key: str, people: Iterable[DemoPerson] = (),
    ledger_orders: LedgerOrders | None = None,
) -> Starlette:
    """`api_key`: what clients must send; no default, so no key is ever in the code.
    `people`: who may sign in to a deep link. `ledger_orders`: the store of the ledger's
    sales orders (a new one by default), on `app.state.ledger_orders`."""
    collections = crm_collections(records)
    ledger_orders = ledger_orders or LedgerOrders()
    app = signed_in_app(
        CRM, [*collection_routes(collections), *ledger_orders.routes()], collections,
        machine=ApiKey(api_key), people=people,
    )
    app.state.ledger_orders = ledger_orders
    return app
