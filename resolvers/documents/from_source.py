"""A sales order made from a source record (a won CRM opportunity), read live through the
system's connector — by `createSalesOrderFromSource` and by the system's own signed pushes
(`gateway.push_endpoint`) alike.

The record type must have the fields `customerId` (a CUSTOMER dimension value's code),
`currency` and `amount`; `stage`, when it has one, must be `won`; `name`, `kind` and
`projectId` are used when present (the line's description, its item, a PROJECT dimension).
The order has one line: 1 × the amount.
"""

from __future__ import annotations

from decimal import Decimal

from ledger.documents.sales_order import OrderLineDraft
from ledger.documents.sales_orders import InvalidOrder, OrderDraft
from ledger.drafts import SourceRef
from ledger.errors import Violation

from ..errors import CodedError, user_input_error
from ..sources.catalog import SourceCatalog
from ..sources.dataloaders import SourceRecordLoader

REQUIRED = ("customerId", "currency", "amount")
OPTIONAL = ("stage", "name", "kind", "projectId")


async def order_from_source(catalog: SourceCatalog, system: str, record_type: str, record_id: str,
                            entity_code: str) -> OrderDraft:
    """The order `record_id` makes, read from its system as the caller's entity sees it (a
    record of another entity is NOT_FOUND, as everywhere)."""
    spec = catalog.record_types.get((system, record_type))
    if spec is None:
        raise user_input_error(f"{system}/{record_type}: no such record type is configured")
    names = {f.name for f in spec.fields}
    if missing := [f for f in REQUIRED if f not in names]:
        raise user_input_error(f"{system}/{record_type} cannot make a sales order: it has no "
                               f"{', '.join(missing)} field(s)")
    fields = tuple(dict.fromkeys(f for f in (spec.key, *REQUIRED, *OPTIONAL) if f in names))
    loader = SourceRecordLoader(catalog.sources[system], spec, fields, entity_code)
    record = await loader.load(record_id)
    if isinstance(record, CodedError):
        raise record
    found = []
    if "stage" in record and record["stage"] != "won":
        found.append(Violation("stage", f"{system} {record_type} {record_id} is "
                                        f"{record['stage']!r}, not won"))
    amount, currency, customer = record.get("amount"), record.get("currency"), record.get("customerId")
    if not isinstance(amount, Decimal):
        found.append(Violation("amount", f"{system} {record_type} {record_id} has no amount"))
    if not customer:
        found.append(Violation("customerId", f"{system} {record_type} {record_id} names no customer"))
    if found:
        raise InvalidOrder(found)
    dimensions = (("PROJECT", record["projectId"]),) if record.get("projectId") else ()
    item = str(record.get("kind") or record_type).upper()[:64]
    return OrderDraft(
        customer=customer, currency=str(currency),
        lines=(OrderLineDraft(item, Decimal(1), amount, record.get("name"), dimensions),),
        source=SourceRef(system, record_type, record_id, spec.url(record_id)),
    )
