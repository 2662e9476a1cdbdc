"""The demo systems, their ports and deep links, and the base of records ledger lines link to."""

from __future__ import annotations

from typing import ClassVar

DEMO_YEAR = 2026
DEMO_HOST = "127.0.0.1"

CRM, POS, HR, USAGE, AP = "crm", "pos", "hr", "usage", "ap"

SYSTEM_PORTS: dict[str, int] = {CRM: 8101, POS: 8102, HR: 8103, USAGE: 8104, AP: 8105}
"""The loopback port each demo source system listens on."""

RECORD_PATHS: dict[tuple[str, str], str] = {
    (CRM, "Customer"): "customers",
    (CRM, "Opportunity"): "opportunities",
    (CRM, "SalesOrder"): "sales-orders",
    (CRM, "Product"): "products",
    (POS, "Receipt"): "receipts",
    (POS, "PosItem"): "items",
    (HR, "Location"): "locations",
    (HR, "Department"): "departments",
    (HR, "Employee"): "employees",
    (HR, "Hire"): "hires",
    (HR, "Termination"): "terminations",
    (HR, "PayrollRun"): "payroll-runs",
    (USAGE, "UsageRecord"): "usage-records",
    (AP, "Vendor"): "vendors",
    (AP, "Bill"): "bills",
    (AP, "Payment"): "payments",
}
"""The URL collection of each (system, record type)."""


def system_base_url(system: str, *, host: str = DEMO_HOST) -> str:
    """The root URL of a demo system, e.g. ``http://127.0.0.1:8101``."""
    return f"http://{host}:{SYSTEM_PORTS[system]}"


def record_url(system: str, record_type: str, record_id: str, *, host: str = DEMO_HOST) -> str:
    """The deep link to one record, e.g. ``http://127.0.0.1:8101/crm/sales-orders/SO-2026-000123``."""
    path = RECORD_PATHS[(system, record_type)]
    return f"{system_base_url(system, host=host)}/{system}/{path}/{record_id}"


class SourceRecord:
    """Mixin of records that ledger lines may link to.

    Subclasses are frozen dataclasses with an `id` field and set `SYSTEM` and `RECORD_TYPE`.
    """

    SYSTEM: ClassVar[str]
    RECORD_TYPE: ClassVar[str]
    id: str

    @property
    def url(self) -> str:
        return record_url(self.SYSTEM, self.RECORD_TYPE, self.id)

    @property
    def key(self) -> tuple[str, str, str]:
        """(system, record type, id): what a ledger source link names."""
        return (self.SYSTEM, self.RECORD_TYPE, self.id)
