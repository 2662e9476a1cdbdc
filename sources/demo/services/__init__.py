"""The demo world's five source systems as real services, built from `generate_world` records.

- ``crm`` (`crm`): REST, ``X-API-Key``; customers, opportunities, sales orders, products.
- ``pos`` (`pos`): a SQL database of receipts and lines (`build_pos_database`), plus
  read-only JSON deep links.
- ``hr`` (`hr`): an Apollo Federation 2 subgraph at ``/graphql`` (Strawberry), plus JSON
  deep links.
- ``usage`` (`usage`): REST behind OAuth2 client credentials; metered GB per customer and day.
- ``ap`` (`ap`): REST; vendors, bills with their lines, payments.

Each REST collection lives at the path of the deep links in the ledger
(`records.record_url`), with ``?ids=`` batches (`routes`). Money is an exact decimal string
in JSON and a `Decimal` in GraphQL, never a float. `serve_demo_sources` runs all five in the
current event loop; `run_demo_source` runs one alone.
"""

from .ap import create_ap_app
from .crm import create_crm_app
from .hr import create_hr_app
from .pos import build_pos_database, create_pos_app
from .serve import (
    DEFAULT_POS_DB,
    SERVICES,
    DemoSources,
    RunningSource,
    run_demo_source,
    serve_demo_sources,
)
from .usage import create_usage_app

__all__ = [
    "DEFAULT_POS_DB",
    "SERVICES",
    "DemoSources",
    "RunningSource",
    "build_pos_database",
    "create_ap_app",
    "create_crm_app",
    "create_hr_app",
    "create_pos_app",
    "create_usage_app",
    "run_demo_source",
    "serve_demo_sources",
]
