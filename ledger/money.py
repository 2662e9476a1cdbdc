"""Exact amounts: integer minor units in storage, `Decimal` at the edges, never float."""

from decimal import Decimal, InvalidOperation

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


def parse_decimal(text: str | int | Decimal) -> Decimal:
    """Parse user input into a finite Decimal; floats are refused, they are not exact."""
    if isinstance(text, (bool, float)):
        raise AmountError("amounts must be strings or integers, not floating point numbers")
    try:
        value = Decimal(text) if not isinstance(text, Decimal) else text
    except (InvalidOperation, ValueError, TypeError):
        raise AmountError(f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise AmountError(f"{text!r} is not a finite decimal number")
    return value


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
