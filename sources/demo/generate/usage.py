"""The usage tracker's daily storage measurements of metered customers."""

from __future__ import annotations

from decimal import Decimal

from ..records import Customer, DemoMaster, UsageRecord
from .draws import seeded
from .year import days_of

USAGE_MILLI_GB = {
    "SMB": (2_000, 40_000),
    "MIDMARKET": (20_000, 400_000),
    "ENTERPRISE": (200_000, 3_000_000),
}


def _usage_base(seed: int, customer: Customer) -> int:
    return seeded(seed, "usage-base", customer.id).randint(*USAGE_MILLI_GB[customer.segment])


def usage_records(master: DemoMaster, month: int) -> tuple[UsageRecord, ...]:
    found = []
    for customer in master.customers:
        if not customer.metered:
            continue
        base = _usage_base(master.seed, customer)
        rng = seeded(master.seed, "usage", customer.id, month)
        for day in days_of(month):
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
