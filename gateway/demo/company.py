"""How one demo company's source records become ledger entries: what both companies share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from ledger.drafts import EntryDraft, LineDraft, SourceRef
from ledger.model import DimensionKind
from ledger.reference import AccountSpec
from sources.demo.generate import month_end
from sources.demo.records import DemoMaster, MonthRecords, SourceRecord

from .ap import ApPostings
from .book import Book
from .chart import CLASSES
from .hr import HrPostings
from .links import source_ref
from .opening import OPENING_DATE, RETAINED_EARNINGS

Owned = TypeVar("Owned")


class Company(HrPostings, ApPostings):
    """How one company's source records become ledger entries."""

    chart: Sequence[AccountSpec] = ()
    payroll_cash = "1010"  # pays net pay and remits payroll taxes
    payment_account = "1000"  # pays vendor bills
    depreciation_label = "Depreciation"

    def __init__(self, book: Book, master: DemoMaster, scale: float):
        self.book = book
        self.master = master
        self.scale = scale
        self.code = book.profile.code
        self.kind = book.profile.kind
        self.employees = self.own(master.employees)
        self.employee_by_id = {e.id: e for e in self.employees}
        self.customers = {c.id: c for c in self.own(master.customers)}
        self.vendors = {v.id: v for v in self.own(master.vendors)}
        self.locations = self.own(master.locations)
        self.refs: dict[tuple[str, str, str], SourceRef] = {}

    def own(self, records: Iterable[Owned]) -> list[Owned]:
        """The records of this company, in their order."""
        return [r for r in records if r.company == self.code]

    def ref(self, record: SourceRecord) -> SourceRef:
        """The record's link, one shared object per record."""
        found = self.refs.get(record.key)
        if found is None:
            found = self.refs[record.key] = source_ref(record)
        return found

    def transfer(
        self,
        debit: str,
        credit: str,
        minor: int,
        dimensions: tuple[tuple[str, str], ...] = (),
        *,
        debit_dimensions: tuple[tuple[str, str], ...] | None = None,
        sources: tuple[SourceRef, ...] = (),
        memo: str | None = None,
    ) -> list[LineDraft]:
        """A debit and a credit of the same amount; the memo (and any `debit_dimensions`, such
        as the department an expense is charged to) go on the debit line only."""
        amount = self.book.money(minor)
        return [
            LineDraft(
                debit,
                debit=amount,
                dimensions=dimensions if debit_dimensions is None else debit_dimensions,
                sources=sources,
                memo=memo,
            ),
            LineDraft(credit, credit=amount, dimensions=dimensions, sources=sources),
        ]

    # --- reference data

    def dimension_values(self) -> list[tuple[DimensionKind, str, str]]:
        m, own = self.master, self.own
        values = [(DimensionKind.DEPARTMENT, d.id, d.name) for d in own(m.departments)]
        values += [(DimensionKind.LOCATION, loc.id, loc.name) for loc in self.locations]
        values += [(DimensionKind.PROJECT, p.id, p.name) for p in own(m.projects)]
        values += [(DimensionKind.CUSTOMER, c.id, c.name) for c in self.customers.values()]
        values += [(DimensionKind.VENDOR, v.id, v.name) for v in self.vendors.values()]
        values += [(DimensionKind.EMPLOYEE, e.id, e.name) for e in self.employees]
        values += [(DimensionKind.ITEM, p.id, p.name) for p in own(m.products)]
        values += [(DimensionKind.ITEM, p.id, p.name) for p in own(m.pos_items)]
        values += [(DimensionKind.CLASS, k, name) for k, name in CLASSES[self.kind]]
        return values

    # --- opening

    def opening(self) -> None:
        self.book.add(
            f"opening:{self.code}",
            EntryDraft("GJ", OPENING_DATE, tuple(self.opening_lines()), "Opening balances"),
        )
        self.opening_headcount()

    def opening_lines(self) -> list[LineDraft]:
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

    # --- the month

    def month(self, records: MonthRecords) -> None:
        for run in self.own(records.payroll_runs):
            self.payroll(run)
        for bill in self.own(records.bills):
            self.bill(bill)
        for payment in self.own(records.payments):
            self.payment(payment)
        self.headcount_changes(records.month)
        self.depreciation(records.month)

    async def set_up_documents(self, session) -> None:
        """Set up what the company's documents need (in the caller's transaction)."""

    def depreciation(self, month: int) -> None:
        day = month_end(month)
        self.book.add(
            f"gj:depreciation:{self.code}:{month:02d}",
            EntryDraft(
                "GJ",
                day,
                tuple(self.depreciation_lines()),
                f"{self.depreciation_label} {day:%Y-%m}",
            ),
        )

    def depreciation_lines(self) -> list[LineDraft]:
        raise NotImplementedError
