"""The HR system's GraphQL subgraph (Apollo Federation 2): people, organisation, payroll.

Every record type ledger lines link to is an entity keyed by ``id``, so a gateway fetches a
batch of them with one ``_entities(representations: ...)`` call: `Employee`, `Department`,
`Location`, `Hire`, `Termination`, `PayrollRun`. References are answered from the
`HrDirectory` in the request context (``context["hr"]``); an unknown id resolves to null.

Money is `Decimal` (Strawberry's scalar, serialised as a string), dates are `Date`.
Compensation (`Employee.annualSalary`, `PayrollRun.payslips`) is served: deciding who may
see it is the gateway's business, not the HR system's; `annualSalary` carries
`@requiresScopes` so that a gateway knows it is sensitive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TypeVar

import strawberry
from strawberry.federation import Schema
from strawberry.types import Info

from ..records import DemoRecords
from ..records import hr as hr_records
from .encoding import currency_places

FEDERATION_VERSION = "2.5"

T = TypeVar("T")


def _money(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-currency_places(currency))


def _hr(info: Info) -> HrDirectory:
    return info.context["hr"]


def _pick(table: Mapping[str, T], ids: Iterable[str] | None) -> list[T]:
    if ids is None:
        return list(table.values())
    return [table[i] for i in dict.fromkeys(ids) if i in table]


@strawberry.federation.type(keys=["id"], description="A site where people work.")
class Location:
    id: strawberry.ID
    company: str
    name: str
    city: str
    country: str
    rooms: int = strawberry.field(description="Guest rooms (hotels); 0 for offices.")

    @classmethod
    def from_record(cls, r: hr_records.Location) -> Location:
        return cls(
            id=strawberry.ID(r.id),
            company=r.company,
            name=r.name,
            city=r.city,
            country=r.country,
            rooms=r.rooms,
        )

    @classmethod
    def resolve_reference(cls, info: Info, id: strawberry.ID) -> Location | None:
        return _hr(info).locations.get(id)


@strawberry.federation.type(keys=["id"], description="An organisational unit.")
class Department:
    id: strawberry.ID
    company: str
    name: str

    @classmethod
    def from_record(cls, r: hr_records.Department) -> Department:
        return cls(id=strawberry.ID(r.id), company=r.company, name=r.name)

    @classmethod
    def resolve_reference(cls, info: Info, id: strawberry.ID) -> Department | None:
        return _hr(info).departments.get(id)

    @strawberry.field(description="Everyone employed in the department during the year.")
    def employees(self, info: Info) -> list[Employee]:
        return [e for e in _hr(info).employees.values() if e.department_id == self.id]


@strawberry.federation.type(keys=["id"], description="A person employed during the year.")
class Employee:
    id: strawberry.ID
    company: str
    name: str
    title: str
    department_id: strawberry.ID
    location_id: strawberry.ID
    hire_date: dt.date
    termination_date: dt.date | None
    annual_salary: Decimal = strawberry.federation.field(
        description="Gross yearly salary.",
        # Marked, not refused: the subgraph says what is sensitive, a gateway enforces it.
        requires_scopes=[["hr:compensation:read"]],
    )
    currency: str

    @classmethod
    def from_record(cls, r: hr_records.Employee) -> Employee:
        return cls(
            id=strawberry.ID(r.id),
            company=r.company,
            name=r.name,
            title=r.title,
            department_id=strawberry.ID(r.department_id),
            location_id=strawberry.ID(r.location_id),
            hire_date=r.hire_date,
            termination_date=r.termination_date,
            annual_salary=_money(r.annual_salary_minor, r.currency),
            currency=r.currency,
        )

    @classmethod
    def resolve_reference(cls, info: Info, id: strawberry.ID) -> Employee | None:
        return _hr(info).employees.get(id)

    @strawberry.field
    def department(self, info: Info) -> Department | None:
        return _hr(info).departments.get(self.department_id)

    @strawberry.field
    def location(self, info: Info) -> Location | None:
        return _hr(info).locations.get(self.location_id)


@strawberry.federation.type(keys=["id"], description="An employee joining during the year.")
class Hire:
    id: strawberry.ID
    company: str
    employee_id: strawberry.ID
    date: dt.date
    department_id: strawberry.ID
    location_id: strawberry.ID

    @classmethod
    def from_record(cls, r: hr_records.Hire) -> Hire:
        return cls(
            id=strawberry.ID(r.id),
            company=r.company,
            employee_id=strawberry.ID(r.employee_id),
            date=r.date,
            department_id=strawberry.ID(r.department_id),
            location_id=strawberry.ID(r.location_id),
        )

    @classmethod
    def resolve_reference(cls, info: Info, id: strawberry.ID) -> Hire | None:
        return _hr(info).hires.get(id)

    @strawberry.field
    def employee(self, info: Info) -> Employee | None:
        return _hr(info).employees.get(self.employee_id)


@strawberry.federation.type(keys=["id"], description="An employee leaving during the year.")
class Termination:
    id: strawberry.ID
    company: str
    employee_id: strawberry.ID
    date: dt.date
    department_id: strawberry.ID
    location_id: strawberry.ID
    reason: str

    @classmethod
    def from_record(cls, r: hr_records.Termination) -> Termination:
        return cls(
            id=strawberry.ID(r.id),
            company=r.company,
            employee_id=strawberry.ID(r.employee_id),
            date=r.date,
            department_id=strawberry.ID(r.department_id),
            location_id=strawberry.ID(r.location_id),
            reason=r.reason,
        )

    @classmethod
    def resolve_reference(cls, info: Info, id: strawberry.ID) -> Termination | None:
        return _hr(info).terminations.get(id)

    @strawberry.field
    def employee(self, info: Info) -> Employee | None:
        return _hr(info).employees.get(self.employee_id)


@strawberry.type(description="One employee's pay in a payroll run. Sensitive.")
class Payslip:
    employee_id: strawberry.ID
    department_id: strawberry.ID
    location_id: strawberry.ID
    days_worked: int
    gross: Decimal
    withholding: Decimal
    net: Decimal
    employer_tax: Decimal

    @classmethod
    def from_record(cls, p: hr_records.Payslip, currency: str) -> Payslip:
        return cls(
            employee_id=strawberry.ID(p.employee_id),
            department_id=strawberry.ID(p.department_id),
            location_id=strawberry.ID(p.location_id),
            days_worked=p.days_worked,
            gross=_money(p.gross_minor, currency),
            withholding=_money(p.withholding_minor, currency),
            net=_money(p.net_minor, currency),
            employer_tax=_money(p.employer_tax_minor, currency),
        )

    @strawberry.field
    def employee(self, info: Info) -> Employee | None:
        return _hr(info).employees.get(self.employee_id)


@strawberry.federation.type(keys=["id"], description="A monthly payroll run of one company.")
class PayrollRun:
    id: strawberry.ID
    company: str
    period_start: dt.date
    period_end: dt.date
    pay_date: dt.date
    currency: str
    gross: Decimal = strawberry.field(description="Total gross pay of the run.")
    payslips: list[Payslip]

    @classmethod
    def from_record(cls, r: hr_records.PayrollRun) -> PayrollRun:
        return cls(
            id=strawberry.ID(r.id),
            company=r.company,
            period_start=r.period_start,
            period_end=r.period_end,
            pay_date=r.pay_date,
            currency=r.currency,
            gross=_money(r.gross_minor, r.currency),
            payslips=[Payslip.from_record(p, r.currency) for p in r.payslips],
        )

    @classmethod
    def resolve_reference(cls, info: Info, id: strawberry.ID) -> PayrollRun | None:
        return _hr(info).payroll_runs.get(id)


class HrDirectory:
    """The HR records as GraphQL objects, by id, built once per app."""

    def __init__(self, records: DemoRecords):
        self.locations = {r.id: Location.from_record(r) for r in records.locations}
        self.departments = {r.id: Department.from_record(r) for r in records.departments}
        self.employees = {r.id: Employee.from_record(r) for r in records.employees}
        self.hires = {r.id: Hire.from_record(r) for r in records.hires}
        self.terminations = {r.id: Termination.from_record(r) for r in records.terminations}
        self.payroll_runs = {r.id: PayrollRun.from_record(r) for r in records.payroll_runs}


IDs = list[strawberry.ID] | None


@strawberry.type
class Query:
    @strawberry.field(description="Employees by id, or all of them.")
    def employees(self, info: Info, ids: IDs = None) -> list[Employee]:
        return _pick(_hr(info).employees, ids)

    @strawberry.field
    def employee(self, info: Info, id: strawberry.ID) -> Employee | None:
        return _hr(info).employees.get(id)

    @strawberry.field(description="Departments by id, or all of them.")
    def departments(self, info: Info, ids: IDs = None) -> list[Department]:
        return _pick(_hr(info).departments, ids)

    @strawberry.field
    def department(self, info: Info, id: strawberry.ID) -> Department | None:
        return _hr(info).departments.get(id)

    @strawberry.field(description="Locations by id, or all of them.")
    def locations(self, info: Info, ids: IDs = None) -> list[Location]:
        return _pick(_hr(info).locations, ids)

    @strawberry.field
    def location(self, info: Info, id: strawberry.ID) -> Location | None:
        return _hr(info).locations.get(id)

    @strawberry.field(description="Hires by id, or all of them.")
    def hires(self, info: Info, ids: IDs = None) -> list[Hire]:
        return _pick(_hr(info).hires, ids)

    @strawberry.field
    def hire(self, info: Info, id: strawberry.ID) -> Hire | None:
        return _hr(info).hires.get(id)

    @strawberry.field(description="Terminations by id, or all of them.")
    def terminations(self, info: Info, ids: IDs = None) -> list[Termination]:
        return _pick(_hr(info).terminations, ids)

    @strawberry.field
    def termination(self, info: Info, id: strawberry.ID) -> Termination | None:
        return _hr(info).terminations.get(id)

    @strawberry.field(description="Payroll runs by id, or all of them.")
    def payroll_runs(self, info: Info, ids: IDs = None) -> list[PayrollRun]:
        return _pick(_hr(info).payroll_runs, ids)

    @strawberry.field
    def payroll_run(self, info: Info, id: strawberry.ID) -> PayrollRun | None:
        return _hr(info).payroll_runs.get(id)


schema = Schema(query=Query, federation_version=FEDERATION_VERSION)
