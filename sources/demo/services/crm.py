"""The demo CRM: a REST API of customers, opportunities, sales orders and products.

Routes (see `routes`): ``/crm/customers``, ``/crm/opportunities``, ``/crm/sales-orders``,
``/crm/products``, each with ``?ids=`` batches and ``/{id}``; and the finance status the
ledger reports of its sales orders, ``/crm/ledger/sales-orders`` (`crm_ledger`), and what
its sales people do that the ledger hears of by push (`crm_deals`). Every
request needs the ``X-API-Key`` header, or, on a deep link, a person's sign-in (`sign_in`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from starlette.applications import Starlette

from ..records import CRM, DemoRecords
from .api_key import ApiKey
from .crm_deals import Deals, Pusher
from .crm_ledger import LedgerOrders
from .crm_state import CrmState
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
    ledger_orders: LedgerOrders | None = None, push_url: str | None = None,
    push_secret: str | None = None, state_path: str | os.PathLike[str] | None = None,
    pusher: Pusher | None = None,
) -> Starlette:
    """`api_key`: what clients must send; no default, so no key is ever in the code.
    `people`: who may sign in to a deep link. `ledger_orders`: the store of the ledger's
    sales orders (by default a new one, kept in `state_path` if given), on
    `app.state.ledger_orders`. `push_url` and `push_secret`: where and how it signs its pushes
    to the ledger (none without both), unless `pusher` is given."""
    collections = crm_collections(records)
    state = CrmState(state_path)
    ledger_orders = ledger_orders or LedgerOrders(state)
    if pusher is None and push_url and push_secret:
        pusher = Pusher(push_url, push_secret)
    opportunities = next(c for c in collections if c.record_type == "Opportunity")
    deals = Deals(opportunities, ledger_orders, pusher, state)
    app = signed_in_app(
        CRM, [*collection_routes(collections), *ledger_orders.routes(), *deals.routes()], collections,
        machine=ApiKey(api_key), people=people,
    )
    app.state.ledger_orders = ledger_orders
    return app
