"""The record types tests fetch: a CRM sales order, with whatever else a test needs, and an HR
employee with a sensitive (compensation) field."""

from __future__ import annotations

from typing import Any

from sources.base import FieldSpec, Ownership, RecordType

# The tests' systems serve one test company's records unless a test says otherwise.
SHARED = Ownership(shared=True)

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
        ownership=SHARED,
    )


# `hr` / `Employee` (`HrEmployee`): its salary is compensation data, so `sensitive`: it needs
# `source:hr:sensitive` and every read of it is audited.
HR_EMPLOYEE = RecordType(
    system="hr",
    name="Employee",
    graphql_name="HrEmployee",
    key="id",
    fields=(
        FieldSpec("id", "ID", nullable=False),
        FieldSpec("name", "String"),
        FieldSpec("annualSalary", "Decimal", nullable=False, sensitive=True),
    ),
    ownership=SHARED,
)


def linkable_catalog():
    """The systems the tests' default app knows, so that entries may link to crm sales
    orders and hr employees (links must name a configured system and record type); they
    hold no records: tests that read records build their own."""
    from resolvers.sources.catalog import SourceCatalog
    from sources.mock import MockSource

    bill = RecordType(
        system="ap", name="Bill", graphql_name="ApBill", key="id",
        fields=(FieldSpec("id", "ID", nullable=False), FieldSpec("total", "Decimal")),
        ownership=SHARED,
    )
    return SourceCatalog.of(
        {"crm": MockSource("crm"), "hr": MockSource("hr"), "ap": MockSource("ap")},
        [sales_order(), HR_EMPLOYEE, bill],
    )
