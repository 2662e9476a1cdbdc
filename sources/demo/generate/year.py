"""The demo year's calendar."""

import calendar
import datetime as dt

from ..records import DEMO_YEAR

YEAR_START = dt.date(DEMO_YEAR, 1, 1)
YEAR_END = dt.date(DEMO_YEAR, 12, 31)


def month_start(month: int) -> dt.date:
    return dt.date(DEMO_YEAR, month, 1)


def month_end(month: int) -> dt.date:
    return dt.date(DEMO_YEAR, month, calendar.monthrange(DEMO_YEAR, month)[1])


def days_of(month: int) -> list[dt.date]:
    return [dt.date(DEMO_YEAR, month, d) for d in range(1, month_end(month).day + 1)]


def in_year(day: dt.date) -> dt.date | None:
    """The day, or None past the year's end (a payment the demo year never sees)."""
    return day if day <= YEAR_END else None
