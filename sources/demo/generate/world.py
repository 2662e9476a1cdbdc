"""The demo world from (seed, scale): the reference data, then the year month by month."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..records import (
    MONTH_RECORD_GROUPS,
    DemoMaster,
    DemoRecords,
    Location,
    MonthRecords,
    Project,
    Vendor,
)
from . import ap, bills, crm, hr, payroll, pos, sales, usage
from .companies import COMPANIES, HOTELCO, SOFTCO
from .numbering import Numbering
from .volume import Volume


def generate_master(seed: int = 7, scale: float = 1.0) -> DemoMaster:
    """The holding's reference data: sites, departments, catalogues, customers, people, vendors."""
    volume = Volume.for_scale(scale)
    locations = hr.locations(seed, volume)
    offices = [loc for loc in locations if loc.company == SOFTCO.code]
    hotels = [loc for loc in locations if loc.company == HOTELCO.code]
    customers = crm.customers(seed, volume)
    opportunities, projects = crm.opportunities(seed, volume, customers)
    employees = hr.employees(seed, volume, hotels)
    hires, terminations = hr.hires_and_terminations(employees)
    vendors = ap.vendors(seed, volume, offices, hotels)
    projects += _renovations(vendors, hotels)
    return DemoMaster(
        seed=seed,
        scale=scale,
        companies=COMPANIES,
        locations=locations,
        departments=hr.departments(),
        products=crm.products(),
        pos_items=pos.pos_items(),
        customers=customers,
        opportunities=opportunities,
        projects=tuple(sorted(projects, key=lambda p: (p.company, p.id))),
        employees=employees,
        hires=hires,
        terminations=terminations,
        vendors=vendors,
    )


def _renovations(vendors: Sequence[Vendor], hotels: Sequence[Location]) -> tuple[Project, ...]:
    """One renovation project per hotel that has a capital-works vendor."""
    names = {hotel.id: hotel.name for hotel in hotels}
    return tuple(
        Project(
            f"RENO-{v.location_id}",
            HOTELCO.code,
            f"Renovation of {names[v.location_id]}",
            location_id=v.location_id,
        )
        for v in {v.location_id: v for v in vendors if v.category == "CAPEX"}.values()
    )


def iter_months(master: DemoMaster) -> Iterator[MonthRecords]:
    """The year's transactions, one month at a time, in order (numbering runs through)."""
    numbering = Numbering()
    for month in range(1, 13):
        usage_records = usage.usage_records(master, month)
        sales_orders = sales.sales_orders(master, month, usage_records, numbering)
        receipts = pos.receipts(master, month, numbering)
        month_bills, payments = bills.bills_and_payments(master, month, numbering)
        yield MonthRecords(
            month=month,
            sales_orders=sales_orders,
            usage_records=usage_records,
            receipts=receipts,
            payroll_runs=payroll.payroll_runs(master, month),
            bills=month_bills,
            payments=payments,
        )


def generate_world(seed: int = 7, scale: float = 1.0) -> DemoRecords:
    """Every record of the demo year, materialised."""
    master = generate_master(seed, scale)
    groups: dict[str, list] = {name: [] for name in MONTH_RECORD_GROUPS}
    for month in iter_months(master):
        for name, records in groups.items():
            records.extend(getattr(month, name))
    return DemoRecords(master=master, **{name: tuple(records) for name, records in groups.items()})
