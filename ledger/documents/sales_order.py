"""A sales order's rules, pure: its states, which action is legal in which state, what its
lines come to, and what a payment may be. Storage and postings are elsewhere; nothing here
reads or writes.

The lifecycle is the one finance teams run an order through:

    OPEN ──fulfil──▶ FULFILLED ──invoice──▶ INVOICED ──pay (all due)──▶ PAID
      │                                        ▲   │
      └──cancel──▶ CANCELLED                   └───┘ pay (part of what is due)

Only an OPEN order can be cancelled: once goods left or an invoice was posted, undoing it
is a credit note, not a cancellation. A state never goes back, which is what lets every
system that hears of an order apply its changes in version order (`version` grows by one
with every change).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from ..errors import Violation
from ..money import MAX_MINOR_UNITS, AmountError, currency_scale, decimals_of, to_minor


class OrderState(str, enum.Enum):
    OPEN = "OPEN"
    FULFILLED = "FULFILLED"
    INVOICED = "INVOICED"
    PAID = "PAID"
    CANCELLED = "CANCELLED"


class OrderAction(str, enum.Enum):
    FULFIL = "fulfil"
    INVOICE = "invoice"
    PAY = "pay"
    CANCEL = "cancel"


# The states each action may start from.
LEGAL_FROM: dict[OrderAction, frozenset[OrderState]] = {
    OrderAction.FULFIL: frozenset({OrderState.OPEN}),
    OrderAction.INVOICE: frozenset({OrderState.FULFILLED}),
    OrderAction.PAY: frozenset({OrderState.INVOICED}),
    OrderAction.CANCEL: frozenset({OrderState.OPEN}),
}

# The furthest each state is along the lifecycle; a change never lowers it.
RANK = {OrderState.OPEN: 0, OrderState.FULFILLED: 1, OrderState.INVOICED: 2,
        OrderState.PAID: 3, OrderState.CANCELLED: 3}

# Quantities are exact to this many places (a unit, a tenth of an hour, grams of a kilo).
QUANTITY_PLACES = 4
# Unit prices may be finer than the currency's minor unit (0.125 USD per API call); a
# line's amount is rounded to the currency once, half to even, like every other rounding
# in the ledger (`ledger.currency.base_amount`).
PRICE_PLACES = 6
MAX_LINES = 1000


@dataclasses.dataclass(frozen=True)
class OrderLineDraft:
    item: str
    quantity: Decimal
    unit_price: Decimal
    description: str | None = None
    dimensions: tuple[tuple[str, str], ...] = ()


def check_action(state: OrderState, action: OrderAction, number: str) -> list[Violation]:
    """Whether `action` may be taken on order `number` in `state`; the message names the
    state, so a client sees why without a second read."""
    if state in LEGAL_FROM[action]:
        return []
    allowed = " or ".join(sorted(s.value for s in LEGAL_FROM[action]))
    return [Violation("state", f"sales order {number} is {state.value}: {action.value} needs "
                                f"an order that is {allowed}")]


def line_amount(line: OrderLineDraft, scale: int) -> Decimal:
    """quantity × unit price, rounded half to even to the currency's minor unit."""
    return (line.quantity * line.unit_price).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_EVEN)


def check_order(currency: str, lines: Sequence[OrderLineDraft]) -> list[Violation]:
    """What is wrong with a new order's currency and lines (every problem, with its path)."""
    try:
        scale = currency_scale(currency)
    except AmountError as error:
        return [Violation("currency", str(error))]
    found: list[Violation] = []
    if not lines:
        found.append(Violation("lines", "a sales order needs at least one line"))
    if len(lines) > MAX_LINES:
        found.append(Violation("lines", f"at most {MAX_LINES} lines per order, not {len(lines)}"))
    total = 0
    for i, line in enumerate(lines):
        path = f"lines[{i}]"
        if not line.item.strip():
            found.append(Violation(f"{path}.item", "an item code is required"))
        if line.quantity <= 0 or decimals_of(line.quantity) > QUANTITY_PLACES:
            found.append(Violation(f"{path}.quantity", f"{line.quantity} is not a quantity: more "
                                   f"than 0, at most {QUANTITY_PLACES} decimal places"))
            continue
        if line.unit_price < 0 or decimals_of(line.unit_price) > PRICE_PLACES:
            found.append(Violation(f"{path}.unitPrice", f"{line.unit_price} is not a unit price: "
                                   f"0 or more, at most {PRICE_PLACES} decimal places"))
            continue
        amount = to_minor(line_amount(line, scale), scale)
        if amount > MAX_MINOR_UNITS:
            found.append(Violation(f"{path}.unitPrice", "the line's amount is too large"))
        total += amount
    if not found and total <= 0:
        found.append(Violation("lines", "a sales order must come to more than zero"))
    if not found and total > MAX_MINOR_UNITS:
        found.append(Violation("lines", "the order's total is too large"))
    return found


def order_total(currency: str, lines: Sequence[OrderLineDraft]) -> int:
    """The order's total in minor units: the sum of its lines, each rounded once."""
    scale = currency_scale(currency)
    return sum(to_minor(line_amount(line, scale), scale) for line in lines)


def check_payment(number: str, currency: str, amount_due: int, amount: Decimal,
                  paid_in: str) -> list[Violation]:
    """A payment of `amount` in `paid_in` against an order owing `amount_due` minor units of
    `currency`: same currency, exact to its minor unit, more than zero, no more than due."""
    if paid_in != currency:
        return [Violation("currency", f"sales order {number} is in {currency}; a payment in "
                                      f"{paid_in} is not accepted")]
    scale = currency_scale(currency)
    if amount <= 0 or decimals_of(amount) > scale:
        return [Violation("amount", f"{amount} is not a payment: more than 0 {currency}, at most "
                                    f"{scale} decimal places")]
    if to_minor(amount, scale) > amount_due:
        due = Decimal(amount_due).scaleb(-scale)
        return [Violation("amount", f"{amount} {currency} is more than the {due} {currency} due "
                                    f"on sales order {number}")]
    return []


def state_after(state: OrderState, action: OrderAction, amount_due_after: int) -> OrderState:
    """The state an order is in after a legal `action` (a payment leaves it INVOICED until
    nothing is due)."""
    if action is OrderAction.PAY:
        return OrderState.PAID if amount_due_after == 0 else OrderState.INVOICED
    return {OrderAction.FULFIL: OrderState.FULFILLED, OrderAction.INVOICE: OrderState.INVOICED,
            OrderAction.CANCEL: OrderState.CANCELLED}[action]
