"""The record type most tests fetch: a CRM sales order, with whatever else a test needs."""

from __future__ import annotations

from typing import Any

from sources.base import FieldSpec, RecordType

ORDERED_ON = FieldSpec("orderedOn", "Date", source_name="ordered_on")


def sales_order(*extra: FieldSpec, url_template: str | None = None, **options: Any) -> RecordType:
    """`crm` / `SalesOrder` (`CrmSalesOrder`): id, amount, customerId (`customer_id` in the
    system), then `extra`; `options` are the kind's (e.g. `batch_path`)."""
    return RecordType(
        system="crm",
        name="SalesOrder",
        graphql_name="CrmSalesOrder",
        key="id",
        fields=(
            FieldSpec("id", "ID", nullable=False),
            FieldSpec("amount", "Decimal", nullable=False),
            FieldSpec("customerId", "String", source_name="customer_id"),
            *extra,
        ),
        url_template=url_template,
        options=options,
    )
