"""The deterministic demo world: source-system records for one year (2026) of a holding.

Two companies: SOFTCO, a software company (subscriptions and metered storage sold through
the CRM, usage from the usage tracker, HR, bill payment), and HOTELCO, a chain of small
hotels (point of sale, rooms, HR, bill payment, corporate accounts in the CRM).

Everything follows from `(seed, scale)`: each stream of decisions draws from its own
`random.Random` seeded with a label (``seed/pos/HTL1/2026-03-14``), never from the global
generator and never from the clock, so the same inputs give the same records, and ids are
stable (``SO-2026-000123``, ``R-HTL1-2026-0001234``, ``EMP-0042``, ``BILL-000321``,
``U-CUST-0007-2026-03-14``). `scale` multiplies volume roughly linearly (customers, hotels,
employees, vendors and so receipts, orders, usage days, bills); about 33,000 journal lines
at scale 1, about a million at scale 30.

Two forms:
- `generate_world(seed, scale)` materialises everything (`DemoRecords`): fine for the
  default scale, for tests, and for serving the records from demo services;
- `generate_master(seed, scale)` + `iter_months(master)` stream the year month by month
  (`MonthRecords`), so big scales never hold more than one month of transactions.
"""

from .companies import COMPANIES, HOTELCO, SOFTCO
from .crm import SERVICES_PRODUCT, USAGE_PRICE, USAGE_PRODUCT
from .volume import Volume
from .world import generate_master, generate_world, iter_months
from .year import YEAR_END, YEAR_START, month_end, month_start

__all__ = [
    "COMPANIES",
    "HOTELCO",
    "SERVICES_PRODUCT",
    "SOFTCO",
    "USAGE_PRICE",
    "USAGE_PRODUCT",
    "YEAR_END",
    "YEAR_START",
    "Volume",
    "generate_master",
    "generate_world",
    "iter_months",
    "month_end",
    "month_start",
]
