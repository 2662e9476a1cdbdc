"""The HR system's records: locations, departments, employees, hires, terminations, payroll."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from .base import HR, SourceRecord


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
