"""Posting the demo ledger from the demo world's source records (`sources.demo`).

Source-first: `sources.demo.generate` makes the CRM, POS, HR, usage and bill-payment records
of 2026; this module sets up two entities (SOFTCO in USD, HOTELCO in EUR) with their chart of
accounts, dimensions, journals and periods, posts 2025 opening balances and closes 2025, then
posts the year month by month. Every line derived from a source record links to it
(system, record type, id, deep link), so each ledger link names a record the demo services
can serve.

High-volume detail is summarised the way the design asks: a hotel day's receipts become one
POS entry per hotel with a line per item (each line linking to every receipt behind it), a
vendor bill becomes one line per expense account/department/site/project, usage becomes one
statistical entry per day with a line per customer. Statistical quantities (headcount,
room-nights, GB used) go to statistical accounts in entries of their own.

Entries are queued per entity and month and posted in date order, in batches of a few
hundred entries per transaction through `ledger.posting.post_entries`, each with the
idempotency key ``demo:<record id>`` (or ``demo:<summary key>``). Only one month of drafts is
held at a time, so a million-line build stays small in memory.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ledger.drafts import EntryDraft, LineDraft, SourceRef
from ledger.model import AccountType as AT
from ledger.model import DimensionKind
from ledger.money import currency_scale
from ledger.posting import Posting, post_entries
from ledger.reference import (
    AccountSpec,
    add_accounts,
    add_dimension_values,
    add_journals,
    add_monthly_periods,
    close_periods_through,
    create_entity,
)
from ledger.store import LedgerDatabase
from sources.demo.generate import generate_master, iter_months, month_end
from sources.demo.records import (
    AP,
    DEMO_YEAR,
    Bill,
    CompanyProfile,
    DemoMaster,
    Employee,
    MonthRecords,
    Payment,
    PayrollRun,
    Receipt,
    SalesOrder,
    SourceRecord,
    UsageRecord,
    record_url,
)

OPENING_DATE = dt.date(DEMO_YEAR - 1, 12, 31)
BATCH_ENTRIES = 400
BATCH_LINES = 4_000

DEPARTMENT = DimensionKind.DEPARTMENT.value
LOCATION = DimensionKind.LOCATION.value
PROJECT = DimensionKind.PROJECT.value
CUSTOMER = DimensionKind.CUSTOMER.value
VENDOR = DimensionKind.VENDOR.value
EMPLOYEE = DimensionKind.EMPLOYEE.value
ITEM = DimensionKind.ITEM.value
CLASS = DimensionKind.CLASS.value

JOURNALS = (
    ("GJ", "General journal"),
    ("SALES", "Sales journal"),
    ("AR", "Cash receipts"),
    ("AP", "Accounts payable"),
    ("PAYROLL", "Payroll"),
    ("POS", "Point of sale"),
    ("STAT", "Statistical journal"),
)

# -------------------------------------------------------------------- charts of accounts

SOFTWARE_CHART = (
    AccountSpec("1000", "Cash - operating", AT.ASSET),
    AccountSpec("1010", "Cash - payroll", AT.ASSET),
    AccountSpec("1100", "Accounts receivable", AT.ASSET),
    AccountSpec("1150", "Allowance for doubtful accounts", AT.ASSET),
    AccountSpec("1200", "Prepaid expenses", AT.ASSET),
    AccountSpec("1500", "Computer equipment", AT.ASSET),
    AccountSpec("1510", "Accumulated depreciation - equipment", AT.ASSET),
    AccountSpec("1600", "Capitalized software", AT.ASSET),
    AccountSpec("1610", "Accumulated amortization - software", AT.ASSET),
    AccountSpec("2000", "Accounts payable", AT.LIABILITY),
    AccountSpec("2100", "Accrued liabilities", AT.LIABILITY),
    AccountSpec("2200", "Payroll taxes payable", AT.LIABILITY),
    AccountSpec("2210", "Employee withholdings payable", AT.LIABILITY),
    AccountSpec("2300", "Sales tax payable", AT.LIABILITY),
    AccountSpec("2400", "Deferred revenue", AT.LIABILITY),
    AccountSpec("3000", "Common stock", AT.EQUITY),
    AccountSpec("3100", "Additional paid-in capital", AT.EQUITY),
    AccountSpec("3900", "Retained earnings", AT.EQUITY),
    AccountSpec("4000", "Subscription revenue", AT.REVENUE),
    AccountSpec("4100", "Usage revenue", AT.REVENUE),
    AccountSpec("4200", "Professional services revenue", AT.REVENUE),
    AccountSpec("4900", "Interest income", AT.REVENUE),
    AccountSpec("5000", "Hosting costs", AT.EXPENSE),
    AccountSpec("5100", "Third-party licences", AT.EXPENSE),
    AccountSpec("6000", "Salaries and wages", AT.EXPENSE),
    AccountSpec("6010", "Payroll taxes", AT.EXPENSE),
    AccountSpec("6020", "Employee benefits", AT.EXPENSE),
    AccountSpec("6100", "Rent", AT.EXPENSE),
    AccountSpec("6200", "Software subscriptions", AT.EXPENSE),
    AccountSpec("6300", "Travel and entertainment", AT.EXPENSE),
    AccountSpec("6400", "Marketing", AT.EXPENSE),
    AccountSpec("6500", "Legal and professional fees", AT.EXPENSE),
    AccountSpec("6600", "Office and supplies", AT.EXPENSE),
    AccountSpec("6700", "Depreciation and amortization", AT.EXPENSE),
    AccountSpec("6800", "Telecommunications", AT.EXPENSE),
    AccountSpec("9000", "Headcount", AT.STATISTICAL, unit="people", quantity_scale=0),
    AccountSpec("9100", "Storage used", AT.STATISTICAL, unit="GB", quantity_scale=3),
)
HOTEL_CHART = (
    AccountSpec("1000", "Cash on hand", AT.ASSET),
    AccountSpec("1010", "Bank - operating", AT.ASSET),
    AccountSpec("1050", "Card clearing", AT.ASSET),
    AccountSpec("1100", "Accounts receivable - city ledger", AT.ASSET),
    AccountSpec("1200", "Food and beverage inventory", AT.ASSET),
    AccountSpec("1300", "Prepaid expenses", AT.ASSET),
    AccountSpec("1500", "Land and buildings", AT.ASSET),
    AccountSpec("1510", "Accumulated depreciation - buildings", AT.ASSET),
    AccountSpec("1520", "Furniture, fixtures and equipment", AT.ASSET),
    AccountSpec("1530", "Accumulated depreciation - FF&E", AT.ASSET),
    AccountSpec("2000", "Accounts payable", AT.LIABILITY),
    AccountSpec("2100", "Accrued liabilities", AT.LIABILITY),
    AccountSpec("2200", "Payroll taxes payable", AT.LIABILITY),
    AccountSpec("2210", "Employee withholdings payable", AT.LIABILITY),
    AccountSpec("2300", "VAT payable", AT.LIABILITY),
    AccountSpec("2400", "Guest deposits", AT.LIABILITY),
    AccountSpec("2500", "Bank loan", AT.LIABILITY),
    AccountSpec("3000", "Share capital", AT.EQUITY),
    AccountSpec("3900", "Retained earnings", AT.EQUITY),
    AccountSpec("4000", "Room revenue", AT.REVENUE),
    AccountSpec("4100", "Food revenue", AT.REVENUE),
    AccountSpec("4200", "Beverage revenue", AT.REVENUE),
    AccountSpec("4300", "Other operating revenue", AT.REVENUE),
    AccountSpec("5000", "Cost of food", AT.EXPENSE),
    AccountSpec("5100", "Cost of beverages", AT.EXPENSE),
    AccountSpec("6000", "Salaries and wages", AT.EXPENSE),
    AccountSpec("6010", "Payroll taxes", AT.EXPENSE),
    AccountSpec("6100", "Utilities", AT.EXPENSE),
    AccountSpec("6200", "Repairs and maintenance", AT.EXPENSE),
    AccountSpec("6300", "Laundry and linen", AT.EXPENSE),
    AccountSpec("6400", "Sales and OTA commissions", AT.EXPENSE),
    AccountSpec("6500", "Insurance", AT.EXPENSE),
    AccountSpec("6600", "Depreciation", AT.EXPENSE),
    AccountSpec("6700", "Interest expense", AT.EXPENSE),
    AccountSpec("9000", "Headcount", AT.STATISTICAL, unit="people", quantity_scale=0),
    AccountSpec("9100", "Room-nights sold", AT.STATISTICAL, unit="rooms", quantity_scale=0),
    AccountSpec("9110", "Room-nights available", AT.STATISTICAL, unit="rooms", quantity_scale=0),
)

# Bill-line spend category → expense (or asset) account, per company kind.
SPEND_ACCOUNTS = {
    "software": {
        "HOSTING": "5000",
        "RENT": "6100",
        "SOFTWARE": "6200",
        "TELECOM": "6800",
        "TRAVEL": "6300",
        "MARKETING": "6400",
        "LEGAL": "6500",
        "OFFICE": "6600",
    },
    "hotel": {
        "FOOD_SUPPLIES": "5000",
        "BEVERAGE_SUPPLIES": "5100",
        "UTILITIES": "6100",
        "MAINTENANCE": "6200",
        "LAUNDRY": "6300",
        "MARKETING": "6400",
        "INSURANCE": "6500",
        "CAPEX": "1520",
    },
}
SALES_ACCOUNTS = {"subscription": "4000", "usage": "4100", "services": "4200"}
SALES_DEPARTMENTS = {"subscription": "SALES", "usage": "SALES", "services": "SUPPORT"}
POS_ACCOUNTS = {"room": "4000", "food": "4100", "beverage": "4200"}
POS_DEPARTMENTS = {"room": "ROOMS", "food": "FNB", "beverage": "FNB"}
POS_CLASSES = {"room": "LODGING", "food": "FNB", "beverage": "FNB"}
PAYMENT_ACCOUNTS = {"card": "1050", "cash": "1000"}
CLASSES = {
    "software": (
        ("SMB", "Small business"),
        ("MIDMARKET", "Mid-market"),
        ("ENTERPRISE", "Enterprise"),
    ),
    "hotel": (("LODGING", "Lodging"), ("FNB", "Food and beverage")),
}

# Opening balances (2025-12-31), in whole currency units: debit positive, credit negative.
# SOFTCO's are multiplied by the scale; HOTELCO's are per hotel, per room where it says so.
SOFTWARE_OPENING = {
    "1000": 4_800_000,
    "1010": 250_000,
    "1100": 420_000,
    "1200": 85_000,
    "1500": 640_000,
    "1600": 900_000,
    "1510": -210_000,
    "1610": -300_000,
    "2000": -160_000,
    "2100": -95_000,
    "2200": -60_000,
    "2210": -90_000,
    "2400": -180_000,
    "3000": -10_000,
    "3100": -6_500_000,
}
HOTEL_OPENING = {
    "1000": 6_000,
    "1010": 250_000,
    "1100": 40_000,
    "1200": 25_000,
    "1300": 12_000,
    "2000": -60_000,
    "2100": -30_000,
    "2200": -25_000,
    "2210": -20_000,
    "2300": -35_000,
    "2400": -18_000,
    "3000": -500_000,
}
HOTEL_OPENING_PER_ROOM = {
    "1500": 180_000,
    "1510": -36_000,
    "1520": 30_000,
    "1530": -12_000,
    "2500": -90_000,
}
RETAINED_EARNINGS = "3900"


# ---------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class EntitySummary:
    """What `build_demo` created for one entity."""

    code: str
    entity_id: int
    currency: str
    accounts: int
    dimension_values: int
    entries: int
    lines: int
    source_links: int


@dataclass(frozen=True)
class DemoSummary:
    """What `build_demo` created, per entity and in total."""

    seed: int
    scale: float
    entities: tuple[EntitySummary, ...]

    @property
    def accounts(self) -> int:
        return sum(e.accounts for e in self.entities)

    @property
    def entries(self) -> int:
        return sum(e.entries for e in self.entities)

    @property
    def lines(self) -> int:
        return sum(e.lines for e in self.entities)

    @property
    def source_links(self) -> int:
        return sum(e.source_links for e in self.entities)

    def __str__(self) -> str:
        codes = ", ".join(e.code for e in self.entities)
        return (
            f"{len(self.entities)} entities ({codes}), {self.accounts} accounts, "
            f"{self.entries:,} entries, {self.lines:,} lines, {self.source_links:,} source links"
            f" (seed {self.seed}, scale {self.scale:g})"
        )


# ------------------------------------------------------------------------------ posting


def _ref(record: SourceRecord) -> SourceRef:
    return SourceRef(record.SYSTEM, record.RECORD_TYPE, record.id, record.url)


@dataclass
class _Book:
    """One entity's postings, queued by month and posted in date order, in batches."""

    db: LedgerDatabase
    profile: CompanyProfile
    entity_id: int
    progress: Callable[[int], None] | None
    scale: int = 2
    queue: dict[int, list[tuple[dt.date, int, Posting, int, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    order: int = 0
    entries: int = 0
    lines: int = 0
    links: int = 0

    def money(self, minor: int) -> Decimal:
        return Decimal(minor).scaleb(-self.scale)

    def add(self, key: str, draft: EntryDraft) -> None:
        if not draft.lines:
            return
        month = draft.date.month if draft.date.year == DEMO_YEAR else 0
        links = sum(len(line.sources) for line in draft.lines) + (draft.source is not None)
        self.order += 1
        self.queue[month].append(
            (draft.date, self.order, Posting(draft, f"demo:{key}"), len(draft.lines), links)
        )

    async def post(self, month: int) -> None:
        items = sorted(self.queue.pop(month, ()), key=lambda item: (item[0], item[1]))
        if not items:
            return
        async with self.db.session(self.entity_id) as session:
            batch: list[Posting] = []
            lines = links = 0
            for _, _, posting, n_lines, n_links in items:
                batch.append(posting)
                lines += n_lines
                links += n_links
                if len(batch) >= BATCH_ENTRIES or lines >= BATCH_LINES:
                    await self._flush(session, batch, lines, links)
                    batch, lines, links = [], 0, 0
            if batch:
                await self._flush(session, batch, lines, links)

    async def _flush(self, session, batch: list[Posting], lines: int, links: int) -> None:
        await post_entries(session, batch)
        self.entries += len(batch)
        self.lines += lines
        self.links += links
        if self.progress is not None:
            self.progress(lines)


# -------------------------------------------------------------------------- the mapping


class _Company:
    """How one company's source records become ledger entries."""

    chart: Sequence[AccountSpec] = ()
    payroll_cash = "1010"  # pays net pay and remits payroll taxes
    payment_account = "1000"  # pays vendor bills

    def __init__(self, book: _Book, master: DemoMaster, scale: float):
        self.book = book
        self.master = master
        self.scale = scale
        code = book.profile.code
        self.code = code
        self.kind = book.profile.kind
        self.employees = [e for e in master.employees if e.company == code]
        self.employee_by_id = {e.id: e for e in self.employees}
        self.customers = {c.id: c for c in master.customers if c.company == code}
        self.vendors = {v.id: v for v in master.vendors if v.company == code}
        self.locations = [loc for loc in master.locations if loc.company == code]
        self.refs: dict[tuple[str, str, str], SourceRef] = {}

    def ref(self, record: SourceRecord) -> SourceRef:
        """The record's link, one shared object per record."""
        found = self.refs.get(record.key)
        if found is None:
            found = self.refs[record.key] = _ref(record)
        return found

    # --- reference data

    def dimension_values(self) -> list[tuple[DimensionKind, str, str]]:
        m, code = self.master, self.code
        values = [
            (DimensionKind.DEPARTMENT, d.id, d.name) for d in m.departments if d.company == code
        ]
        values += [(DimensionKind.LOCATION, loc.id, loc.name) for loc in self.locations]
        values += [(DimensionKind.PROJECT, p.id, p.name) for p in m.projects if p.company == code]
        values += [(DimensionKind.CUSTOMER, c.id, c.name) for c in self.customers.values()]
        values += [(DimensionKind.VENDOR, v.id, v.name) for v in self.vendors.values()]
        values += [(DimensionKind.EMPLOYEE, e.id, e.name) for e in self.employees]
        values += [(DimensionKind.ITEM, p.id, p.name) for p in m.products if p.company == code]
        values += [(DimensionKind.ITEM, p.id, p.name) for p in m.pos_items if p.company == code]
        values += [(DimensionKind.CLASS, k, name) for k, name in CLASSES[self.kind]]
        return values

    # --- opening

    def opening(self) -> None:
        self.book.add(f"opening:{self.code}", self.opening_balances())
        lines = []
        for e in self.employees:
            if e.employed_on(OPENING_DATE):
                lines.append(
                    LineDraft(
                        "9000",
                        quantity=Decimal(1),
                        dimensions=self.person(e),
                        sources=(self.ref(e),),
                    )
                )
        self.book.add(
            f"opening-headcount:{self.code}",
            EntryDraft("STAT", OPENING_DATE, tuple(lines), "Opening headcount"),
        )

    def opening_balances(self) -> EntryDraft:
        raise NotImplementedError

    def balanced_opening(self, amounts: dict[str, int], dims=()) -> list[LineDraft]:
        """Opening lines from whole-unit amounts, with retained earnings as the plug."""
        amounts = dict(amounts)
        amounts[RETAINED_EARNINGS] = -sum(amounts.values())
        lines = []
        for account, units in sorted(amounts.items()):
            if units:
                value = self.book.money(abs(units) * 10**self.book.scale)
                lines.append(
                    LineDraft(
                        account,
                        debit=value if units > 0 else None,
                        credit=value if units < 0 else None,
                        dimensions=dims,
                    )
                )
        return lines

    @staticmethod
    def person(e: Employee) -> tuple[tuple[str, str], ...]:
        return ((DEPARTMENT, e.department_id), (LOCATION, e.location_id), (EMPLOYEE, e.id))

    # --- the month

    def month(self, records: MonthRecords) -> None:
        for run in records.payroll_runs:
            if run.company == self.code:
                self.payroll(run)
        payments = [p for p in records.payments if p.company == self.code]
        for bill in records.bills:
            if bill.company == self.code:
                self.bill(bill)
        for payment in payments:
            self.payment(payment)
        month = records.month
        for hire in self.master.hires:
            if hire.company == self.code and hire.date.month == month:
                e = self.employee_by_id[hire.employee_id]
                self.book.add(
                    hire.id,
                    EntryDraft(
                        "STAT",
                        hire.date,
                        (
                            LineDraft(
                                "9000",
                                quantity=Decimal(1),
                                dimensions=self.person(e),
                                sources=(self.ref(hire),),
                            ),
                        ),
                        f"Hire {e.id} {e.name}",
                        self.ref(hire),
                    ),
                )
        for term in self.master.terminations:
            if term.company == self.code and term.date.month == month:
                e = self.employee_by_id[term.employee_id]
                self.book.add(
                    term.id,
                    EntryDraft(
                        "STAT",
                        term.date,
                        (
                            LineDraft(
                                "9000",
                                quantity=Decimal(-1),
                                dimensions=self.person(e),
                                sources=(self.ref(term),),
                            ),
                        ),
                        f"Termination {e.id} {e.name}",
                        self.ref(term),
                    ),
                )
        self.depreciation(month)

    def payroll(self, run: PayrollRun) -> None:
        by_department: dict[str, list] = defaultdict(list)
        for slip in run.payslips:
            by_department[slip.department_id].append(slip)
        run_ref = self.ref(run)
        money = self.book.money
        for department, slips in sorted(by_department.items()):
            lines = [
                LineDraft(
                    "6000",
                    debit=money(s.gross_minor),
                    memo="Gross pay",
                    dimensions=self.person(self.employee_by_id[s.employee_id]),
                    sources=(self.ref(self.employee_by_id[s.employee_id]),),
                )
                for s in slips
                if s.gross_minor > 0
            ]
            dims = ((DEPARTMENT, department),)
            totals = (
                (
                    "6010",
                    "debit",
                    sum(s.employer_tax_minor for s in slips),
                    "Employer payroll taxes",
                ),
                (self.payroll_cash, "credit", sum(s.net_minor for s in slips), "Net pay"),
                (
                    "2210",
                    "credit",
                    sum(s.withholding_minor for s in slips),
                    "Employee withholdings",
                ),
                (
                    "2200",
                    "credit",
                    sum(s.employer_tax_minor for s in slips),
                    "Employer payroll taxes",
                ),
            )
            for account, side, minor, memo in totals:
                if minor:
                    lines.append(
                        LineDraft(
                            account,
                            memo=memo,
                            dimensions=dims,
                            sources=(run_ref,),
                            **{side: money(minor)},
                        )
                    )
            self.book.add(
                f"{run.id}:{department}",
                EntryDraft(
                    "PAYROLL", run.pay_date, tuple(lines), f"Payroll {run.id} {department}", run_ref
                ),
            )
        if run.period_end.month < 12:
            withheld = sum(s.withholding_minor for s in run.payslips)
            taxes = sum(s.employer_tax_minor for s in run.payslips)
            day = dt.date(DEMO_YEAR, run.period_end.month + 1, 15)
            lines = [
                LineDraft(a, debit=money(v), memo=memo, sources=(run_ref,))
                for a, v, memo in (
                    ("2200", taxes, "Employer taxes remitted"),
                    ("2210", withheld, "Withholdings remitted"),
                )
                if v
            ]
            lines.append(
                LineDraft(self.payroll_cash, credit=money(withheld + taxes), sources=(run_ref,))
            )
            self.book.add(
                f"{run.id}:remittance",
                EntryDraft(
                    "PAYROLL", day, tuple(lines), f"Payroll tax remittance {run.id}", run_ref
                ),
            )

    def bill(self, bill: Bill) -> None:
        vendor = self.vendors[bill.vendor_id]
        accounts = SPEND_ACCOUNTS[self.kind]
        summary: dict[tuple, list[int]] = {}
        for line in bill.lines:
            key = (accounts[line.category], line.department_id, line.location_id, line.project_id)
            total = summary.setdefault(key, [0, 0])
            total[0] += line.amount_minor
            total[1] += 1
        ref = self.ref(bill)
        money = self.book.money
        lines = []
        for (account, department, location, project), (minor, count) in sorted(
            summary.items(), key=lambda item: tuple(x or "" for x in item[0])
        ):
            dims = [(DEPARTMENT, department), (LOCATION, location), (VENDOR, vendor.id)]
            if project:
                dims.append((PROJECT, project))
            lines.append(
                LineDraft(
                    account,
                    debit=money(minor),
                    dimensions=tuple(dims),
                    sources=(ref,),
                    memo=f"{count} bill line{'s' if count > 1 else ''}",
                )
            )
        lines.append(
            LineDraft(
                "2000",
                credit=money(bill.total_minor),
                dimensions=((VENDOR, vendor.id),),
                sources=(ref,),
                memo=bill.vendor_invoice,
            )
        )
        self.book.add(
            bill.id,
            EntryDraft(
                "AP",
                bill.bill_date,
                tuple(lines),
                f"Bill {bill.id} from {vendor.name} ({bill.vendor_invoice})",
                ref,
            ),
        )

    def payment(self, payment: Payment) -> None:
        ref = self.ref(payment)
        bill_ref = SourceRef(AP, "Bill", payment.bill_id, record_url(AP, "Bill", payment.bill_id))
        amount = self.book.money(payment.amount_minor)
        vendor = ((VENDOR, payment.vendor_id),)
        self.book.add(
            payment.id,
            EntryDraft(
                "AP",
                payment.paid_on,
                (
                    LineDraft("2000", debit=amount, dimensions=vendor, sources=(ref, bill_ref)),
                    LineDraft(
                        self.payment_account,
                        credit=amount,
                        dimensions=vendor,
                        sources=(ref,),
                        memo=payment.method.upper(),
                    ),
                ),
                f"Payment {payment.id} of {payment.bill_id}",
                ref,
            ),
        )

    def depreciation(self, month: int) -> None:
        raise NotImplementedError


class _Software(_Company):
    chart = SOFTWARE_CHART
    payroll_cash = "1000"

    def opening_balances(self) -> EntryDraft:
        amounts = {a: round(v * self.scale) for a, v in SOFTWARE_OPENING.items()}
        return EntryDraft(
            "GJ", OPENING_DATE, tuple(self.balanced_opening(amounts)), "Opening balances"
        )

    def month(self, records: MonthRecords) -> None:
        for order in records.sales_orders:
            if order.company == self.code:
                self.sales_order(order)
        self.usage(records.usage_records)
        super().month(records)

    def sales_order(self, order: SalesOrder) -> None:
        customer = self.customers[order.customer_id]
        ref = self.ref(order)
        amount = self.book.money(order.amount_minor)
        party = ((CUSTOMER, customer.id), (CLASS, customer.segment))
        revenue = [(DEPARTMENT, SALES_DEPARTMENTS[order.kind]), *party, (ITEM, order.product_id)]
        if order.project_id:
            revenue.append((PROJECT, order.project_id))
        self.book.add(
            order.id,
            EntryDraft(
                "SALES",
                order.order_date,
                (
                    LineDraft("1100", debit=amount, dimensions=party, sources=(ref,)),
                    LineDraft(
                        SALES_ACCOUNTS[order.kind],
                        credit=amount,
                        dimensions=tuple(revenue),
                        sources=(ref,),
                        memo=f"{order.quantity} × {order.product_id}",
                    ),
                ),
                f"Invoice {order.id} {customer.name} ({order.kind})",
                ref,
            ),
        )
        if order.paid_on is not None:
            self.book.add(
                f"{order.id}:paid",
                EntryDraft(
                    "AR",
                    order.paid_on,
                    (
                        LineDraft("1000", debit=amount, dimensions=party, sources=(ref,)),
                        LineDraft("1100", credit=amount, dimensions=party, sources=(ref,)),
                    ),
                    f"Payment received for {order.id} from {customer.name}",
                    ref,
                ),
            )

    def usage(self, records: Iterable[UsageRecord]) -> None:
        by_day: dict[dt.date, list[UsageRecord]] = defaultdict(list)
        for record in records:
            if record.company == self.code:
                by_day[record.day].append(record)
        for day, day_records in sorted(by_day.items()):
            lines = tuple(
                LineDraft(
                    "9100",
                    quantity=r.gb_used,
                    dimensions=((CUSTOMER, r.customer_id), (ITEM, "USAGE-GB")),
                    sources=(_ref(r),),
                )
                for r in day_records
            )
            self.book.add(
                f"usage:{self.code}:{day.isoformat()}",
                EntryDraft("STAT", day, lines, f"Storage used on {day.isoformat()}"),
            )

    def depreciation(self, month: int) -> None:
        equipment = round(SOFTWARE_OPENING["1500"] * self.scale) * 10**self.book.scale // 36
        software = round(SOFTWARE_OPENING["1600"] * self.scale) * 10**self.book.scale // 60
        lines = []
        for expense, contra, minor in (("6700", "1510", equipment), ("6700", "1610", software)):
            if minor > 0:
                lines += [
                    LineDraft(
                        expense, debit=self.book.money(minor), dimensions=((DEPARTMENT, "FIN"),)
                    ),
                    LineDraft(contra, credit=self.book.money(minor)),
                ]
        day = month_end(month)
        self.book.add(
            f"gj:depreciation:{self.code}:{month:02d}",
            EntryDraft("GJ", day, tuple(lines), f"Depreciation {day:%Y-%m}"),
        )


class _Hotel(_Company):
    chart = HOTEL_CHART
    payment_account = "1010"

    def __init__(self, book, master, scale):
        super().__init__(book, master, scale)
        self.items = {i.id: i for i in master.pos_items if i.company == self.code}

    def opening_balances(self) -> EntryDraft:
        lines = []
        for hotel in self.locations:
            amounts = dict(HOTEL_OPENING)
            amounts.update({a: v * hotel.rooms for a, v in HOTEL_OPENING_PER_ROOM.items()})
            lines += self.balanced_opening(amounts, ((LOCATION, hotel.id),))
        return EntryDraft("GJ", OPENING_DATE, tuple(lines), "Opening balances")

    def month(self, records: MonthRecords) -> None:
        by_day: dict[tuple[str, dt.date], list[Receipt]] = defaultdict(list)
        for receipt in records.receipts:
            if receipt.company == self.code:
                by_day[(receipt.location_id, receipt.business_date)].append(receipt)
        month_totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for (hotel, day), receipts in by_day.items():
            self.pos_day(hotel, day, receipts, month_totals[hotel])
        self.close_month(records.month, month_totals)
        super().month(records)

    def pos_day(self, hotel: str, day: dt.date, receipts: Sequence[Receipt], totals: dict) -> None:
        money = self.book.money
        revenue: dict[str, list] = {}  # item → [net, receipts]
        nights: dict[str, list] = {}  # room item → [nights, receipts]
        tax: dict[Decimal, int] = defaultdict(int)
        paid: dict[tuple[str, str | None], list] = {}  # (method, customer) → [total, receipts]
        for receipt in receipts:
            ref = self.ref(receipt)
            for line in receipt.lines:
                slot = revenue.setdefault(line.item_id, [0, []])
                slot[0] += line.net_minor
                if not slot[1] or slot[1][-1] is not ref:
                    slot[1].append(ref)
                tax[line.tax_rate] += line.tax_minor
                if line.item_id.startswith("ROOM-"):
                    room = nights.setdefault(line.item_id, [0, []])
                    room[0] += line.quantity
                    if not room[1] or room[1][-1] is not ref:
                        room[1].append(ref)
            slot = paid.setdefault((receipt.payment_method, receipt.customer_id), [0, []])
            slot[0] += receipt.total_minor
            slot[1].append(ref)
        at = (LOCATION, hotel)
        lines = []
        for (method, customer), (minor, refs) in sorted(
            paid.items(), key=lambda p: (p[0][0], p[0][1] or "")
        ):
            totals[method] += minor
            if method == "account":
                lines.append(
                    LineDraft(
                        "1100",
                        debit=money(minor),
                        dimensions=(at, (CUSTOMER, customer)),
                        sources=tuple(refs),
                        memo=f"{len(refs)} receipts on account",
                    )
                )
                totals[f"account:{customer}"] += minor
            else:
                lines.append(
                    LineDraft(
                        PAYMENT_ACCOUNTS[method],
                        debit=money(minor),
                        dimensions=(at,),
                        memo=f"{len(refs)} {method} receipts",
                    )
                )
        for item_id, (minor, refs) in sorted(revenue.items()):
            category = self.items[item_id].category
            lines.append(
                LineDraft(
                    POS_ACCOUNTS[category],
                    credit=money(minor),
                    sources=tuple(refs),
                    dimensions=(
                        at,
                        (DEPARTMENT, POS_DEPARTMENTS[category]),
                        (ITEM, item_id),
                        (CLASS, POS_CLASSES[category]),
                    ),
                    memo=f"{len(refs)} receipts",
                )
            )
        for rate, minor in sorted(tax.items()):
            if minor:
                totals["vat"] += minor
                lines.append(
                    LineDraft(
                        "2300", credit=money(minor), dimensions=(at,), memo=f"VAT {rate * 100:g}%"
                    )
                )
        self.book.add(
            f"pos:{hotel}:{day.isoformat()}",
            EntryDraft(
                "POS",
                day,
                tuple(lines),
                f"POS day summary {hotel} {day.isoformat()} ({len(receipts)} receipts)",
            ),
        )
        if nights:
            stat = tuple(
                LineDraft(
                    "9100",
                    quantity=Decimal(n),
                    sources=tuple(refs),
                    dimensions=(at, (DEPARTMENT, "ROOMS"), (ITEM, item_id)),
                )
                for item_id, (n, refs) in sorted(nights.items())
            )
            self.book.add(
                f"room-nights:{hotel}:{day.isoformat()}",
                EntryDraft("STAT", day, stat, f"Room-nights sold {hotel} {day.isoformat()}"),
            )

    def close_month(self, month: int, month_totals: dict[str, dict[str, int]]) -> None:
        money = self.book.money
        last = month_end(month)
        available = tuple(
            LineDraft(
                "9110",
                quantity=Decimal(hotel.rooms * last.day),
                dimensions=((LOCATION, hotel.id),),
                sources=(self.ref(hotel),),
            )
            for hotel in self.locations
        )
        self.book.add(
            f"rooms-available:{self.code}:{month:02d}",
            EntryDraft("STAT", last, available, f"Room-nights available {last:%Y-%m}"),
        )
        sweep, vat, city_ledger = [], [], []
        for hotel in self.locations:
            totals = month_totals.get(hotel.id, {})
            at = ((LOCATION, hotel.id),)
            for method, account in (("card", "1050"), ("cash", "1000")):
                if totals.get(method):
                    sweep += [
                        LineDraft(
                            "1010",
                            debit=money(totals[method]),
                            dimensions=at,
                            memo=f"{method} settlement",
                        ),
                        LineDraft(account, credit=money(totals[method]), dimensions=at),
                    ]
            if totals.get("vat"):
                vat += [
                    LineDraft("2300", debit=money(totals["vat"]), dimensions=at),
                    LineDraft("1010", credit=money(totals["vat"]), dimensions=at),
                ]
            for key, minor in sorted(totals.items()):
                if key.startswith("account:") and minor:
                    customer = self.customers[key.split(":", 1)[1]]
                    dims = (*at, (CUSTOMER, customer.id))
                    city_ledger += [
                        LineDraft(
                            "1010",
                            debit=money(minor),
                            dimensions=dims,
                            sources=(self.ref(customer),),
                        ),
                        LineDraft(
                            "1100",
                            credit=money(minor),
                            dimensions=dims,
                            sources=(self.ref(customer),),
                        ),
                    ]
        self.book.add(
            f"gj:settlements:{self.code}:{month:02d}",
            EntryDraft(
                "GJ", last, tuple(sweep), f"Card settlements and cash deposits {last:%Y-%m}"
            ),
        )
        if month < 12:
            self.book.add(
                f"gj:vat:{self.code}:{month:02d}",
                EntryDraft(
                    "GJ",
                    dt.date(DEMO_YEAR, month + 1, 10),
                    tuple(vat),
                    f"VAT remittance {last:%Y-%m}",
                ),
            )
            self.book.add(
                f"gj:city-ledger:{self.code}:{month:02d}",
                EntryDraft(
                    "AR",
                    dt.date(DEMO_YEAR, month + 1, 20),
                    tuple(city_ledger),
                    f"City-ledger collections for {last:%Y-%m}",
                ),
            )

    def depreciation(self, month: int) -> None:
        money = self.book.money
        lines = []
        for hotel in self.locations:
            at = ((LOCATION, hotel.id),)
            for contra, asset, years in (("1510", "1500", 40), ("1530", "1520", 10)):
                minor = (
                    HOTEL_OPENING_PER_ROOM[asset]
                    * hotel.rooms
                    * 10**self.book.scale
                    // (years * 12)
                )
                lines += [
                    LineDraft("6600", debit=money(minor), dimensions=(*at, (DEPARTMENT, "HADM"))),
                    LineDraft(contra, credit=money(minor), dimensions=at),
                ]
            interest = (
                -HOTEL_OPENING_PER_ROOM["2500"] * hotel.rooms * 10**self.book.scale * 4 // 100 // 12
            )
            lines += [
                LineDraft("6700", debit=money(interest), dimensions=(*at, (DEPARTMENT, "HADM"))),
                LineDraft("1010", credit=money(interest), dimensions=at),
            ]
        day = month_end(month)
        self.book.add(
            f"gj:depreciation:{self.code}:{month:02d}",
            EntryDraft("GJ", day, tuple(lines), f"Depreciation and loan interest {day:%Y-%m}"),
        )


COMPANY_CLASSES = {"software": _Software, "hotel": _Hotel}


# ------------------------------------------------------------------------------- build


async def _set_up(db: LedgerDatabase, company: _Company) -> None:
    async with db.session(company.book.entity_id) as s:
        await add_accounts(s, company.chart)
        await add_dimension_values(s, company.dimension_values())
        await add_journals(s, JOURNALS)
        await add_monthly_periods(s, DEMO_YEAR - 1)
        await add_monthly_periods(s, DEMO_YEAR)
        await s.commit()
    company.opening()
    await company.book.post(0)
    async with db.session(company.book.entity_id) as s:
        await close_periods_through(s, OPENING_DATE)
        await s.commit()


async def build_demo(
    db: LedgerDatabase,
    *,
    seed: int = 7,
    scale: float = 1.0,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Build the demo ledger into an empty, migrated database.

    Creates SOFTCO and HOTELCO with charts, dimensions, journals and periods (2025 closed
    after its opening balances, 2026 open), then posts 2026 from the source records of
    `sources.demo` for (seed, scale). `progress(n)` hears the number of lines of each batch
    just posted.
    """
    master = generate_master(seed, scale)
    companies: list[_Company] = []
    for profile in master.companies:
        async with db.session(None) as s:
            entity_id = await create_entity(s, profile.code, profile.name, profile.currency)
            await s.commit()
        book = _Book(db, profile, entity_id, progress, scale=currency_scale(profile.currency))
        company = COMPANY_CLASSES[profile.kind](book, master, scale)
        await _set_up(db, company)
        companies.append(company)
    for records in iter_months(master):
        for company in companies:
            company.month(records)
            await company.book.post(records.month)
            company.refs.clear()
    return DemoSummary(
        seed=seed,
        scale=scale,
        entities=tuple(
            EntitySummary(
                code=c.code,
                entity_id=c.book.entity_id,
                currency=c.book.profile.currency,
                accounts=len(c.chart),
                dimension_values=len(c.dimension_values()),
                entries=c.book.entries,
                lines=c.book.lines,
                source_links=c.book.links,
            )
            for c in companies
        ),
    )


__all__ = ["DemoSummary", "EntitySummary", "build_demo"]
