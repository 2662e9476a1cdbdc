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


@pytest.mark.parametrize("text", ["0", "-0", "12", "-12.5", "0.001", "100000000000.99"])
def test_parse_decimal_takes_the_grammar_exactly(text):
    assert parse_decimal(text) == Decimal(text)


@pytest.mark.parametrize(
    "bad", ["1_000", "+1", ".5", "5.", "1E+2", " 1", "1 ", "1\n", "١", "１", "-", "--1", "1" * 65]
)
def test_parse_decimal_refuses_what_python_would_read(bad):
    with pytest.raises(AmountError, match=r"-\?\[0-9\]"):
        parse_decimal(bad)
