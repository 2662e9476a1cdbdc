"""The position the demo year opens with: balances as at 2025-12-31."""

import datetime as dt

from sources.demo.records import DEMO_YEAR

OPENING_DATE = dt.date(DEMO_YEAR - 1, 12, 31)

# Opening balances (2025-12-31), in whole currency units: debit positive, credit negative.
# SOFTCO's are multiplied by the scale; HOTELCO's are per hotel, per room where it says so.
SOFTWARE_OPENING = {
    "1000": 4_800_000,
    "1010": 250_000,
    "1100": 420_000,
    "1200": 85_000,
    "1500": 640_000,
    "1600": 900_000,
    "1510": -210_000,
    "1610": -300_000,
    "2000": -160_000,
    "2100": -95_000,
    "2200": -60_000,
    "2210": -90_000,
    "2400": -180_000,
    "3000": -10_000,
    "3100": -6_500_000,
}
HOTEL_OPENING = {
    "1000": 6_000,
    "1010": 250_000,
    "1100": 40_000,
    "1200": 25_000,
    "1300": 12_000,
    "2000": -60_000,
    "2100": -30_000,
    "2200": -25_000,
    "2210": -20_000,
    "2300": -35_000,
    "2400": -18_000,
    "3000": -500_000,
}
HOTEL_OPENING_PER_ROOM = {
    "1500": 180_000,
    "1510": -36_000,
    "1520": 30_000,
    "1530": -12_000,
    "2500": -90_000,
}
RETAINED_EARNINGS = "3900"
