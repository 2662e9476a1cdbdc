"""Exact amounts rounded half up to whole minor units."""

from decimal import ROUND_HALF_UP, Decimal


def half_up(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def basis_points(amount: int, points: int) -> int:
    """amount × points / 10,000, rounded half up, in integers."""
    return (amount * points * 2 + 10_000) // 20_000
