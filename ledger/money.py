"""Exact amounts: integer minor units in storage, `Decimal` at the edges, never float."""

import re
from decimal import Decimal

# ISO 4217 minor-unit exponents for the currencies ledgergate accepts as an entity's base
# currency. A currency missing here is refused rather than guessed at.
CURRENCY_SCALES: dict[str, int] = {
    "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "CZK": 2, "DKK": 2,
    "EUR": 2, "GBP": 2, "HKD": 2, "INR": 2, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3,
    "MXN": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PLN": 2, "SEK": 2, "SGD": 2, "USD": 2,
    "ZAR": 2,
}

# Per-line bound on an amount in minor units. It keeps any plausible SUM over a ledger
# inside a signed 64-bit integer (SQLite raises on overflow) and catches fat-finger input.
MAX_MINOR_UNITS = 10**15


class AmountError(ValueError):
    """An amount that cannot be represented exactly at the required scale."""


def currency_scale(currency: str) -> int:
    try:
        return CURRENCY_SCALES[currency]
    except KeyError:
        raise AmountError(f"unknown currency {currency!r}") from None


# The one grammar an amount or quantity may be written in: ASCII digits, an optional
# leading minus, an optional fraction with at least one digit. Python's Decimal() also
# takes "1_000", "+1", ".5", "1E+2", surrounding white space and non-ASCII digits; a
# finance system must not guess what such input meant.
DECIMAL_GRAMMAR = "-?[0-9]+(\\.[0-9]+)?"
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
# Far beyond MAX_MINOR_UNITS at any scale; bounds the work Decimal() is asked to do.
MAX_DECIMAL_CHARS = 64


def parse_decimal(text: str | int | Decimal) -> Decimal:
    """Parse user input into an exact Decimal.

    Strings must match DECIMAL_GRAMMAR exactly; integers are taken as they are; floats
    (and bools) are refused, they are not exact. A Decimal passes if it is finite.
    """
    if isinstance(text, (bool, float)):
        raise AmountError("amounts must be strings or integers, not floating point numbers")
    if isinstance(text, int):
        return Decimal(text)
    if isinstance(text, Decimal):
        if not text.is_finite():
            raise AmountError(f"{text!r} is not a finite decimal number")
        return text
    if not isinstance(text, str):
        raise AmountError(f"{text!r} is not a decimal number")
    if len(text) > MAX_DECIMAL_CHARS or _DECIMAL.fullmatch(text) is None:
        shown = text if len(text) <= MAX_DECIMAL_CHARS else text[:MAX_DECIMAL_CHARS] + "…"
        raise AmountError(
            f"{shown!r} is not a decimal number written as {DECIMAL_GRAMMAR} "
            "(ASCII digits, an optional leading '-', a '.' with digits after it)"
        )
    return Decimal(text)


def decimals_of(value: Decimal) -> int:
    """How many digits stand after the decimal point once trailing zeros are dropped."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def to_minor(value: Decimal, scale: int) -> int:
    """Decimal → integer units of 10**-scale; refuses anything that would be rounded."""
    if decimals_of(value) > scale:
        raise AmountError(f"{value} has more than {scale} decimal places")
    return int(value.scaleb(scale))


def from_minor(units: int, scale: int) -> Decimal:
    """Integer units → Decimal with exactly `scale` places ("1234.50", "0.00", "12")."""
    return Decimal(units).scaleb(-scale)
