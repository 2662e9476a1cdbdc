"""Exact scalars: Decimal (as a string, never a float) and Date (YYYY-MM-DD)."""

import datetime as dt
import decimal

import strawberry

from ledger.money import DECIMAL_GRAMMAR, AmountError, parse_decimal

from .errors import user_input_error


def _parse_decimal(value: object) -> decimal.Decimal:
    try:
        return parse_decimal(value)  # type: ignore[arg-type]
    except AmountError as error:
        raise user_input_error(f"Decimal: {error}") from None


def _parse_date(value: object) -> dt.date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise user_input_error(f"Date must be a calendar date as YYYY-MM-DD, got {value!r}")


Decimal = strawberry.scalar(
    name="Decimal",
    description='An exact decimal number, serialised as a string ("1234.50"). Input is a '
    f"string matching {DECIMAL_GRAMMAR} exactly (ASCII digits, an optional leading '-', "
    "a '.' with digits after it: no '+', exponent, separators, spaces or other digits) "
    "or an integer; anything else, floating point numbers included, is BAD_USER_INPUT.",
    serialize=str,
    parse_value=_parse_decimal,
)

Date = strawberry.scalar(
    name="Date",
    description="A calendar date, YYYY-MM-DD.",
    serialize=dt.date.isoformat,
    parse_value=_parse_date,
)

SCALAR_MAP = {decimal.Decimal: Decimal, dt.date: Date}
