"""How many of each kind of master record a scale asks for."""

from __future__ import annotations

from dataclasses import dataclass


def _count(base: float, scale: float, minimum: int) -> int:
    return max(minimum, round(base * scale))


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
