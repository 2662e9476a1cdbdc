"""The hotels' point of sale: the item catalogue and each day's receipts per hotel."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from ..records import DemoMaster, Location, PosItem, Receipt, ReceiptLine
from .companies import HOTELCO
from .draws import seeded, weighted
from .numbering import Numbering
from .rounding import half_up
from .year import days_of

ROOM_RATES_MINOR = {"ROOM-STD": 9_900, "ROOM-DLX": 13_900, "ROOM-STE": 22_900}


def pos_items() -> tuple[PosItem, ...]:
    eur = HOTELCO.currency
    return (
        PosItem("BEV", HOTELCO.code, "Beverages", "beverage", Decimal("0.19"), eur),
        PosItem("FOOD", HOTELCO.code, "Food", "food", Decimal("0.07"), eur),
        PosItem("ROOM-DLX", HOTELCO.code, "Deluxe room", "room", Decimal("0.07"), eur),
        PosItem("ROOM-STD", HOTELCO.code, "Standard room", "room", Decimal("0.07"), eur),
        PosItem("ROOM-STE", HOTELCO.code, "Suite", "room", Decimal("0.07"), eur),
    )


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


def receipts(master: DemoMaster, month: int, numbering: Numbering) -> tuple[Receipt, ...]:
    hotels = [loc for loc in master.locations if loc.company == HOTELCO.code]
    accounts = [c.id for c in master.customers if c.company == HOTELCO.code]
    rates = {item.id: item.tax_rate for item in master.pos_items}
    found = []
    for hotel in hotels:
        for day in days_of(month):
            rng = seeded(master.seed, "pos", hotel.id, day.isoformat())
            drafts = _day_receipts(rng, hotel, day, month, accounts, rates)
            drafts.sort(key=lambda d: d[0])
            for closed_at, outlet, method, customer, lines in drafts:
                rid = numbering.receipt(hotel.id)
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
        half_up(Decimal(net) * rate),
    )


def _day_receipts(
    rng: random.Random,
    hotel: Location,
    day: dt.date,
    month: int,
    accounts: list[str],
    rates: dict[str, Decimal],
) -> list[tuple]:
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
        room = weighted(rng, ROOM_TYPES)
        nights = weighted(rng, NIGHTS)
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
        lines = _ordered(rng, "FOOD", FOOD_MENU, 4, 3) + _ordered(rng, "BEV", DRINKS_MENU, 3, 4)
        drafts.append((at(12, 22), "RESTAURANT", *payment(5), lines))
    for _ in range(rng.randint(1, 5)):
        lines = _ordered(rng, "BEV", BAR_MENU, 4, 3)
        drafts.append((at(18, 24), "BAR", *payment(0), lines))
    return drafts


def _ordered(rng: random.Random, item_id: str, menu, most_dishes: int, most_units: int) -> list:
    """1 to `most_dishes` picks from a menu, 1 to `most_units` of each, as receipt line drafts."""
    lines = []
    for _ in range(rng.randint(1, most_dishes)):
        name, price = rng.choice(menu)
        lines.append((item_id, name, rng.randint(1, most_units), price))
    return lines
