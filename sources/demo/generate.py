"""The deterministic demo world: source-system records for one year (2026) of a holding.

Two companies: SOFTCO, a software company (subscriptions and metered storage sold through
the CRM, usage from the usage tracker, HR, bill payment), and HOTELCO, a chain of small
hotels (point of sale, rooms, HR, bill payment, corporate accounts in the CRM).

Everything follows from `(seed, scale)`: each stream of decisions draws from its own
`random.Random` seeded with a label (``seed/pos/HTL1/2026-03-14``), never from the global
generator and never from the clock, so the same inputs give the same records, and ids are
stable (``SO-2026-000123``, ``R-HTL1-2026-0001234``, ``EMP-0042``, ``BILL-000321``,
``U-CUST-0007-2026-03-14``). `scale` multiplies volume roughly linearly (customers, hotels,
employees, vendors and so receipts, orders, usage days, bills); about 33,000 journal lines
at scale 1, about a million at scale 30.

Two forms:
- `generate_world(seed, scale)` materialises everything (`DemoRecords`): fine for the
  default scale, for tests, and for serving the records from demo services;
- `generate_master(seed, scale)` + `iter_months(master)` stream the year month by month
  (`MonthRecords`), so big scales never hold more than one month of transactions.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .records import (
    AP,
    CRM,
    DEMO_YEAR,
    HR,
    POS,
    USAGE,
    Bill,
    BillLine,
    CompanyProfile,
    Customer,
    DemoMaster,
    DemoRecords,
    Department,
    Employee,
    Hire,
    Location,
    MonthRecords,
    Opportunity,
    Payment,
    PayrollRun,
    Payslip,
    PosItem,
    Product,
    Project,
    Receipt,
    ReceiptLine,
    SalesOrder,
    Termination,
    UsageRecord,
    Vendor,
)

SOFTCO = CompanyProfile(
    code="SOFTCO",
    name="Northwind Software Inc.",
    currency="USD",
    kind="software",
    systems=(CRM, USAGE, HR, AP),
)
HOTELCO = CompanyProfile(
    code="HOTELCO",
    name="Lindenhof Hotels GmbH",
    currency="EUR",
    kind="hotel",
    systems=(POS, CRM, HR, AP),
)
COMPANIES = (SOFTCO, HOTELCO)

YEAR_START = dt.date(DEMO_YEAR, 1, 1)
YEAR_END = dt.date(DEMO_YEAR, 12, 31)

USAGE_PRODUCT = "USAGE-GB"
SERVICES_PRODUCT = "SVC-IMPL"
USAGE_PRICE = Decimal("0.085")


# ------------------------------------------------------------------------------ helpers


def _rng(seed: int, *labels: object) -> random.Random:
    """An independent, reproducible stream for one decision family (string seeds hash with
    SHA-512 in `random`, so they do not depend on PYTHONHASHSEED)."""
    return random.Random(f"ledgergate-demo/{seed}/" + "/".join(str(x) for x in labels))


def _count(base: float, scale: float, minimum: int) -> int:
    return max(minimum, round(base * scale))


def _weighted(rng: random.Random, choices: Sequence[tuple[object, int]]):
    total = sum(w for _, w in choices)
    pick = rng.randrange(total)
    for value, weight in choices:
        if pick < weight:
            return value
        pick -= weight
    raise AssertionError("unreachable")


def _half_up(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def _bp(amount: int, basis_points: int) -> int:
    """amount × basis_points / 10,000, rounded half up, in integers."""
    return (amount * basis_points * 2 + 10_000) // 20_000


def month_start(month: int) -> dt.date:
    return dt.date(DEMO_YEAR, month, 1)


def month_end(month: int) -> dt.date:
    return dt.date(DEMO_YEAR, month, calendar.monthrange(DEMO_YEAR, month)[1])


def _days(month: int) -> list[dt.date]:
    return [dt.date(DEMO_YEAR, month, d) for d in range(1, month_end(month).day + 1)]


def _in_year(day: dt.date) -> dt.date | None:
    return day if day <= YEAR_END else None


# ------------------------------------------------------------------------------ volume


@dataclass(frozen=True)
class Volume:
    """How many of each kind of master record a scale asks for."""

    customers: int
    corporate_accounts: int
    services_opportunities: int
    hotels: int
    software_employees: int
    hotel_employees: int
    software_vendors: int
    hotel_vendors: int
    cloud_bill_lines: int

    @classmethod
    def for_scale(cls, scale: float) -> Volume:
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale!r}")
        return cls(
            customers=_count(50, scale, 6),
            corporate_accounts=_count(6, scale, 2),
            services_opportunities=_count(20, scale, 2),
            hotels=_count(3, scale, 1),
            software_employees=_count(45, scale, 8),
            hotel_employees=_count(60, scale, 8),
            software_vendors=_count(20, scale, 8),
            hotel_vendors=_count(16, scale, 7),
            cloud_bill_lines=min(10_000, _count(200, scale, 40)),
        )


# ------------------------------------------------------------------------ reference data

OFFICES = (
    ("NYC", "New York HQ", "New York", "US"),
    ("SFO", "San Francisco office", "San Francisco", "US"),
    ("AUS", "Austin office", "Austin", "US"),
)
HOTEL_CITIES = (
    ("Berlin", "DE"),
    ("Munich", "DE"),
    ("Hamburg", "DE"),
    ("Vienna", "AT"),
    ("Amsterdam", "NL"),
    ("Paris", "FR"),
    ("Lisbon", "PT"),
    ("Madrid", "ES"),
    ("Rome", "IT"),
    ("Milan", "IT"),
    ("Brussels", "BE"),
    ("Dublin", "IE"),
)
SOFTWARE_DEPARTMENTS = (
    ("ENG", "Engineering", 35),
    ("PROD", "Product", 10),
    ("SALES", "Sales", 20),
    ("MKTG", "Marketing", 10),
    ("SUPPORT", "Customer Support", 15),
    ("FIN", "Finance & Administration", 10),
)
HOTEL_DEPARTMENTS = (
    ("ROOMS", "Rooms Division", 25),
    ("HSKP", "Housekeeping", 25),
    ("FNB", "Food & Beverage", 30),
    ("MAINT", "Maintenance", 10),
    ("HADM", "Hotel Administration", 10),
)
TITLES = {
    "ENG": ("Software Engineer", "Senior Software Engineer", "Staff Engineer", "SRE"),
    "PROD": ("Product Manager", "Product Designer", "UX Researcher"),
    "SALES": ("Account Executive", "Sales Development Rep", "Sales Manager"),
    "MKTG": ("Marketing Manager", "Content Strategist", "Growth Marketer"),
    "SUPPORT": ("Support Engineer", "Customer Success Manager"),
    "FIN": ("Accountant", "Controller", "Office Manager", "People Partner"),
    "ROOMS": ("Receptionist", "Night Auditor", "Front Office Manager", "Concierge"),
    "HSKP": ("Room Attendant", "Housekeeping Supervisor", "Laundry Attendant"),
    "FNB": ("Waiter", "Chef de Partie", "Bartender", "Sous Chef", "Kitchen Porter"),
    "MAINT": ("Maintenance Technician", "Chief Engineer"),
    "HADM": ("Hotel Manager", "Accountant", "HR Coordinator", "Revenue Manager"),
}
SALARY_THOUSANDS = {
    "ENG": (120, 210),
    "PROD": (110, 190),
    "SALES": (70, 160),
    "MKTG": (75, 150),
    "SUPPORT": (55, 95),
    "FIN": (70, 170),
    "ROOMS": (30, 48),
    "HSKP": (26, 34),
    "FNB": (28, 46),
    "MAINT": (32, 50),
    "HADM": (40, 78),
}
FIRST_NAMES = (
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kai",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Xenia",
    "Yusuf",
    "Zoe",
    "Amir",
    "Birgit",
    "Carlos",
    "Dana",
    "Emil",
    "Fatima",
)
LAST_NAMES = (
    "Andersen",
    "Bauer",
    "Chen",
    "Dubois",
    "Esposito",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ibrahim",
    "Jansen",
    "Kowalski",
    "Lopez",
    "Müller",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quaresma",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ulrich",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zimmermann",
)
COMPANY_WORDS = (
    "Acme",
    "Blue",
    "Cedar",
    "Delta",
    "Ember",
    "Fjord",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Maple",
    "Nova",
    "Orbit",
    "Pioneer",
    "Quartz",
    "Riverside",
    "Summit",
    "Tidal",
    "Umbra",
    "Vertex",
    "Willow",
    "Zenith",
)
COMPANY_NOUNS = (
    "Analytics",
    "Logistics",
    "Health",
    "Retail",
    "Media",
    "Labs",
    "Foods",
    "Energy",
    "Robotics",
    "Finance",
    "Travel",
    "Studios",
    "Systems",
    "Partners",
    "Bank",
    "Motors",
)
SEGMENTS = (("SMB", 55), ("MIDMARKET", 30), ("ENTERPRISE", 15))
SEATS = {"SMB": (3, 25), "MIDMARKET": (20, 120), "ENTERPRISE": (100, 600)}
PLAN_OF = {"SMB": "PLAN-STARTER", "MIDMARKET": "PLAN-TEAM", "ENTERPRISE": "PLAN-ENTERPRISE"}
USAGE_MILLI_GB = {
    "SMB": (2_000, 40_000),
    "MIDMARKET": (20_000, 400_000),
    "ENTERPRISE": (200_000, 3_000_000),
}


def _products() -> tuple[Product, ...]:
    usd = SOFTCO.currency
    return (
        Product(
            "PLAN-ENTERPRISE",
            SOFTCO.code,
            "Enterprise plan",
            "subscription",
            "seat-month",
            Decimal("99.00"),
            usd,
        ),
        Product(
            "PLAN-STARTER",
            SOFTCO.code,
            "Starter plan",
            "subscription",
            "seat-month",
            Decimal("29.00"),
            usd,
        ),
        Product(
            "PLAN-TEAM",
            SOFTCO.code,
            "Team plan",
            "subscription",
            "seat-month",
            Decimal("59.00"),
            usd,
        ),
        Product(
            "SVC-IMPL", SOFTCO.code, "Implementation services", "services", "project", None, usd
        ),
        Product(USAGE_PRODUCT, SOFTCO.code, "Metered storage", "usage", "GB", USAGE_PRICE, usd),
    )


ROOM_RATES_MINOR = {"ROOM-STD": 9_900, "ROOM-DLX": 13_900, "ROOM-STE": 22_900}


def _pos_items() -> tuple[PosItem, ...]:
    eur = HOTELCO.currency
    return (
        PosItem("BEV", HOTELCO.code, "Beverages", "beverage", Decimal("0.19"), eur),
        PosItem("FOOD", HOTELCO.code, "Food", "food", Decimal("0.07"), eur),
        PosItem("ROOM-DLX", HOTELCO.code, "Deluxe room", "room", Decimal("0.07"), eur),
        PosItem("ROOM-STD", HOTELCO.code, "Standard room", "room", Decimal("0.07"), eur),
        PosItem("ROOM-STE", HOTELCO.code, "Suite", "room", Decimal("0.07"), eur),
    )


SOFTWARE_VENDOR_CATEGORIES = (
    ("HOSTING", 5),
    ("RENT", 5),
    ("SOFTWARE", 30),
    ("TELECOM", 8),
    ("TRAVEL", 15),
    ("MARKETING", 15),
    ("LEGAL", 10),
    ("OFFICE", 12),
)
HOTEL_VENDOR_CATEGORIES = (
    ("FNB_SUPPLIES", 30),
    ("UTILITIES", 15),
    ("MAINTENANCE", 20),
    ("LAUNDRY", 12),
    ("MARKETING", 10),
    ("INSURANCE", 5),
    ("CAPEX", 8),
)
VENDOR_NAMES = {
    "HOSTING": ("Nimbus Cloud", "Stratus Compute", "Cirrus Hosting"),
    "RENT": ("Meridian Properties", "Parkside Realty", "Lakeview Offices"),
    "SOFTWARE": (
        "Ticketly",
        "Chatterbox",
        "CodeVault",
        "Sheetwise",
        "Designly",
        "Logstream",
        "PayrollPro",
        "SignHere",
        "Calendo",
        "MailCrate",
    ),
    "TELECOM": ("Metro Telecom", "FiberLink"),
    "TRAVEL": ("Skyways Travel", "Jetset Agency", "RoadWarrior Trips"),
    "MARKETING": ("Brightside Ads", "Funnel Agency", "Eventful Expos", "SearchBoost"),
    "LEGAL": ("Hale & Partners LLP", "Archer Legal", "Crown Audit"),
    "OFFICE": ("Paperclip Supply", "DeskDepot", "Snack Station"),
    "FNB_SUPPLIES": (
        "Frischmarkt Großhandel",
        "Getränke Kontor",
        "Bäckerei Sonnenschein",
        "Metzgerei Huber",
    ),
    "UTILITIES": ("Stadtwerke Energie", "AquaNet Wasser"),
    "MAINTENANCE": ("Handwerk Schulz", "Aufzug Service AG", "Klima Technik"),
    "LAUNDRY": ("WäscheWerk", "Linen Express"),
    "MARKETING_H": ("RoomFinder OTA", "TravelNest", "Hotelscout"),
    "INSURANCE": ("Allianz Partner", "Helvetia Gewerbe"),
    "CAPEX": ("Bau & Raum GmbH", "Interior Works"),
}
MONTHLY_CATEGORIES = {
    "HOSTING",
    "RENT",
    "SOFTWARE",
    "TELECOM",
    "FNB_SUPPLIES",
    "UTILITIES",
    "LAUNDRY",
}
CAPEX_MONTHS = range(3, 11)
INSURANCE_MONTHS = (1, 4, 7, 10)


def generate_master(seed: int = 7, scale: float = 1.0) -> DemoMaster:
    """The holding's reference data: sites, departments, catalogues, customers, people, vendors."""
    volume = Volume.for_scale(scale)
    locations = _locations(seed, volume)
    offices = [loc for loc in locations if loc.company == SOFTCO.code]
    hotels = [loc for loc in locations if loc.company == HOTELCO.code]
    departments = tuple(
        [Department(code, SOFTCO.code, name) for code, name, _ in SOFTWARE_DEPARTMENTS]
        + [Department(code, HOTELCO.code, name) for code, name, _ in HOTEL_DEPARTMENTS]
    )
    customers = _customers(seed, volume)
    opportunities, projects = _opportunities(seed, volume, customers)
    employees = _employees(seed, volume, offices, hotels)
    hires, terminations = _hr_events(employees)
    vendors = _vendors(seed, volume, offices, hotels)
    projects += tuple(
        Project(
            f"RENO-{v.location_id}",
            HOTELCO.code,
            f"Renovation of {_name_of(hotels, v.location_id)}",
            location_id=v.location_id,
        )
        for v in {v.location_id: v for v in vendors if v.category == "CAPEX"}.values()
    )
    return DemoMaster(
        seed=seed,
        scale=scale,
        companies=COMPANIES,
        locations=locations,
        departments=departments,
        products=_products(),
        pos_items=_pos_items(),
        customers=customers,
        opportunities=opportunities,
        projects=tuple(sorted(projects, key=lambda p: (p.company, p.id))),
        employees=employees,
        hires=hires,
        terminations=terminations,
        vendors=vendors,
    )


def _name_of(locations: Sequence[Location], location_id: str) -> str:
    return next(loc.name for loc in locations if loc.id == location_id)


def _locations(seed: int, volume: Volume) -> tuple[Location, ...]:
    found = [
        Location(code, SOFTCO.code, name, city, country, 0) for code, name, city, country in OFFICES
    ]
    for i in range(volume.hotels):
        city, country = HOTEL_CITIES[i % len(HOTEL_CITIES)]
        lap = i // len(HOTEL_CITIES)
        name = f"Lindenhof {city}" + (f" {lap + 1}" if lap else "")
        rooms = _rng(seed, "hotel", i).randint(16, 32)
        found.append(Location(f"HTL{i + 1}", HOTELCO.code, name, city, country, rooms))
    return tuple(found)


def _company_name(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_NOUNS)}"


def _customers(seed: int, volume: Volume) -> tuple[Customer, ...]:
    found = []
    for i in range(volume.customers):
        rng = _rng(seed, "customer", i)
        segment = _weighted(rng, SEGMENTS)
        seats = rng.randint(*SEATS[segment])
        if i % 5 == 4:  # one in five is won during the demo year
            since = dt.date(DEMO_YEAR, 1, 12) + dt.timedelta(days=rng.randint(0, 320))
        else:
            since = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randint(0, 2500))
        found.append(
            Customer(
                id=f"CUST-{i + 1:04d}",
                company=SOFTCO.code,
                name=f"{_company_name(rng)} {rng.choice(('Inc.', 'LLC', 'Corp.', 'Ltd.'))}",
                segment=segment,
                country=rng.choice(("US", "US", "US", "CA", "GB", "DE")),
                since=since,
                plan_id=PLAN_OF[segment],
                seats=seats,
                metered=i == 0 or rng.randrange(100) < 60,
                payment_terms_days=45 if segment == "ENTERPRISE" else 30,
            )
        )
    for j in range(volume.corporate_accounts):
        rng = _rng(seed, "corporate-account", j)
        found.append(
            Customer(
                id=f"CUST-{volume.customers + j + 1:04d}",
                company=HOTELCO.code,
                name=f"{_company_name(rng)} {rng.choice(('GmbH', 'AG', 'SE', 'B.V.'))}",
                segment="CORPORATE",
                country=rng.choice(("DE", "DE", "AT", "NL", "FR")),
                since=dt.date(2018, 1, 1) + dt.timedelta(days=rng.randint(0, 2400)),
                plan_id=None,
                seats=0,
                metered=False,
                payment_terms_days=30,
            )
        )
    return tuple(found)


def _opportunities(
    seed: int, volume: Volume, customers: Sequence[Customer]
) -> tuple[tuple[Opportunity, ...], tuple[Project, ...]]:
    software = [c for c in customers if c.company == SOFTCO.code]
    plans = {p.id: p for p in _products()}
    drafts = []  # (created_on, customer_id, kind, fields)
    for c in software:
        if c.since >= YEAR_START:
            rng = _rng(seed, "new-business", c.id)
            annual = int(plans[c.plan_id].unit_price * 100) * c.seats * 12
            drafts.append(
                (
                    c.since - dt.timedelta(days=rng.randint(20, 90)),
                    c.id,
                    "new_business",
                    dict(
                        stage="won",
                        amount_minor=annual,
                        close_date=c.since,
                        name=f"{c.name}: {plans[c.plan_id].name}",
                    ),
                )
            )
    for j in range(volume.services_opportunities):
        rng = _rng(seed, "services", j)
        created = dt.date(DEMO_YEAR, 1, 5) + dt.timedelta(days=rng.randint(0, 300))
        eligible = [c for c in software if c.since <= created] or software[:1]
        customer = rng.choice(eligible)
        created = max(created, customer.since)
        close = min(created + dt.timedelta(days=rng.randint(14, 60)), dt.date(DEMO_YEAR, 12, 15))
        roll = rng.randrange(100)
        stage = "won" if j == 0 or roll < 60 else ("lost" if roll < 85 else "open")
        drafts.append(
            (
                created,
                customer.id,
                "services",
                dict(
                    stage=stage,
                    amount_minor=rng.randint(10, 160) * 50_000,
                    close_date=close,
                    name=f"{customer.name}: implementation",
                ),
            )
        )
    drafts.sort(key=lambda d: (d[0], d[1], d[2]))
    opportunities, projects = [], []
    for n, (created, customer_id, kind, fields) in enumerate(drafts, start=1):
        project_id = None
        if kind == "services" and fields["stage"] == "won":
            project_id = f"PRJ-{len(projects) + 1:04d}"
            projects.append(
                Project(
                    project_id,
                    SOFTCO.code,
                    f"Implementation: {fields['name'].split(':')[0]}",
                    customer_id=customer_id,
                )
            )
        opportunities.append(
            Opportunity(
                id=f"OPP-{n:06d}",
                company=SOFTCO.code,
                customer_id=customer_id,
                kind=kind,
                currency=SOFTCO.currency,
                created_on=created,
                project_id=project_id,
                **fields,
            )
        )
    return tuple(opportunities), tuple(projects)


def _employees(
    seed: int, volume: Volume, offices: Sequence[Location], hotels: Sequence[Location]
) -> tuple[Employee, ...]:
    found = []
    plan = [
        (SOFTCO, volume.software_employees, SOFTWARE_DEPARTMENTS),
        (HOTELCO, volume.hotel_employees, HOTEL_DEPARTMENTS),
    ]
    for company, count, departments in plan:
        for i in range(count):
            rng = _rng(seed, "employee", company.code, i)
            if i < len(departments):  # every department has someone
                department = departments[i][0]
            else:
                department = _weighted(rng, [(code, w) for code, _, w in departments])
            if company is SOFTCO:
                location = _weighted(rng, [("NYC", 50), ("SFO", 30), ("AUS", 20)])
            else:
                location = hotels[i % len(hotels)].id
            if i == count - 1 or rng.randrange(100) < 14:
                hire = dt.date(DEMO_YEAR, 1, 5) + dt.timedelta(days=rng.randint(0, 320))
            else:
                hire = dt.date(2017, 1, 2) + dt.timedelta(days=rng.randint(0, 3250))
            termination = None
            if i == 1 or rng.randrange(100) < 8:
                first = max(hire + dt.timedelta(days=60), dt.date(DEMO_YEAR, 1, 15))
                last = dt.date(DEMO_YEAR, 12, 15)
                if first <= last:
                    termination = first + dt.timedelta(days=rng.randint(0, (last - first).days))
            low, high = SALARY_THOUSANDS[department]
            found.append(
                Employee(
                    id=f"EMP-{len(found) + 1:04d}",
                    company=company.code,
                    name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    title=rng.choice(TITLES[department]),
                    department_id=department,
                    location_id=location,
                    hire_date=hire,
                    termination_date=termination,
                    annual_salary_minor=rng.randint(low * 2, high * 2) * 500 * 100,
                    currency=company.currency,
                )
            )
    return tuple(found)


def _hr_events(employees: Sequence[Employee]) -> tuple[tuple[Hire, ...], tuple[Termination, ...]]:
    hired = sorted(
        (e for e in employees if e.hire_date >= YEAR_START), key=lambda e: (e.hire_date, e.id)
    )
    left = sorted(
        (e for e in employees if e.termination_date), key=lambda e: (e.termination_date, e.id)
    )
    hires = tuple(
        Hire(f"HIRE-{n:04d}", e.company, e.id, e.hire_date, e.department_id, e.location_id)
        for n, e in enumerate(hired, start=1)
    )
    reasons = ("resignation", "resignation", "end_of_contract", "retirement")
    terminations = tuple(
        Termination(
            f"TERM-{n:04d}",
            e.company,
            e.id,
            e.termination_date,
            e.department_id,
            e.location_id,
            reasons[int(e.id[4:]) % len(reasons)],
        )
        for n, e in enumerate(left, start=1)
    )
    return hires, terminations


def _vendors(
    seed: int, volume: Volume, offices: Sequence[Location], hotels: Sequence[Location]
) -> tuple[Vendor, ...]:
    found = []
    plan = [
        (SOFTCO, volume.software_vendors, SOFTWARE_VENDOR_CATEGORIES, offices),
        (HOTELCO, volume.hotel_vendors, HOTEL_VENDOR_CATEGORIES, hotels),
    ]
    for company, count, categories, sites in plan:
        seen: dict[str, int] = {}
        for i in range(count):
            rng = _rng(seed, "vendor", company.code, i)
            category = categories[i][0] if i < len(categories) else _weighted(rng, categories)
            nth = seen.get(category, 0)
            seen[category] = nth + 1
            names = VENDOR_NAMES[
                "MARKETING_H" if company is HOTELCO and category == "MARKETING" else category
            ]
            name = names[nth % len(names)]
            if nth >= len(names):
                name += f" {nth // len(names) + 1}"
            if company is SOFTCO:
                site = sites[nth % len(sites)] if category == "RENT" else sites[0]
            else:
                site = sites[i % len(sites)]
            found.append(
                Vendor(
                    id=f"V-{len(found) + 1:04d}",
                    company=company.code,
                    name=name,
                    category=category,
                    location_id=site.id,
                    payment_terms_days=rng.choice((15, 30, 30, 45)),
                    cadence="monthly" if category in MONTHLY_CATEGORIES else "adhoc",
                    currency=company.currency,
                )
            )
    return tuple(found)


# --------------------------------------------------------------------------- the months


class _Counters:
    """Sequential numbering that runs through the year."""

    def __init__(self) -> None:
        self.sales_order = 0
        self.bill = 0
        self.payment = 0
        self.receipt: dict[str, int] = {}

    def next_sales_order(self) -> str:
        self.sales_order += 1
        return f"SO-{DEMO_YEAR}-{self.sales_order:06d}"

    def next_bill(self) -> str:
        self.bill += 1
        return f"BILL-{self.bill:06d}"

    def next_payment(self) -> str:
        self.payment += 1
        return f"PAY-{self.payment:06d}"

    def next_receipt(self, hotel: str) -> str:
        n = self.receipt.get(hotel, 0) + 1
        self.receipt[hotel] = n
        return f"R-{hotel}-{DEMO_YEAR}-{n:07d}"


def iter_months(master: DemoMaster) -> Iterator[MonthRecords]:
    """The year's transactions, one month at a time, in order (numbering runs through)."""
    counters = _Counters()
    for month in range(1, 13):
        usage = _usage_records(master, month)
        sales_orders = _sales_orders(master, month, usage, counters)
        receipts = _receipts(master, month, counters)
        bills, payments = _bills(master, month, counters)
        yield MonthRecords(
            month=month,
            sales_orders=sales_orders,
            usage_records=usage,
            receipts=receipts,
            payroll_runs=_payroll_runs(master, month),
            bills=bills,
            payments=payments,
        )


def generate_world(seed: int = 7, scale: float = 1.0) -> DemoRecords:
    """Every record of the demo year, materialised."""
    master = generate_master(seed, scale)
    groups: dict[str, list] = {
        name: []
        for name in (
            "sales_orders",
            "usage_records",
            "receipts",
            "payroll_runs",
            "bills",
            "payments",
        )
    }
    for month in iter_months(master):
        for name, records in groups.items():
            records.extend(getattr(month, name))
    return DemoRecords(master=master, **{name: tuple(records) for name, records in groups.items()})


# ------------------------------------------------------------------------------- usage


def _usage_base(seed: int, customer: Customer) -> int:
    return _rng(seed, "usage-base", customer.id).randint(*USAGE_MILLI_GB[customer.segment])


def _usage_records(master: DemoMaster, month: int) -> tuple[UsageRecord, ...]:
    found = []
    for customer in master.customers:
        if not customer.metered:
            continue
        base = _usage_base(master.seed, customer)
        rng = _rng(master.seed, "usage", customer.id, month)
        for day in _days(month):
            noise = rng.randint(850, 1150)
            if day < customer.since:
                continue
            growth = 1000 + 2 * day.timetuple().tm_yday  # storage grows through the year
            weekend = 70 if day.weekday() >= 5 else 100
            milli = max(1, base * growth // 1000 * noise // 1000 * weekend // 100)
            found.append(
                UsageRecord(
                    id=f"U-{customer.id}-{day.isoformat()}",
                    company=customer.company,
                    customer_id=customer.id,
                    day=day,
                    gb_used=Decimal(milli).scaleb(-3),
                )
            )
    found.sort(key=lambda u: (u.day, u.customer_id))
    return tuple(found)


# ------------------------------------------------------------------------------ sales


def _sales_orders(
    master: DemoMaster, month: int, usage: Sequence[UsageRecord], counters: _Counters
) -> tuple[SalesOrder, ...]:
    products = {p.id: p for p in master.products}
    start, end = month_start(month), month_end(month)
    gb_by_customer: dict[str, Decimal] = {}
    for record in usage:
        gb_by_customer[record.customer_id] = (
            gb_by_customer.get(record.customer_id, Decimal(0)) + record.gb_used
        )
    orders = []  # (date, rank, customer_id, fields)
    customers = {c.id: c for c in master.customers}
    for c in master.customers:
        if c.company != SOFTCO.code or c.since > end:
            continue
        first = max(start, c.since)
        price = products[c.plan_id].unit_price
        seats = Decimal(c.seats)
        orders.append(
            (
                first,
                0,
                c.id,
                dict(
                    kind="subscription",
                    product_id=c.plan_id,
                    quantity=seats,
                    unit_price=price,
                    amount_minor=_half_up(seats * price * 100),
                    period_start=first,
                    period_end=end,
                ),
            )
        )
        if c.id in gb_by_customer:
            gb = gb_by_customer[c.id]
            orders.append(
                (
                    end,
                    1,
                    c.id,
                    dict(
                        kind="usage",
                        product_id=USAGE_PRODUCT,
                        quantity=gb,
                        unit_price=USAGE_PRICE,
                        amount_minor=max(1, _half_up(gb * USAGE_PRICE * 100)),
                        period_start=first,
                        period_end=end,
                    ),
                )
            )
    for opp in master.opportunities:
        if opp.kind == "services" and opp.stage == "won" and start <= opp.close_date <= end:
            orders.append(
                (
                    opp.close_date,
                    2,
                    opp.customer_id,
                    dict(
                        kind="services",
                        product_id=SERVICES_PRODUCT,
                        quantity=Decimal(1),
                        unit_price=Decimal(opp.amount_minor).scaleb(-2),
                        amount_minor=opp.amount_minor,
                        period_start=opp.close_date,
                        period_end=opp.close_date,
                        opportunity_id=opp.id,
                        project_id=opp.project_id,
                    ),
                )
            )
    orders.sort(key=lambda o: (o[0], o[1], o[2]))
    found = []
    for day, rank, customer_id, fields in orders:
        customer = customers[customer_id]
        rng = _rng(master.seed, "collection", customer_id, month, rank)
        due = day + dt.timedelta(days=customer.payment_terms_days)
        paid = None
        if rng.randrange(100) >= 3:  # a few invoices are never paid
            paid = _in_year(
                day + dt.timedelta(days=customer.payment_terms_days - 12 + rng.randint(0, 24))
            )
        found.append(
            SalesOrder(
                id=counters.next_sales_order(),
                company=SOFTCO.code,
                customer_id=customer_id,
                order_date=day,
                currency=SOFTCO.currency,
                due_date=due,
                paid_on=paid,
                **fields,
            )
        )
    return tuple(found)


# -------------------------------------------------------------------------------- POS

OCCUPANCY_PERMILLE = (620, 650, 700, 760, 820, 860, 900, 900, 840, 780, 680, 720)
RATE_PERMILLE = (900, 900, 950, 1000, 1050, 1100, 1150, 1150, 1100, 1000, 950, 1050)
NIGHTS = ((1, 30), (2, 30), (3, 20), (4, 10), (5, 6), (7, 4))
ROOM_TYPES = (("ROOM-STD", 60), ("ROOM-DLX", 30), ("ROOM-STE", 10))
ROOM_NAMES = {"ROOM-STD": "Standard room", "ROOM-DLX": "Deluxe room", "ROOM-STE": "Suite"}
FOOD_MENU = (
    ("Tomato soup", 750),
    ("Wiener Schnitzel", 2250),
    ("Garden salad", 1350),
    ("Ribeye steak", 3400),
    ("Apple strudel", 850),
    ("Pasta al pomodoro", 1690),
    ("Club sandwich", 1590),
)
DRINKS_MENU = (
    ("Glass of Riesling", 790),
    ("Pilsner 0.5l", 520),
    ("Mineral water", 450),
    ("Espresso", 380),
    ("Apple spritzer", 420),
)
BAR_MENU = (
    ("Negroni", 1290),
    ("Gin & tonic", 1150),
    ("Pilsner 0.5l", 520),
    ("Glass of Riesling", 790),
    ("Whisky sour", 1250),
)


def _receipts(master: DemoMaster, month: int, counters: _Counters) -> tuple[Receipt, ...]:
    hotels = [loc for loc in master.locations if loc.company == HOTELCO.code]
    accounts = [c.id for c in master.customers if c.company == HOTELCO.code]
    rates = {item.id: item.tax_rate for item in master.pos_items}
    found = []
    for hotel in hotels:
        for day in _days(month):
            rng = _rng(master.seed, "pos", hotel.id, day.isoformat())
            drafts = _day_receipts(rng, hotel, day, month, accounts, rates)
            drafts.sort(key=lambda d: d[0])
            for closed_at, outlet, method, customer, lines in drafts:
                rid = counters.next_receipt(hotel.id)
                found.append(
                    Receipt(
                        id=rid,
                        company=HOTELCO.code,
                        location_id=hotel.id,
                        outlet=outlet,
                        business_date=day,
                        closed_at=closed_at,
                        payment_method=method,
                        customer_id=customer,
                        currency=HOTELCO.currency,
                        lines=tuple(
                            _receipt_line(rid, n, *line, rates)
                            for n, line in enumerate(lines, start=1)
                        ),
                    )
                )
    return tuple(found)


def _receipt_line(
    receipt_id, line_no, item_id, description, quantity, unit_price, rates
) -> ReceiptLine:
    net = quantity * unit_price
    rate = rates[item_id]
    return ReceiptLine(
        receipt_id,
        line_no,
        item_id,
        description,
        quantity,
        unit_price,
        net,
        rate,
        _half_up(Decimal(net) * rate),
    )


def _day_receipts(rng, hotel, day, month, accounts, rates):
    """(closed_at, outlet, payment method, customer, [(item, description, qty, unit price)])."""
    drafts = []

    def at(hour_from: int, hour_to: int) -> dt.datetime:
        minutes = rng.randint(hour_from * 60, hour_to * 60 - 1)
        return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60))

    def payment(account_share: int) -> tuple[str, str | None]:
        roll = rng.randrange(100)
        if accounts and roll < account_share:
            return "account", rng.choice(accounts)
        return ("cash", None) if roll >= 85 else ("card", None)

    expected = hotel.rooms * OCCUPANCY_PERMILLE[month - 1] * 10 // 24  # milli-checkouts
    checkouts = max(0, (expected * rng.randint(700, 1300) // 1000 + 500) // 1000)
    for _ in range(checkouts):
        room = _weighted(rng, ROOM_TYPES)
        nights = _weighted(rng, NIGHTS)
        rate = ROOM_RATES_MINOR[room] * RATE_PERMILLE[month - 1] // 1000 // 100 * 100
        lines = [
            (room, f"{ROOM_NAMES[room]}, {nights} night{'s' if nights > 1 else ''}", nights, rate)
        ]
        if rng.randrange(100) < 50:
            lines.append(("FOOD", "Breakfast buffet", nights * rng.randint(1, 2), 1800))
        if rng.randrange(100) < 20:
            lines.append(("BEV", "Minibar", rng.randint(1, 4), 450))
        drafts.append((at(7, 12), "FRONT_DESK", *payment(15), lines))
    for _ in range(rng.randint(3, 7)):
        lines = []
        for _ in range(rng.randint(1, 4)):
            name, price = rng.choice(FOOD_MENU)
            lines.append(("FOOD", name, rng.randint(1, 3), price))
        for _ in range(rng.randint(1, 3)):
            name, price = rng.choice(DRINKS_MENU)
            lines.append(("BEV", name, rng.randint(1, 4), price))
        drafts.append((at(12, 22), "RESTAURANT", *payment(5), lines))
    for _ in range(rng.randint(1, 5)):
        lines = []
        for _ in range(rng.randint(1, 4)):
            name, price = rng.choice(BAR_MENU)
            lines.append(("BEV", name, rng.randint(1, 3), price))
        drafts.append((at(18, 24), "BAR", *payment(0), lines))
    return drafts


# ----------------------------------------------------------------------------- payroll

WITHHOLDING_BP = {SOFTCO.code: 2_400, HOTELCO.code: 3_100}
EMPLOYER_TAX_BP = {SOFTCO.code: 765, HOTELCO.code: 2_050}


def _payroll_runs(master: DemoMaster, month: int) -> tuple[PayrollRun, ...]:
    start, end = month_start(month), month_end(month)
    days_in_month = end.day
    runs = []
    for company in master.companies:
        run_id = f"PR-{company.code}-{DEMO_YEAR}-{month:02d}"
        slips = []
        for e in master.employees:
            if e.company != company.code:
                continue
            first = max(start, e.hire_date)
            last = min(end, e.termination_date or end)
            if first > last:
                continue
            worked = (last - first).days + 1
            denominator = 12 * days_in_month
            gross = (e.annual_salary_minor * worked * 2 + denominator) // (2 * denominator)
            withholding = _bp(gross, WITHHOLDING_BP[company.code])
            slips.append(
                Payslip(
                    run_id=run_id,
                    employee_id=e.id,
                    department_id=e.department_id,
                    location_id=e.location_id,
                    days_worked=worked,
                    gross_minor=gross,
                    withholding_minor=withholding,
                    net_minor=gross - withholding,
                    employer_tax_minor=_bp(gross, EMPLOYER_TAX_BP[company.code]),
                )
            )
        if slips:
            runs.append(
                PayrollRun(run_id, company.code, start, end, end, tuple(slips), company.currency)
            )
    return tuple(runs)


# ------------------------------------------------------------------------------- bills

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


def _bills(
    master: DemoMaster, month: int, counters: _Counters
) -> tuple[tuple[Bill, ...], tuple[Payment, ...]]:
    departments = {
        c.code: [d.id for d in master.departments if d.company == c.code] for c in master.companies
    }
    projects = {p.location_id: p.id for p in master.projects if p.location_id}
    first_hosting = next((v.id for v in master.vendors if v.category == "HOSTING"), None)
    volume = Volume.for_scale(master.scale)
    drafts = []
    for vendor in master.vendors:
        rng = _rng(master.seed, "bill", vendor.id, month)
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
    bills, payments = [], []
    for day, vendor, invoice, lines, rng in drafts:
        bill_id = counters.next_bill()
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
        bills.append(bill)
        paid = _in_year(day + dt.timedelta(days=vendor.payment_terms_days + rng.randint(-5, 10)))
        if paid is not None:
            method = "sepa" if vendor.currency == "EUR" else rng.choice(("ach", "ach", "wire"))
            payments.append(
                Payment(
                    counters.next_payment(),
                    vendor.company,
                    bill_id,
                    vendor.id,
                    paid,
                    bill.total_minor,
                    method,
                    vendor.currency,
                )
            )
    return tuple(bills), tuple(payments)


def _bill_lines(rng, master, vendor, departments, projects, cloud_lines):
    """[(description, category, department, location, project, quantity, amount_minor)]."""
    category = vendor.category
    site = vendor.location_id
    if category == "HOSTING":
        count = cloud_lines * rng.randint(900, 1100) // 1000 if cloud_lines else rng.randint(10, 60)
        lines = []
        for _ in range(count):
            service = rng.choice(HOSTING_SERVICES)
            department = _weighted(rng, (("ENG", 60), ("PROD", 15), ("SUPPORT", 15), ("SALES", 10)))
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
        rent = _rng(master.seed, "rent", vendor.id).randint(180, 450) * 10_000
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
    key = "MARKETING_H" if vendor.company == HOTELCO.code and category == "MARKETING" else category
    descriptions, (low, high), allowed = SIMPLE_LINES[key]
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
