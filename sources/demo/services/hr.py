"""The demo HR system: a Federation 2 GraphQL subgraph at ``/graphql`` (`hr_schema`), and
the JSON deep links the ledger carries (``/hr/employees/{id}``, ``/hr/payroll-runs/{id}``…,
with ``?ids=`` batches).

Every route needs the ``X-API-Key`` header (the gateway's), or, on a deep link, a person's
sign-in (`sign_in`). As in a real HR system, a person sees pay (`COMPENSATION`) only with
the ``hr-manager`` role; ``staff`` sees the directory without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from ..records import HR, DemoRecords
from .api_key import ApiKey
from .hr_schema import HrDirectory, schema
from .people import DemoPerson
from .routes import Collection, collection_routes
from .sign_in import signed_in_app

COMPENSATION: dict[str, tuple[str, ...]] = {
    "Employee": ("annualSalary",),
    "PayrollRun": ("payslips", "gross"),
}
"""The deep links' JSON keys that only a person who sees pay is shown."""


class HrGraphQL(GraphQL):
    """The subgraph endpoint, without GraphiQL (the stock page loads from a CDN)."""

    def __init__(self, directory: HrDirectory):
        super().__init__(schema, graphql_ide=None)
        self.directory = directory

    async def get_context(self, request: Request, response: Response) -> dict[str, Any]:
        return {"request": request, "response": response, "hr": self.directory}


def hr_collections(records: DemoRecords) -> list[Collection]:
    return [
        Collection(HR, "Location", records.locations),
        Collection(HR, "Department", records.departments),
        Collection(HR, "Employee", records.employees, compensation=COMPENSATION["Employee"]),
        Collection(HR, "Hire", records.hires),
        Collection(HR, "Termination", records.terminations),
        Collection(
            HR, "PayrollRun", records.payroll_runs, compensation=COMPENSATION["PayrollRun"]
        ),
    ]


def create_hr_app(
    records: DemoRecords, *, api_key: str, people: Iterable[DemoPerson] = ()
) -> Starlette:
    """`api_key`: what the gateway sends (on ``/graphql`` too); `people`: who may sign in
    to a deep link."""
    collections = hr_collections(records)
    # Route, not Mount: a Mount answers /graphql with a 307 to /graphql/.
    routes = [Route("/graphql", HrGraphQL(HrDirectory(records)))]
    return signed_in_app(
        HR, routes + collection_routes(collections), collections,
        machine=ApiKey(api_key), people=people,
    )
