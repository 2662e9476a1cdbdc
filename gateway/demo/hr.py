"""How the HR system's records become ledger entries: headcount and payroll."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from ledger.drafts import EntryDraft, LineDraft, SourceRef
from sources.demo.records import (
    DEMO_YEAR,
    DemoMaster,
    Employee,
    Hire,
    PayrollRun,
    SourceRecord,
    Termination,
)

from .book import Book
from .chart import DEPARTMENT, EMPLOYEE, LOCATION
from .opening import OPENING_DATE


class HrPostings:
    """Mixin of `Company`: the headcount it opens with and changes by, and its payroll runs."""

    book: Book
    code: str
    master: DemoMaster
    employees: list[Employee]
    employee_by_id: dict[str, Employee]
    payroll_cash: str
    ref: Callable[[SourceRecord], SourceRef]

    @staticmethod
    def person(e: Employee) -> tuple[tuple[str, str], ...]:
        return ((DEPARTMENT, e.department_id), (LOCATION, e.location_id), (EMPLOYEE, e.id))

    def opening_headcount(self) -> None:
        lines = tuple(
            self.headcount(e, Decimal(1), self.ref(e))
            for e in self.employees
            if e.employed_on(OPENING_DATE)
        )
        self.book.add(
            f"opening-headcount:{self.code}",
            EntryDraft("STAT", OPENING_DATE, lines, "Opening headcount"),
        )

    def headcount_changes(self, month: int) -> None:
        for hire in self.master.hires:
            if hire.company == self.code and hire.date.month == month:
                self.headcount_change(hire, Decimal(1), "Hire")
        for term in self.master.terminations:
            if term.company == self.code and term.date.month == month:
                # Headcount is a STOCK account: each line is the person's level
                # (1 employed, 0 gone), and a period's headcount is the latest levels' sum.
                self.headcount_change(term, Decimal(0), "Termination")

    def headcount(self, e: Employee, quantity: Decimal, source: SourceRef) -> LineDraft:
        return LineDraft("9000", quantity=quantity, dimensions=self.person(e), sources=(source,))

    def headcount_change(self, event: Hire | Termination, quantity: Decimal, label: str) -> None:
        e = self.employee_by_id[event.employee_id]
        ref = self.ref(event)
        self.book.add(
            event.id,
            EntryDraft(
                "STAT",
                event.date,
                (self.headcount(e, quantity, ref),),
                f"{label} {e.id} {e.name}",
                ref,
            ),
        )

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
            employer_taxes = sum(s.employer_tax_minor for s in slips)
            totals = (
                ("6010", "debit", employer_taxes, "Employer payroll taxes"),
                (self.payroll_cash, "credit", sum(s.net_minor for s in slips), "Net pay"),
                (
                    "2210",
                    "credit",
                    sum(s.withholding_minor for s in slips),
                    "Employee withholdings",
                ),
                ("2200", "credit", employer_taxes, "Employer payroll taxes"),
            )
            dims = ((DEPARTMENT, department),)
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
