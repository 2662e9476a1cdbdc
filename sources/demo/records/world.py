"""The demo world's containers: companies, projects, reference data and a year of records."""

from __future__ import annotations

from dataclasses import dataclass

from .ap import Bill, Payment, Vendor
from .base import SourceRecord
from .crm import Customer, Opportunity, Product, SalesOrder
from .hr import Department, Employee, Hire, Location, PayrollRun, Termination
from .pos import PosItem, Receipt
from .usage import UsageRecord


@dataclass(frozen=True)
class Project:
    """A project charged by lines (a software implementation, a hotel renovation).

    Attributes:
        id: ``PRJ-0003`` or ``RENO-HTL1``; the ledger PROJECT dimension code.
        company: owning company code.
        name: display name.
        customer_id: the customer of an implementation project.
        location_id: the site of a renovation project.
    """

    id: str
    company: str
    name: str
    customer_id: str | None = None
    location_id: str | None = None


@dataclass(frozen=True)
class CompanyProfile:
    """One company of the demo holding as the source systems know it.

    Attributes:
        code: short company code (``SOFTCO``), also the ledger entity code.
        name: legal name.
        currency: base currency.
        kind: ``software`` or ``hotel``.
        systems: the source systems the company uses.
    """

    code: str
    name: str
    currency: str
    kind: str
    systems: tuple[str, ...]


@dataclass(frozen=True)
class DemoMaster:
    """Reference data of the demo world: small, grows linearly with scale.

    Attributes:
        seed / scale: what it was generated from.
        companies: the holding's companies.
        locations, departments, products, pos_items, customers, opportunities, projects,
        employees, hires, terminations, vendors: the records, each ordered by id.
    """

    seed: int
    scale: float
    companies: tuple[CompanyProfile, ...]
    locations: tuple[Location, ...]
    departments: tuple[Department, ...]
    products: tuple[Product, ...]
    pos_items: tuple[PosItem, ...]
    customers: tuple[Customer, ...]
    opportunities: tuple[Opportunity, ...]
    projects: tuple[Project, ...]
    employees: tuple[Employee, ...]
    hires: tuple[Hire, ...]
    terminations: tuple[Termination, ...]
    vendors: tuple[Vendor, ...]


@dataclass(frozen=True)
class MonthRecords:
    """The transactional records of one month of the demo year.

    Records belong to the month of the event that created them; a sales order's `paid_on`
    or a bill's payment may fall in a later month.

    Attributes:
        month: 1–12.
        sales_orders, usage_records, receipts, payroll_runs, bills, payments: the records.
    """

    month: int
    sales_orders: tuple[SalesOrder, ...]
    usage_records: tuple[UsageRecord, ...]
    receipts: tuple[Receipt, ...]
    payroll_runs: tuple[PayrollRun, ...]
    bills: tuple[Bill, ...]
    payments: tuple[Payment, ...]


MASTER_RECORD_GROUPS = (
    "locations",
    "departments",
    "products",
    "pos_items",
    "customers",
    "opportunities",
    "employees",
    "hires",
    "terminations",
    "vendors",
)
"""The groups of `DemoMaster` that hold linkable records (companies and projects are not)."""

MONTH_RECORD_GROUPS = (
    "sales_orders",
    "usage_records",
    "receipts",
    "payroll_runs",
    "bills",
    "payments",
)
"""The transactional groups: fields of `MonthRecords` and, for the whole year, of `DemoRecords`."""

RECORD_GROUPS = MASTER_RECORD_GROUPS + MONTH_RECORD_GROUPS


@dataclass(frozen=True)
class DemoRecords:
    """Every record of the demo world, materialised (use the streaming form for big scales).

    Attributes:
        master: the reference data.
        sales_orders, usage_records, receipts, payroll_runs, bills, payments: the whole
            year's transactional records, in month order.
    """

    master: DemoMaster
    sales_orders: tuple[SalesOrder, ...]
    usage_records: tuple[UsageRecord, ...]
    receipts: tuple[Receipt, ...]
    payroll_runs: tuple[PayrollRun, ...]
    bills: tuple[Bill, ...]
    payments: tuple[Payment, ...]

    def __getattr__(self, name: str):
        # Reference data reads as if it were flat: records.customers, records.employees…
        if name != "master" and name in DemoMaster.__dataclass_fields__:
            return getattr(self.master, name)
        raise AttributeError(name)

    def records(self):
        """Every linkable record (everything with a `SYSTEM`), group by group."""
        for group in RECORD_GROUPS:
            yield from getattr(self, group)

    def index(self) -> dict[tuple[str, str], dict[str, SourceRecord]]:
        """(system, record type) → record id → record."""
        found: dict[tuple[str, str], dict[str, SourceRecord]] = {}
        for record in self.records():
            found.setdefault((record.SYSTEM, record.RECORD_TYPE), {})[record.id] = record
        return found

    def count(self) -> dict[str, int]:
        return {group: len(getattr(self, group)) for group in RECORD_GROUPS}
