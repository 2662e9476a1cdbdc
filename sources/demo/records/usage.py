"""The usage tracker's records: a metered customer's storage use per day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from .base import USAGE, SourceRecord


@dataclass(frozen=True)
class UsageRecord(SourceRecord):
    """A metered customer's storage use on one day.

    Attributes:
        id: ``U-CUST-0007-2026-03-14``.
        company: the selling company.
        customer_id: `Customer.id`.
        day: the day measured.
        gb_used: gigabytes used, exact with three places (``Decimal("12.345")``), > 0.
    """

    SYSTEM: ClassVar[str] = USAGE
    RECORD_TYPE: ClassVar[str] = "UsageRecord"

    id: str
    company: str
    customer_id: str
    day: dt.date
    gb_used: Decimal
