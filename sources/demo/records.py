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
ports and paths below.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

DEMO_YEAR = 2026
DEMO_HOST = "127.0.0.1"

CRM, POS, HR, USAGE, AP = "crm", "pos", "hr", "usage", "ap"

SYSTEM_PORTS: dict[str, int] = {CRM: 8101, POS: 8102, HR: 8103, USAGE: 8104, AP: 8105}
"""The loopback port each demo source system listens on."""

RECORD_PATHS: dict[tuple[str, str], str] = {
    (CRM, "Customer"): "customers",
    (CRM, "Opportunity"): "opportunities",
    (CRM, "SalesOrder"): "sales-orders",
    (CRM, "Product"): "products",
    (POS, "Receipt"): "receipts",
    (POS, "PosItem"): "items",
    (HR, "Location"): "locations",
    (HR, "Department"): "departments",
    (HR, "Employee"): "employees",
    (HR, "Hire"): "hires",
    (HR, "Termination"): "terminations",
    (HR, "PayrollRun"): "payroll-runs",
    (USAGE, "UsageRecord"): "usage-records",
    (AP, "Vendor"): "vendors",
    (AP, "Bill"): "bills",
    (AP, "Payment"): "payments",
}
"""The URL collection of each (system, record type)."""


def system_base_url(system: str, *, host: str = DEMO_HOST) -> str:
    """The root URL of a demo system, e.g. ``http://127.0.0.1:8101``."""
    return f"http://{host}:{SYSTEM_PORTS[system]}"


def record_url(system: str, record_type: str, record_id: str, *, host: str = DEMO_HOST) -> str:
    """The deep link to one record, e.g. ``http://127.0.0.1:8101/crm/sales-orders/SO-2026-000123``."""
    path = RECORD_PATHS[(system, record_type)]
    return f"{system_base_url(system, host=host)}/{system}/{path}/{record_id}"


class SourceRecord:
    """Mixin of records that ledger lines may link to.

    Subclasses are frozen dataclasses with an `id` field and set `SYSTEM` and `RECORD_TYPE`.
    """

    SYSTEM: ClassVar[str]
    RECORD_TYPE: ClassVar[str]
    id: str

    @property
    def url(self) -> str:
        return record_url(self.SYSTEM, self.RECORD_TYPE, self.id)

    @property
    def key(self) -> tuple[str, str, str]:
        """(system, record type, id): what a ledger source link names."""
        return (self.SYSTEM, self.RECORD_TYPE, self.id)


# --------------------------------------------------------------------------------------- CRM


@dataclass(frozen=True)
class Product(SourceRecord):
    """A software product in the CRM catalogue (a plan, metered usage, or a service).

    Attributes:
        id: product code, e.g. ``PLAN-TEAM``; also the ledger ITEM dimension code.
        company: owning company code.
        name: display name.
        kind: ``subscription``, ``usage`` or ``services``.
        unit: what one unit is (``seat-month``, ``GB``, ``project``).
        unit_price: list price per unit in currency units (exact; may have more places
            than the currency, e.g. ``0.085`` per GB); None when quoted per order.
        currency: ISO 4217 code.
    """

    SYSTEM: ClassVar[str] = CRM
    RECORD_TYPE: ClassVar[str] = "Product"

    id: str
    company: str
    name: str
    kind: str
    unit: str
    unit_price: Decimal | None
    currency: str


@dataclass(frozen=True)
class Customer(SourceRecord):
    """A customer account in the CRM (software customers and the hotel's corporate accounts).

    Attributes:
        id: ``CUST-0007``; also the ledger CUSTOMER dimension code.
        company: the company the customer buys from.
        name: company name.
        segment: ``SMB``, ``MIDMARKET``, ``ENTERPRISE`` (software) or ``CORPORATE`` (hotel).
        country: ISO 3166 alpha-2 code.
        since: first day as a customer (may be inside the demo year).
        plan_id: subscribed plan (`Product.id`); None for hotel accounts.
        seats: subscribed seats; 0 for hotel accounts.
        metered: whether usage (GB) is tracked and billed monthly.
        payment_terms_days: days until an invoice is due.
    """

    SYSTEM: ClassVar[str] = CRM
    RECORD_TYPE: ClassVar[str] = "Customer"

    id: str
    company: str
    name: str
    segment: str
    country: str
    since: dt.date
    plan_id: str | None
    seats: int
    metered: bool
    payment_terms_days: int


@dataclass(frozen=True)
class Opportunity(SourceRecord):
    """A sales opportunity; won ones become customers or professional-services projects.

    Attributes:
        id: ``OPP-000012``.
        company: selling company.
        customer_id: the (prospective) customer.
        name: short description.
        kind: ``new_business`` or ``services``.
        stage: ``won``, ``lost`` or ``open``.
        amount_minor: expected value in minor units of `currency`.
        currency: ISO 4217 code.
        created_on: when the opportunity was opened.
        close_date: when it was won or lost (expected close date while open).
        project_id: the delivery project of a won services opportunity (PROJECT dimension code).
    """

    SYSTEM: ClassVar[str] = CRM
    RECORD_TYPE: ClassVar[str] = "Opportunity"

    id: str
    company: str
    customer_id: str
    name: str
    kind: str
    stage: str
    amount_minor: int
    currency: str
    created_on: dt.date
    close_date: dt.date
    project_id: str | None


@dataclass(frozen=True)
class SalesOrder(SourceRecord):
    """An invoiced sales order: a month of subscription, a month of metered usage, or a project.

    Attributes:
        id: ``SO-2026-000123``.
        company: selling company.
        customer_id: buyer (`Customer.id`).
        order_date: invoice date.
        kind: ``subscription``, ``usage`` or ``services``.
        product_id: what was sold (`Product.id`).
        quantity: seats, GB (three places) or 1 project; exact.
        unit_price: price per unit in currency units; exact.
        amount_minor: invoiced amount in minor units (quantity × unit price, rounded half up).
        currency: ISO 4217 code.
        period_start / period_end: service period covered.
        due_date: payment due date.
        paid_on: when the customer paid, or None if still open at year end.
        opportunity_id: the won opportunity behind a services order.
        project_id: delivery project of a services order (PROJECT dimension code).
    """

    SYSTEM: ClassVar[str] = CRM
    RECORD_TYPE: ClassVar[str] = "SalesOrder"

    id: str
    company: str
    customer_id: str
    order_date: dt.date
    kind: str
    product_id: str
    quantity: Decimal
    unit_price: Decimal
    amount_minor: int
    currency: str
    period_start: dt.date
    period_end: dt.date
    due_date: dt.date
    paid_on: dt.date | None
    opportunity_id: str | None = None
    project_id: str | None = None

    @property
    def status(self) -> str:
        return "paid" if self.paid_on is not None else "invoiced"


# --------------------------------------------------------------------------------------- POS


@dataclass(frozen=True)
class PosItem(SourceRecord):
    """An item in the hotel POS catalogue (a room type, food, beverages).

    Attributes:
        id: ``ROOM-DLX``, ``FOOD``…; also the ledger ITEM dimension code.
        company: owning company code.
        name: display name.
        category: ``room``, ``food`` or ``beverage``.
        tax_rate: VAT rate as an exact fraction (``0.07``).
        currency: ISO 4217 code.
    """

    SYSTEM: ClassVar[str] = POS
    RECORD_TYPE: ClassVar[str] = "PosItem"

    id: str
    company: str
    name: str
    category: str
    tax_rate: Decimal
    currency: str


@dataclass(frozen=True)
class ReceiptLine:
    """One line of a POS receipt (kept as detail in the POS; the ledger gets summaries).

    Attributes:
        receipt_id: the receipt this line belongs to.
        line_no: 1-based position on the receipt.
        item_id: `PosItem.id`.
        description: what the guest saw on the receipt.
        quantity: units (nights for rooms); whole numbers.
        unit_price_minor: net price per unit in minor units.
        net_minor: quantity × unit price, net of VAT.
        tax_rate: VAT rate, exact.
        tax_minor: VAT on the line (net × rate, rounded half up).
    """

    receipt_id: str
    line_no: int
    item_id: str
    description: str
    quantity: int
    unit_price_minor: int
    net_minor: int
    tax_rate: Decimal
    tax_minor: int

    @property
    def total_minor(self) -> int:
        return self.net_minor + self.tax_minor


@dataclass(frozen=True)
class Receipt(SourceRecord):
    """A closed POS receipt: a hotel checkout (room folio), a restaurant or a bar bill.

    Attributes:
        id: ``R-HTL1-2026-0001234`` (numbered per hotel through the year).
        company: owning company code.
        location_id: the hotel (`Location.id`).
        outlet: ``FRONT_DESK``, ``RESTAURANT`` or ``BAR``.
        business_date: the POS business day the receipt belongs to.
        closed_at: local time the receipt was closed.
        payment_method: ``card``, ``cash`` or ``account`` (charged to a corporate account).
        customer_id: the corporate account (`Customer.id`) when paid on account.
        lines: the receipt's lines, in order.
        currency: ISO 4217 code.
    """

    SYSTEM: ClassVar[str] = POS
    RECORD_TYPE: ClassVar[str] = "Receipt"

    id: str
    company: str
    location_id: str
    outlet: str
    business_date: dt.date
    closed_at: dt.datetime
    payment_method: str
    customer_id: str | None
    lines: tuple[ReceiptLine, ...]
    currency: str

    @property
    def net_minor(self) -> int:
        return sum(line.net_minor for line in self.lines)

    @property
    def tax_minor(self) -> int:
        return sum(line.tax_minor for line in self.lines)

    @property
    def total_minor(self) -> int:
        return sum(line.total_minor for line in self.lines)

    @property
    def room_nights(self) -> int:
        return sum(line.quantity for line in self.lines if line.item_id.startswith("ROOM-"))


# ---------------------------------------------------------------------------------------- HR


@dataclass(frozen=True)
class Location(SourceRecord):
    """A site where people work: a software office or a hotel.

    Attributes:
        id: ``NYC``, ``HTL1``…; also the ledger LOCATION dimension code.
        company: owning company code.
        name: display name.
        city: city.
        country: ISO 3166 alpha-2 code.
        rooms: number of guest rooms (hotels), 0 for offices.
    """

    SYSTEM: ClassVar[str] = HR
    RECORD_TYPE: ClassVar[str] = "Location"

    id: str
    company: str
    name: str
    city: str
    country: str
    rooms: int


@dataclass(frozen=True)
class Department(SourceRecord):
    """An organisational unit.

    Attributes:
        id: ``ENG``, ``HSKP``…; unique across companies; also the DEPARTMENT dimension code.
        company: owning company code.
        name: display name.
    """

    SYSTEM: ClassVar[str] = HR
    RECORD_TYPE: ClassVar[str] = "Department"

    id: str
    company: str
    name: str


@dataclass(frozen=True)
class Employee(SourceRecord):
    """A person employed (now or during the demo year) by one company.

    Attributes:
        id: ``EMP-0042``; also the ledger EMPLOYEE dimension code.
        company: employing company code.
        name: full name.
        title: job title.
        department_id: `Department.id`.
        location_id: `Location.id`.
        hire_date: first day of employment.
        termination_date: last day of employment, or None.
        annual_salary_minor: gross yearly salary in minor units of `currency`. Sensitive:
            only callers entitled to compensation data may see it.
        currency: ISO 4217 code.
    """

    SYSTEM: ClassVar[str] = HR
    RECORD_TYPE: ClassVar[str] = "Employee"

    id: str
    company: str
    name: str
    title: str
    department_id: str
    location_id: str
    hire_date: dt.date
    termination_date: dt.date | None
    annual_salary_minor: int
    currency: str

    def employed_on(self, day: dt.date) -> bool:
        return self.hire_date <= day and (
            self.termination_date is None or day <= self.termination_date
        )


@dataclass(frozen=True)
class Hire(SourceRecord):
    """The event of an employee joining during the demo year.

    Attributes:
        id: ``HIRE-0003``.
        company: employing company code.
        employee_id: `Employee.id`.
        date: first day of work.
        department_id / location_id: where the employee starts.
    """

    SYSTEM: ClassVar[str] = HR
    RECORD_TYPE: ClassVar[str] = "Hire"

    id: str
    company: str
    employee_id: str
    date: dt.date
    department_id: str
    location_id: str


@dataclass(frozen=True)
class Termination(SourceRecord):
    """The event of an employee leaving during the demo year.

    Attributes:
        id: ``TERM-0002``.
        company: employing company code.
        employee_id: `Employee.id`.
        date: last day of work.
        department_id / location_id: where the employee worked.
        reason: ``resignation``, ``retirement`` or ``end_of_contract``.
    """

    SYSTEM: ClassVar[str] = HR
    RECORD_TYPE: ClassVar[str] = "Termination"

    id: str
    company: str
    employee_id: str
    date: dt.date
    department_id: str
    location_id: str
    reason: str


@dataclass(frozen=True)
class Payslip:
    """One employee's pay in a payroll run (detail of `PayrollRun`). Sensitive.

    Attributes:
        run_id: `PayrollRun.id`.
        employee_id / department_id / location_id: who was paid, and where they work.
        days_worked: days employed in the pay period.
        gross_minor: gross pay (salary prorated by days employed).
        withholding_minor: employee taxes and contributions withheld.
        net_minor: gross minus withholding, paid to the employee.
        employer_tax_minor: employer's payroll taxes on top of gross.
    """

    run_id: str
    employee_id: str
    department_id: str
    location_id: str
    days_worked: int
    gross_minor: int
    withholding_minor: int
    net_minor: int
    employer_tax_minor: int


@dataclass(frozen=True)
class PayrollRun(SourceRecord):
    """A monthly payroll run of one company.

    Attributes:
        id: ``PR-SOFTCO-2026-03``.
        company: paying company code.
        period_start / period_end: the month paid.
        pay_date: when net pay left the bank.
        payslips: one per employee employed during the period.
        currency: ISO 4217 code.
    """

    SYSTEM: ClassVar[str] = HR
    RECORD_TYPE: ClassVar[str] = "PayrollRun"

    id: str
    company: str
    period_start: dt.date
    period_end: dt.date
    pay_date: dt.date
    payslips: tuple[Payslip, ...]
    currency: str

    @property
    def gross_minor(self) -> int:
        return sum(p.gross_minor for p in self.payslips)


# ------------------------------------------------------------------------------------- usage


@dataclass(frozen=True)
class UsageRecord(SourceRecord):
    """A metered customer's storage use on one day.

    Attributes:
        id: ``U-CUST-0007-2026-03-14``.
        company: the selling company.
        customer_id: `Customer.id`.
        day: the day measured.
        gb_used: gigabytes used, exact with three places (``Decimal("12.345")``), > 0.
    """

    SYSTEM: ClassVar[str] = USAGE
    RECORD_TYPE: ClassVar[str] = "UsageRecord"

    id: str
    company: str
    customer_id: str
    day: dt.date
    gb_used: Decimal


# --------------------------------------------------------------------------- bill payment


@dataclass(frozen=True)
class Vendor(SourceRecord):
    """A supplier in the bill-payment system.

    Attributes:
        id: ``V-0012``; also the ledger VENDOR dimension code.
        company: the buying company.
        name: supplier name.
        category: main spend category (``HOSTING``, ``FNB_SUPPLIES``…).
        location_id: the site it mostly supplies (`Location.id`).
        payment_terms_days: days from bill date to due date.
        cadence: ``monthly`` (one bill a month) or ``adhoc``.
        currency: ISO 4217 code.
    """

    SYSTEM: ClassVar[str] = AP
    RECORD_TYPE: ClassVar[str] = "Vendor"

    id: str
    company: str
    name: str
    category: str
    location_id: str
    payment_terms_days: int
    cadence: str
    currency: str


@dataclass(frozen=True)
class BillLine:
    """One line of a vendor bill (detail; the ledger gets one summary line per account/department).

    Attributes:
        bill_id: `Bill.id`.
        line_no: 1-based position on the bill.
        description: what was bought.
        category: spend category (mapped to an expense account by the ledger side).
        department_id: the department charged.
        location_id: the site charged.
        project_id: the project charged, if any.
        quantity: units bought; exact.
        amount_minor: line amount in minor units (> 0).
    """

    bill_id: str
    line_no: int
    description: str
    category: str
    department_id: str
    location_id: str
    project_id: str | None
    quantity: Decimal
    amount_minor: int


@dataclass(frozen=True)
class Bill(SourceRecord):
    """A vendor bill, possibly with thousands of lines.

    Attributes:
        id: ``BILL-000321``.
        company: the buying company.
        vendor_id: `Vendor.id`.
        vendor_invoice: the vendor's own invoice number.
        bill_date / due_date: dates.
        lines: the bill's lines, in order.
        currency: ISO 4217 code.
    """

    SYSTEM: ClassVar[str] = AP
    RECORD_TYPE: ClassVar[str] = "Bill"

    id: str
    company: str
    vendor_id: str
    vendor_invoice: str
    bill_date: dt.date
    due_date: dt.date
    lines: tuple[BillLine, ...]
    currency: str

    @property
    def total_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)


@dataclass(frozen=True)
class Payment(SourceRecord):
    """A payment of one bill in full.

    Attributes:
        id: ``PAY-000321``.
        company: the paying company.
        bill_id / vendor_id: what was paid, to whom.
        paid_on: value date.
        amount_minor: amount paid in minor units.
        method: ``ach``, ``wire`` or ``sepa``.
        currency: ISO 4217 code.
    """

    SYSTEM: ClassVar[str] = AP
    RECORD_TYPE: ClassVar[str] = "Payment"

    id: str
    company: str
    bill_id: str
    vendor_id: str
    paid_on: dt.date
    amount_minor: int
    method: str
    currency: str


# ------------------------------------------------------------------------------ the world


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


RECORD_GROUPS = (
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
    "sales_orders",
    "usage_records",
    "receipts",
    "payroll_runs",
    "bills",
    "payments",
)


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
