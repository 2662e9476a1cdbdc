"""The bill-payment system's reference data: the vendors of each company."""

from __future__ import annotations

from collections.abc import Sequence

from ..records import Location, Vendor
from .companies import HOTELCO, SOFTCO
from .draws import covering, seeded
from .volume import Volume

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


def catalogue_key(company: str, category: str) -> str:
    """The key of a spend category in the name and bill-line tables: the hotel's marketing
    is its own (online travel agencies), not the software company's."""
    return "MARKETING_H" if company == HOTELCO.code and category == "MARKETING" else category


def vendors(
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
            rng = seeded(seed, "vendor", company.code, i)
            category = covering(rng, i, categories)
            nth = seen.get(category, 0)
            seen[category] = nth + 1
            names = VENDOR_NAMES[catalogue_key(company.code, category)]
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
