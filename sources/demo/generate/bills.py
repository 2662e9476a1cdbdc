"""The bill-payment system's monthly vendor bills, with their lines, and their payments."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from ..records import DEMO_YEAR, Bill, BillLine, DemoMaster, Payment, Vendor
from .ap import catalogue_key
from .draws import seeded, weighted
from .numbering import Numbering
from .volume import Volume
from .year import in_year

CAPEX_MONTHS = range(3, 11)
INSURANCE_MONTHS = (1, 4, 7, 10)
HOSTING_SERVICES = (
    "Compute",
    "Block storage",
    "Object storage",
    "Egress",
    "Managed database",
    "CDN",
    "Queue",
    "Monitoring",
    "Load balancer",
    "Backup",
)
REGIONS = ("us-east-1", "us-west-2", "eu-central-1")
FOOD_SUPPLIES = (
    "Vegetables",
    "Dairy",
    "Meat",
    "Fish",
    "Bread and pastries",
    "Dry goods",
    "Fruit",
    "Coffee beans",
    "Spices",
)
BEVERAGE_SUPPLIES = ("Wine", "Beer kegs", "Spirits", "Soft drinks", "Mineral water", "Juices")
SIMPLE_LINES = {
    # category → (descriptions, amount range in minor units, departments)
    "SOFTWARE": (("Subscription", "Additional seats", "Premium support"), (20_000, 600_000), None),
    "TELECOM": (("Phone lines", "Internet access", "Mobile plans"), (50_000, 300_000), ("FIN",)),
    "TRAVEL": (
        ("Flights", "Hotel nights", "Rail tickets", "Car rental"),
        (15_000, 250_000),
        ("SALES", "SALES", "MKTG", "ENG", "SUPPORT"),
    ),
    "MARKETING": (
        ("Paid search", "Sponsorship", "Trade show booth", "Content production"),
        (100_000, 2_000_000),
        ("MKTG",),
    ),
    "LEGAL": (
        ("Contract review", "Annual audit fees", "Trademark filing"),
        (200_000, 1_500_000),
        ("FIN",),
    ),
    "OFFICE": (("Office supplies", "Snacks and coffee", "Furniture"), (5_000, 80_000), None),
    "UTILITIES": (("Electricity", "Gas", "Water and sewage"), (150_000, 600_000), ("MAINT",)),
    "MAINTENANCE": (
        ("HVAC service", "Elevator inspection", "Plumbing repair", "Painting"),
        (20_000, 400_000),
        ("MAINT",),
    ),
    "LAUNDRY": (
        ("Bed linen service", "Towel service", "Uniform cleaning"),
        (80_000, 300_000),
        ("HSKP",),
    ),
    "MARKETING_H": (
        ("OTA commissions", "Metasearch ads", "Brochures"),
        (200_000, 900_000),
        ("ROOMS",),
    ),
    "INSURANCE": (("Property insurance", "Liability insurance"), (500_000, 1_500_000), ("HADM",)),
    "CAPEX": (
        ("Room refurbishment", "Bathroom renovation", "Lobby furniture"),
        (1_000_000, 6_000_000),
        ("MAINT",),
    ),
}


def bills_and_payments(
    master: DemoMaster, month: int, numbering: Numbering
) -> tuple[tuple[Bill, ...], tuple[Payment, ...]]:
    departments = {
        c.code: [d.id for d in master.departments if d.company == c.code] for c in master.companies
    }
    projects = {p.location_id: p.id for p in master.projects if p.location_id}
    first_hosting = next((v.id for v in master.vendors if v.category == "HOSTING"), None)
    volume = Volume.for_scale(master.scale)
    drafts = []
    for vendor in master.vendors:
        rng = seeded(master.seed, "bill", vendor.id, month)
        if vendor.category == "CAPEX":
            due_this_month = month in CAPEX_MONTHS
        elif vendor.category == "INSURANCE":
            due_this_month = month in INSURANCE_MONTHS
        elif vendor.cadence == "monthly":
            due_this_month = True
        else:
            due_this_month = rng.randrange(100) < 50
        if not due_this_month:
            continue
        day = dt.date(DEMO_YEAR, month, rng.randint(1, 28))
        lines = _bill_lines(
            rng,
            master,
            vendor,
            departments[vendor.company],
            projects,
            volume.cloud_bill_lines if vendor.id == first_hosting else None,
        )
        drafts.append((day, vendor, rng.randint(10_000, 99_999), lines, rng))
    drafts.sort(key=lambda d: (d[0], d[1].id))
    issued, payments = [], []
    for day, vendor, invoice, lines, rng in drafts:
        bill_id = numbering.bill()
        bill = Bill(
            id=bill_id,
            company=vendor.company,
            vendor_id=vendor.id,
            vendor_invoice=f"INV-{invoice}",
            bill_date=day,
            due_date=day + dt.timedelta(days=vendor.payment_terms_days),
            currency=vendor.currency,
            lines=tuple(BillLine(bill_id, n, *line) for n, line in enumerate(lines, start=1)),
        )
        issued.append(bill)
        paid = in_year(day + dt.timedelta(days=vendor.payment_terms_days + rng.randint(-5, 10)))
        if paid is not None:
            method = "sepa" if vendor.currency == "EUR" else rng.choice(("ach", "ach", "wire"))
            payments.append(
                Payment(
                    numbering.payment(),
                    vendor.company,
                    bill_id,
                    vendor.id,
                    paid,
                    bill.total_minor,
                    method,
                    vendor.currency,
                )
            )
    return tuple(issued), tuple(payments)


def _bill_lines(
    rng: random.Random,
    master: DemoMaster,
    vendor: Vendor,
    departments: list[str],
    projects: dict[str, str],
    cloud_lines: int | None,
) -> list[tuple]:
    """[(description, category, department, location, project, quantity, amount_minor)]."""
    category = vendor.category
    site = vendor.location_id
    if category == "HOSTING":
        count = cloud_lines * rng.randint(900, 1100) // 1000 if cloud_lines else rng.randint(10, 60)
        lines = []
        for _ in range(count):
            service = rng.choice(HOSTING_SERVICES)
            department = weighted(rng, (("ENG", 60), ("PROD", 15), ("SUPPORT", 15), ("SALES", 10)))
            quantity = Decimal(rng.randint(1_000, 5_000_000)).scaleb(-3)
            lines.append(
                (
                    f"{service} {rng.choice(REGIONS)}",
                    "HOSTING",
                    department,
                    site,
                    None,
                    quantity,
                    rng.randint(500, 60_000),
                )
            )
        return lines
    if category == "RENT":
        rent = seeded(master.seed, "rent", vendor.id).randint(180, 450) * 10_000
        return [(f"Office rent {site}", "RENT", "FIN", site, None, Decimal(1), rent)]
    if category == "FNB_SUPPLIES":
        lines = []
        for _ in range(rng.randint(15, 60)):
            if rng.randrange(100) < 65:
                description, line_category = rng.choice(FOOD_SUPPLIES), "FOOD_SUPPLIES"
            else:
                description, line_category = rng.choice(BEVERAGE_SUPPLIES), "BEVERAGE_SUPPLIES"
            lines.append(
                (
                    description,
                    line_category,
                    "FNB",
                    site,
                    None,
                    Decimal(rng.randint(1, 40)),
                    rng.randint(2_000, 40_000),
                )
            )
        return lines
    descriptions, (low, high), allowed = SIMPLE_LINES[catalogue_key(vendor.company, category)]
    lines = []
    for _ in range(rng.randint(1, 6)):
        department = rng.choice(allowed or departments)
        project = projects.get(site) if category == "CAPEX" else None
        lines.append(
            (
                rng.choice(descriptions),
                category,
                department,
                site,
                project,
                Decimal(rng.randint(1, 5)),
                rng.randint(low, high),
            )
        )
    return lines
