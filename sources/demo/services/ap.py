"""The demo bill-payment system: a REST API of vendors, bills (lines nested) and payments.

``/ap/vendors``, ``/ap/bills``, ``/ap/payments``, each with ``?ids=`` batches and ``/{id}``.
Every request needs the ``X-API-Key`` header, or, on a deep link, a person's sign-in
(`sign_in`), like the CRM.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.applications import Starlette

from ..records import AP, DemoRecords
from .api_key import ApiKey
from .people import DemoPerson
from .routes import Collection, collection_routes
from .sign_in import signed_in_app


def ap_collections(records: DemoRecords) -> list[Collection]:
    return [
        Collection(AP, "Vendor", records.vendors),
        Collection(AP, "Bill", records.bills),
        Collection(AP, "Payment", records.payments),
    ]


def create_ap_app(
    records: DemoRecords, *, api_key: str, people: Iterable[DemoPerson] = ()
) -> Starlette:
    collections = ap_collections(records)
    return signed_in_app(
        AP, collection_routes(collections), collections, machine=ApiKey(api_key), people=people
    )
