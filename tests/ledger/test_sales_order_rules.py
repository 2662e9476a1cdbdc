"""The sales order's pure rules: its lifecycle, its amounts, its payments."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.documents.sales_order import (
    LEGAL_FROM,
    RANK,
    OrderAction,
    OrderLineDraft,
    OrderState,
    check_action,
    check_order,
    check_payment,
    order_total,
    state_after,
)


def line(item="WIDGET", quantity="1", price="10.00"):
    return OrderLineDraft(item, Decimal(quantity), Decimal(price))


@pytest.mark.parametrize("state,action", [
    (OrderState.OPEN, OrderAction.FULFIL),
    (OrderState.FULFILLED, OrderAction.INVOICE),
    (OrderState.INVOICED, OrderAction.PAY),
    (OrderState.OPEN, OrderAction.CANCEL),
])
def test_the_lifecycle_allows_its_steps(state, action):
    assert check_action(state, action, "SO-1") == []


@pytest.mark.parametrize("state,action", [
    (OrderState.OPEN, OrderAction.PAY),
    (OrderState.OPEN, OrderAction.INVOICE),
    (OrderState.INVOICED, OrderAction.INVOICE),
    (OrderState.PAID, OrderAction.PAY),
    (OrderState.FULFILLED, OrderAction.CANCEL),
    (OrderState.CANCELLED, OrderAction.FULFIL),
])
def test_an_illegal_step_names_the_current_state(state, action):
    [violation] = check_action(state, action, "SO-7")
    assert f"SO-7 is {state.value}" in violation.message
    assert violation.path == "state"


@given(st.sampled_from(list(OrderState)), st.sampled_from(list(OrderAction)), st.integers(0, 10))
def test_no_legal_step_goes_back(state, action, due_after):
    if check_action(state, action, "SO-1"):
        return
    assert RANK[state_after(state, action, due_after)] >= RANK[state]


def test_a_payment_leaves_the_order_invoiced_until_nothing_is_due():
    assert state_after(OrderState.INVOICED, OrderAction.PAY, 1) is OrderState.INVOICED
    assert state_after(OrderState.INVOICED, OrderAction.PAY, 0) is OrderState.PAID


def test_each_action_starts_from_some_state():
    assert set(LEGAL_FROM) == set(OrderAction)


def test_line_amounts_round_once_half_to_even():
    # 1.5 × 19.99 = 29.985 → 29.98 (half to even); 2.5 × 0.01 = 0.025 → 0.02
    assert order_total("USD", [line(quantity="1.5", price="19.99")]) == 2998
    assert order_total("USD", [line(quantity="2.5", price="0.01")]) == 2
    assert order_total("JPY", [line(quantity="3", price="333.5")]) == 1000  # 1000.5 → 1000
    assert order_total("USD", [line(quantity="3", price="19.99"), line(price="0.125")]) == 5997 + 12


@given(st.lists(st.tuples(st.integers(1, 10**6), st.integers(0, 10**8)), min_size=1, max_size=20))
@settings(max_examples=200, derandomize=True)
def test_whole_cent_prices_total_exactly(rows):
    lines = [line(quantity=str(q), price=str(Decimal(p).scaleb(-2))) for q, p in rows]
    assert order_total("USD", lines) == sum(q * p for q, p in rows)


@pytest.mark.parametrize("lines,path,words", [
    ([], "lines", "at least one line"),
    ([line(item=" ")], "lines[0].item", "item code"),
    ([line(quantity="0")], "lines[0].quantity", "not a quantity"),
    ([line(quantity="1.00001")], "lines[0].quantity", "not a quantity"),
    ([line(price="-1")], "lines[0].unitPrice", "not a unit price"),
    ([line(price="0.0000001")], "lines[0].unitPrice", "not a unit price"),
    ([line(price="0")], "lines", "more than zero"),
    ([line(quantity="1000000", price="10000000000")], "lines[0].unitPrice", "too large"),
])
def test_bad_orders_are_refused_with_a_path(lines, path, words):
    found = check_order("USD", lines)
    assert any(v.path == path and words in v.message for v in found), found


def test_an_unknown_currency_is_refused():
    [violation] = check_order("XXX", [line()])
    assert violation.path == "currency"


def test_every_bad_line_is_listed():
    found = check_order("USD", [line(quantity="0"), line(), line(price="-2")])
    assert [v.path for v in found] == ["lines[0].quantity", "lines[2].unitPrice"]


@pytest.mark.parametrize("amount,paid_in,path,words", [
    ("10.00", "EUR", "currency", "payment in EUR"),
    ("0", "USD", "amount", "not a payment"),
    ("-1", "USD", "amount", "not a payment"),
    ("1.001", "USD", "amount", "not a payment"),
    ("100.01", "USD", "amount", "more than the 100.00 USD due"),
])
def test_bad_payments_are_refused(amount, paid_in, path, words):
    [violation] = check_payment("SO-3", "USD", 10000, Decimal(amount), paid_in)
    assert violation.path == path and words in violation.message


def test_a_payment_of_what_is_due_or_less_passes():
    assert check_payment("SO-3", "USD", 10000, Decimal("100.00"), "USD") == []
    assert check_payment("SO-3", "USD", 10000, Decimal("0.01"), "USD") == []
