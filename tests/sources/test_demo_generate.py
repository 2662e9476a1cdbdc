"""The demo world's source records: deterministic, scalable, consistent, exact."""

import ast
import dataclasses
import datetime as dt
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from sources.demo import generate as gen
from sources.demo.records import SYSTEM_PORTS, DemoRecords, record_url

SMALL = 0.2


@pytest.fixture(scope="module")
def world() -> DemoRecords:
    return gen.generate_world(seed=7, scale=SMALL)


def _walk(value, path="world"):
    """Every leaf value of a record tree, with where it was found."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _walk(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")
    else:
        yield path, value


def test_the_same_seed_gives_identical_records(world):
    again = gen.generate_world(seed=7, scale=SMALL)
    assert again == world
    assert [r.id for r in again.receipts] == [r.id for r in world.receipts]


def test_a_different_seed_gives_different_records(world):
    other = gen.generate_world(seed=8, scale=SMALL)
    assert other != world
    assert [e.name for e in other.employees] != [e.name for e in world.employees]
    assert [r.total_minor for r in other.receipts[:50]] != [
        r.total_minor for r in world.receipts[:50]
    ]


def test_streaming_months_give_the_same_records_as_the_whole_world(world):
    master = gen.generate_master(seed=7, scale=SMALL)
    assert master == world.master
    months = list(gen.iter_months(master))
    assert [m.month for m in months] == list(range(1, 13))
    assert tuple(r for m in months for r in m.receipts) == world.receipts
    assert tuple(b for m in months for b in m.bills) == world.bills
    assert tuple(u for m in months for u in m.usage_records) == world.usage_records
    for m in months:
        assert all(r.business_date.month == m.month for r in m.receipts)
        assert all(u.day.month == m.month for u in m.usage_records)
        assert all(s.order_date.month == m.month for s in m.sales_orders)


def test_scale_grows_volume_roughly_linearly(world):
    bigger = gen.generate_world(seed=7, scale=3 * SMALL)
    small, large = world.count(), bigger.count()
    for group in (
        "customers",
        "employees",
        "vendors",
        "sales_orders",
        "usage_records",
        "receipts",
        "bills",
        "payments",
    ):
        assert large[group] > small[group], group
    # Past the minimums, volume is close to proportional.
    one = gen.generate_world(seed=7, scale=1.0).count()
    two = gen.generate_world(seed=7, scale=2.0).count()
    for group in ("customers", "sales_orders", "usage_records", "receipts", "employees", "bills"):
        assert 1.6 <= two[group] / one[group] <= 2.4, (group, one[group], two[group])


def test_scale_must_be_positive():
    with pytest.raises(ValueError):
        gen.generate_world(scale=0)


def test_ids_are_unique_and_readable(world):
    ids = Counter()
    for record in world.records():
        ids[(record.SYSTEM, record.RECORD_TYPE, record.id)] += 1
    assert [key for key, n in ids.items() if n > 1] == []
    patterns = {
        "sales_orders": r"SO-2026-\d{6}",
        "receipts": r"R-HTL\d+-2026-\d{7}",
        "employees": r"EMP-\d{4}",
        "bills": r"BILL-\d{6}",
        "payments": r"PAY-\d{6}",
        "usage_records": r"U-CUST-\d{4}-2026-\d\d-\d\d",
        "customers": r"CUST-\d{4}",
        "vendors": r"V-\d{4}",
        "opportunities": r"OPP-\d{6}",
        "hires": r"HIRE-\d{4}",
        "terminations": r"TERM-\d{4}",
        "payroll_runs": r"PR-(SOFTCO|HOTELCO)-2026-\d\d",
    }
    for group, pattern in patterns.items():
        records = getattr(world, group)
        assert records, group
        bad = [r.id for r in records if not re.fullmatch(pattern, r.id)]
        assert bad == [], (group, bad[:5])
    for receipt in world.receipts:
        assert [line.line_no for line in receipt.lines] == list(range(1, len(receipt.lines) + 1))
        assert all(line.receipt_id == receipt.id for line in receipt.lines)
    # Usage ids derive from (customer, day); receipt numbers run per hotel through the year.
    assert all(u.id == f"U-{u.customer_id}-{u.day.isoformat()}" for u in world.usage_records)
    per_hotel = {}
    for r in world.receipts:
        per_hotel.setdefault(r.location_id, []).append(int(r.id.rsplit("-", 1)[1]))
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in per_hotel.values())


def test_amounts_are_integers_or_decimals_never_floats(world):
    floats = [
        path
        for path, value in _walk(world)
        if isinstance(value, float) and path != "world.master.scale"
    ]
    assert floats == []
    for so in world.sales_orders:
        assert isinstance(so.amount_minor, int) and so.amount_minor > 0
        assert isinstance(so.quantity, Decimal) and isinstance(so.unit_price, Decimal)
    for usage in world.usage_records:
        assert isinstance(usage.gb_used, Decimal) and usage.gb_used > 0
        assert usage.gb_used.as_tuple().exponent == -3
    for bill in world.bills:
        assert bill.lines and all(
            isinstance(line.amount_minor, int) and line.amount_minor > 0 for line in bill.lines
        )
    for employee in world.employees:
        assert isinstance(employee.annual_salary_minor, int)
    for receipt in world.receipts:
        for line in receipt.lines:
            assert line.net_minor == line.quantity * line.unit_price_minor
            assert isinstance(line.tax_rate, Decimal)


def test_records_refer_to_records_that_exist(world):
    customers = {c.id: c for c in world.customers}
    vendors = {v.id: v for v in world.vendors}
    employees = {e.id: e for e in world.employees}
    locations = {loc.id for loc in world.locations}
    departments = {d.id for d in world.departments}
    bills = {b.id: b for b in world.bills}
    projects = {p.id for p in world.projects}
    products = {p.id for p in world.products}
    for so in world.sales_orders:
        assert so.customer_id in customers and so.product_id in products
        assert so.project_id is None or so.project_id in projects
        assert so.paid_on is None or so.order_date <= so.paid_on <= gen.YEAR_END
    for receipt in world.receipts:
        assert receipt.location_id in locations
        assert (receipt.payment_method == "account") == (receipt.customer_id is not None)
        assert receipt.customer_id is None or customers[receipt.customer_id].company == "HOTELCO"
    for bill in world.bills:
        assert vendors[bill.vendor_id].company == bill.company
        for line in bill.lines:
            assert line.department_id in departments and line.location_id in locations
            assert line.project_id is None or line.project_id in projects
    for payment in world.payments:
        bill = bills[payment.bill_id]
        assert payment.amount_minor == bill.total_minor and payment.vendor_id == bill.vendor_id
        assert bill.bill_date <= payment.paid_on <= gen.YEAR_END
    for e in world.employees:
        assert e.department_id in departments and e.location_id in locations
    for event in (*world.hires, *world.terminations):
        assert event.employee_id in employees and event.date.year == 2026
    for run in world.payroll_runs:
        for slip in run.payslips:
            e = employees[slip.employee_id]
            assert e.company == run.company
            assert slip.net_minor + slip.withholding_minor == slip.gross_minor
    # Both companies have every kind of activity, even at a small scale.
    assert {r.company for r in world.payroll_runs} == {"SOFTCO", "HOTELCO"}
    assert {b.company for b in world.bills} == {"SOFTCO", "HOTELCO"}
    assert {so.kind for so in world.sales_orders} == {"subscription", "usage", "services"}
    assert any(r.payment_method == "account" for r in world.receipts)
    assert world.hires and world.terminations


def test_a_bill_may_have_many_lines():
    world = gen.generate_world(seed=7, scale=1.0)
    assert max(len(b.lines) for b in world.bills) >= 150


def test_deep_links_use_one_port_per_system(world):
    assert SYSTEM_PORTS == {"crm": 8101, "pos": 8102, "hr": 8103, "usage": 8104, "ap": 8105}
    so = world.sales_orders[0]
    assert so.url == f"http://127.0.0.1:8101/crm/sales-orders/{so.id}"
    assert record_url("pos", "Receipt", "R-HTL1-2026-0000001") == (
        "http://127.0.0.1:8102/pos/receipts/R-HTL1-2026-0000001"
    )
    assert world.employees[0].url.startswith("http://127.0.0.1:8103/hr/employees/EMP-")
    assert world.usage_records[0].url.startswith(
        "http://127.0.0.1:8104/usage/usage-records/U-CUST-"
    )
    assert world.bills[0].url.startswith("http://127.0.0.1:8105/ap/bills/BILL-")


def test_the_demo_year_is_2026(world):
    dates = [so.order_date for so in world.sales_orders] + [r.business_date for r in world.receipts]
    dates += [u.day for u in world.usage_records] + [b.bill_date for b in world.bills]
    assert min(dates) >= dt.date(2026, 1, 1) and max(dates) <= dt.date(2026, 12, 31)


def test_sources_do_not_import_the_ledger():
    package = Path(gen.__file__).parents[1]  # sources/demo, with its subpackages
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] not in {"ledger", "gateway", "resolvers"}, (
                    path.name,
                    name,
                )
