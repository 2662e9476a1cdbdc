"""Fiscal years: which year a date falls in, its bounds and its monthly periods.

A fiscal year is named by the calendar year it ends in (a year starting 2025-07-01 is
fiscal 2026), as most ERPs name them; with January as its first month it is the calendar
year. Pure functions: the reports, the close and period generation share them.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass


def _check_month(start_month: int) -> None:
    if not isinstance(start_month, int) or not 1 <= start_month <= 12:
        raise ValueError(f"a fiscal year starts in a month 1-12, not {start_month!r}")


def fiscal_year_of(day: dt.date, start_month: int = 1) -> int:
    _check_month(start_month)
    if start_month == 1:
        return day.year
    return day.year + 1 if day.month >= start_month else day.year


def fiscal_year_bounds(year: int, start_month: int = 1) -> tuple[dt.date, dt.date]:
    """First and last day of fiscal `year`."""
    _check_month(start_month)
    first_year = year if start_month == 1 else year - 1
    start = dt.date(first_year, start_month, 1)
    end_month = 12 if start_month == 1 else start_month - 1
    end = dt.date(year, end_month, calendar.monthrange(year, end_month)[1])
    return start, end


@dataclass(frozen=True)
class PeriodSpan:
    name: str
    start: dt.date
    end: dt.date
    fiscal_year: int


def monthly_periods(year: int, start_month: int = 1) -> list[PeriodSpan]:
    """The twelve calendar-month periods of fiscal `year`, named YYYY-MM by their month."""
    start, _ = fiscal_year_bounds(year, start_month)
    spans = []
    month_year, month = start.year, start.month
    for _ in range(12):
        last = calendar.monthrange(month_year, month)[1]
        spans.append(
            PeriodSpan(
                f"{month_year}-{month:02d}",
                dt.date(month_year, month, 1),
                dt.date(month_year, month, last),
                year,
            )
        )
        month_year, month = (month_year + 1, 1) if month == 12 else (month_year, month + 1)
    return spans
