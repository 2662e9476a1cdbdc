"""Demo records as JSON, the way the demo systems' REST APIs show them.

Keys are camelCase (``customerId``). Money is never a float: a ``*_minor`` field becomes the
amount in currency units as an exact decimal string (``amount_minor=123450`` in USD →
``"amount": "1234.50"``), using the record's currency, or its parent's for nested lines.
Other exact quantities (``Decimal``) are strings as well; dates and times are ISO 8601.
Nested lines (a bill's lines, a receipt's lines, a payroll run's payslips) are lists of
objects. A few derived values a client would expect from the system are added (a bill's
``total``, a receipt's ``net``/``tax``/``total``, a sales order's ``status``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from ..records import Bill, PayrollRun, Receipt, ReceiptLine, SalesOrder

MINOR_SUFFIX = "_minor"

# ISO 4217 exponents that are not 2; the demo uses USD and EUR only.
_CURRENCY_PLACES = {"JPY": 0, "KRW": 0, "CLP": 0, "BHD": 3, "KWD": 3, "JOD": 3, "TND": 3}

DERIVED: dict[type, tuple[str, ...]] = {
    Bill: ("total_minor",),
    Receipt: ("net_minor", "tax_minor", "total_minor", "room_nights"),
    ReceiptLine: ("total_minor",),
    PayrollRun: ("gross_minor",),
    SalesOrder: ("status",),
}
"""Properties served beside a record type's fields."""


def currency_places(currency: str | None) -> int:
    return _CURRENCY_PLACES.get(currency or "", 2)


def money(minor: int, currency: str | None) -> str:
    """``money(123450, "USD") == "1234.50"``: minor units as an exact amount string."""
    return str(Decimal(minor).scaleb(-currency_places(currency)))


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def json_name(field_name: str) -> str:
    """A field's JSON key: ``amount_minor`` → ``amount``, ``bill_date`` → ``billDate``."""
    if field_name.endswith(MINOR_SUFFIX):
        field_name = field_name[: -len(MINOR_SUFFIX)]
    return camel(field_name)


def record_json(record: Any, currency: str | None = None) -> dict[str, Any]:
    """One record (a frozen dataclass from `sources.demo.records`) as a JSON object."""
    currency = getattr(record, "currency", currency)
    names = [f.name for f in dataclasses.fields(record)]
    names += DERIVED.get(type(record), ())
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(record, name)
        if name.endswith(MINOR_SUFFIX) and isinstance(value, int):
            out[json_name(name)] = money(value, currency)
        else:
            out[json_name(name)] = _plain(value, currency)
    return out


def _plain(value: Any, currency: str | None) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [_plain(item, currency) for item in value]
    if dataclasses.is_dataclass(value):
        return record_json(value, currency)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")
