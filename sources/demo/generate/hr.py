"""The HR system's reference data: sites, departments, employees, hires and terminations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..records import DEMO_YEAR, Department, Employee, Hire, Location, Termination
from .companies import HOTELCO, SOFTCO
from .draws import covering, seeded, weighted
from .names import person_name
from .volume import Volume
from .year import YEAR_START

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


def locations(seed: int, volume: Volume) -> tuple[Location, ...]:
    found = [
        Location(code, SOFTCO.code, name, city, country, 0) for code, name, city, country in OFFICES
    ]
    for i in range(volume.hotels):
        city, country = HOTEL_CITIES[i % len(HOTEL_CITIES)]
        lap = i // len(HOTEL_CITIES)
        name = f"Lindenhof {city}" + (f" {lap + 1}" if lap else "")
        rooms = seeded(seed, "hotel", i).randint(16, 32)
        found.append(Location(f"HTL{i + 1}", HOTELCO.code, name, city, country, rooms))
    return tuple(found)


def departments() -> tuple[Department, ...]:
    return tuple(
        [Department(code, SOFTCO.code, name) for code, name, _ in SOFTWARE_DEPARTMENTS]
        + [Department(code, HOTELCO.code, name) for code, name, _ in HOTEL_DEPARTMENTS]
    )


def employees(seed: int, volume: Volume, hotels: Sequence[Location]) -> tuple[Employee, ...]:
    found = []
    plan = [
        (SOFTCO, volume.software_employees, SOFTWARE_DEPARTMENTS),
        (HOTELCO, volume.hotel_employees, HOTEL_DEPARTMENTS),
    ]
    for company, count, staffed in plan:
        shares = [(code, share) for code, _, share in staffed]
        for i in range(count):
            rng = seeded(seed, "employee", company.code, i)
            department = covering(rng, i, shares)  # every department has someone
            if company is SOFTCO:
                location = weighted(rng, [("NYC", 50), ("SFO", 30), ("AUS", 20)])
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
                    name=person_name(rng),
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


def hires_and_terminations(
    employees: Sequence[Employee],
) -> tuple[tuple[Hire, ...], tuple[Termination, ...]]:
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
