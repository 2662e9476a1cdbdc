"""The demo HR system: a Federation 2 GraphQL subgraph at ``/graphql`` (`hr_schema`), and
the JSON deep links the ledger carries (``/hr/employees/{id}``, ``/hr/payroll-runs/{id}``…,
with ``?ids=`` batches)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from ..records import HR, DemoRecords
from .hr_schema import HrDirectory, schema
from .routes import Collection, collection_routes


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
        Collection(HR, "Employee", records.employees),
        Collection(HR, "Hire", records.hires),
        Collection(HR, "Termination", records.terminations),
        Collection(HR, "PayrollRun", records.payroll_runs),
    ]


def create_hr_app(records: DemoRecords) -> Starlette:
    # Route, not Mount: a Mount answers /graphql with a 307 to /graphql/.
    routes = [Route("/graphql", HrGraphQL(HrDirectory(records)))]
    return Starlette(routes=routes + collection_routes(hr_collections(records)))
