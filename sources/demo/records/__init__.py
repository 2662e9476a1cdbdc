"""The records the demo world's source systems own, as frozen dataclasses.

Five systems run beside the ledger on loopback, one port each (`SYSTEM_PORTS`):

- ``crm`` (REST): customers, opportunities, sales orders, and the product catalogue;
- ``pos`` (SQL database): hotel receipts with their lines, and the POS item catalogue;
- ``hr`` (GraphQL subgraph): departments, locations, employees, hires, terminations, payroll runs;
- ``usage`` (REST): daily metered usage (gigabytes) per software customer;
- ``ap`` (REST, bill payment): vendors, bills with their lines, payments.

Records know nothing of the ledger (layering rule: `sources` never imports `ledger`); the demo
world builder maps them to accounts and dimensions. Money is an integer number of minor units
of `currency` (cents, euro cents); quantities that are not whole are `Decimal` with a fixed
number of places. Nothing here is ever a float.

A record that ledger lines may link to has the class attributes `SYSTEM` and `RECORD_TYPE`;
its `url` is the deep link a `SourceLink` carries, built by `record_url` from the one table of
ports and paths in `base`.
"""

from .ap import Bill, BillLine, Payment, Vendor
from .base import (
    AP,
    CRM,
    DEMO_HOST,
    DEMO_YEAR,
    HR,
    POS,
    RECORD_PATHS,
    SYSTEM_PORTS,
    USAGE,
    SourceRecord,
    record_url,
    system_base_url,
)
from .crm import Customer, Opportunity, Product, SalesOrder
from .hr import Department, Employee, Hire, Location, PayrollRun, Payslip, Termination
from .pos import PosItem, Receipt, ReceiptLine
from .usage import UsageRecord
from .world import (
    MASTER_RECORD_GROUPS,
    MONTH_RECORD_GROUPS,
    RECORD_GROUPS,
    CompanyProfile,
    DemoMaster,
    DemoRecords,
    MonthRecords,
    Project,
)

__all__ = [
    "AP",
    "CRM",
    "DEMO_HOST",
    "DEMO_YEAR",
    "HR",
    "MASTER_RECORD_GROUPS",
    "MONTH_RECORD_GROUPS",
    "POS",
    "RECORD_GROUPS",
    "RECORD_PATHS",
    "SYSTEM_PORTS",
    "USAGE",
    "Bill",
    "BillLine",
    "CompanyProfile",
    "Customer",
    "DemoMaster",
    "DemoRecords",
    "Department",
    "Employee",
    "Hire",
    "Location",
    "MonthRecords",
    "Opportunity",
    "Payment",
    "PayrollRun",
    "Payslip",
    "PosItem",
    "Product",
    "Project",
    "Receipt",
    "ReceiptLine",
    "SalesOrder",
    "SourceRecord",
    "Termination",
    "UsageRecord",
    "Vendor",
    "record_url",
    "system_base_url",
]
