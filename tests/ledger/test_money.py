from decimal import Decimal

import pytest

from ledger.money import AmountError, decimals_of, from_minor, parse_decimal, to_minor


def test_round_trip_keeps_the_scale():
    assert str(from_minor(123450, 2)) == "1234.50"
    assert str(from_minor(0, 2)) == "0.00"
    assert str(from_minor(-5, 2)) == "-0.05"
    assert str(from_minor(7, 0)) == "7"
    assert to_minor(Decimal("1234.5"), 2) == 123450


def test_more_decimals_than_the_scale_is_refused_not_rounded():
    with pytest.raises(AmountError):
        to_minor(Decimal("0.001"), 2)
    assert decimals_of(Decimal("1.500")) == 1


@pytest.mark.parametrize("bad", [1.5, "abc", "NaN", "Infinity", True, None])
def test_parse_decimal_refuses_inexact_or_non_numbers(bad):
    with pytest.raises(AmountError):
        parse_decimal(bad)
