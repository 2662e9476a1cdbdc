"""The demo world end to end: the demo ledger behind the real HTTP app, federating the five
real demo source systems (CRM, POS, HR subgraph, usage, AP) running on loopback.

One demo ledger and one set of running systems serve the module (seed 7, scale 0.05: at
this scale every volume is at its minimum, so it is the smallest demo world, and it still
links lines to all five systems). Tests that break something start their own systems or
use a ledger of their own, so the shared ones stay as built.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import sqlite3
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal

import httpx
import orjson
import pytest
from graphql import FieldNode, InlineFragmentNode, OperationDefinitionNode, parse
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url

from gateway.app import create_app
from gateway.demo.sources import demo_systems
from gateway.demo.world import build_demo
from ledger.model import JournalLine, SourceLink
from ledger.store import LedgerDatabase
from resolvers.ids import global_id
from sources.demo.generate import generate_world
from sources.demo.records import record_url
from sources.demo.services import SERVICES
from tests.callers import GraphQLClient, pin_actor_cache, provision_tester
from tests.conftest import (
    ACME_ACCOUNTS, PG_URL, StatementCounter, _entity, fresh_database, make_settings,
)
from tests.support import POST, sale

SEED, SCALE = 7, 0.05
SYSTEMS = ("crm", "pos", "hr", "usage", "ap")
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
YEAR = {"from": "2026-01-01", "to": "2026-12-31"}
MISSING_ORDER = "SO-2026-999999"


# ------------------------------------------------------------------ what the systems hold


def _money(minor: int) -> str:
    """Minor units as the exact amount string (USD and EUR have two places)."""
    return str(Decimal(minor).scaleb(-2))


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


# GraphQL type -> (the fields a query selects, what they must be for the generated record).
RECORD_FIELDS = {
    "CrmSalesOrder": (
        "id company customerId opportunityId orderDate kind productId quantity unitPrice amount "
        "currency periodStart periodEnd dueDate paidOn projectId status",
        lambda r: {
            "id": r.id, "company": r.company, "customerId": r.customer_id,
            "opportunityId": r.opportunity_id, "orderDate": _day(r.order_date), "kind": r.kind,
            "productId": r.product_id, "quantity": str(r.quantity), "unitPrice": str(r.unit_price),
            "amount": _money(r.amount_minor), "currency": r.currency,
            "periodStart": _day(r.period_start), "periodEnd": _day(r.period_end),
            "dueDate": _day(r.due_date), "paidOn": _day(r.paid_on), "projectId": r.project_id,
            "status": "paid" if r.paid_on else "invoiced",
        },
    ),
    "CrmCustomer": (
        "id company name segment country since planId seats metered paymentTermsDays",
        lambda r: {
            "id": r.id, "company": r.company, "name": r.name, "segment": r.segment,
            "country": r.country, "since": _day(r.since), "planId": r.plan_id, "seats": r.seats,
            "metered": r.metered, "paymentTermsDays": r.payment_terms_days,
        },
    ),
    "PosReceipt": (
        "id company locationId outlet businessDate closedAt paymentMethod customerId currency "
        "lineCount roomNights net tax total",
        lambda r: {
            "id": r.id, "company": r.company, "locationId": r.location_id, "outlet": r.outlet,
            "businessDate": _day(r.business_date), "closedAt": r.closed_at.isoformat(),
            "paymentMethod": r.payment_method, "customerId": r.customer_id,
            "currency": r.currency, "lineCount": len(r.lines),
            "roomNights": sum(line.quantity for line in r.lines if line.item_id.startswith("ROOM-")),
            "net": _money(sum(line.net_minor for line in r.lines)),
            "tax": _money(sum(line.tax_minor for line in r.lines)),
            "total": _money(sum(line.net_minor + line.tax_minor for line in r.lines)),
        },
    ),
    "HrEmployee": (
        "id company name title departmentId locationId hireDate terminationDate annualSalary currency",
        lambda r: {
            "id": r.id, "company": r.company, "name": r.name, "title": r.title,
            "departmentId": r.department_id, "locationId": r.location_id,
            "hireDate": _day(r.hire_date), "terminationDate": _day(r.termination_date),
            "annualSalary": _money(r.annual_salary_minor), "currency": r.currency,
        },
    ),
    "HrPayrollRun": (
        "id company periodStart periodEnd payDate currency gross",
        lambda r: {
            "id": r.id, "company": r.company, "periodStart": _day(r.period_start),
            "periodEnd": _day(r.period_end), "payDate": _day(r.pay_date), "currency": r.currency,
            "gross": _money(sum(p.gross_minor for p in r.payslips)),
        },
    ),
    "HrLocation": (
        "id company name city country rooms",
        lambda r: {
            "id": r.id, "company": r.company, "name": r.name, "city": r.city,
            "country": r.country, "rooms": r.rooms,
        },
    ),
    "HrHire": (
        "id company employeeId date departmentId locationId",
        lambda r: {
            "id": r.id, "company": r.company, "employeeId": r.employee_id, "date": _day(r.date),
            "departmentId": r.department_id, "locationId": r.location_id,
        },
    ),
    "HrTermination": (
        "id company employeeId date departmentId locationId reason",
        lambda r: {
            "id": r.id, "company": r.company, "employeeId": r.employee_id, "date": _day(r.date),
            "departmentId": r.department_id, "locationId": r.location_id, "reason": r.reason,
        },
    ),
    "UsageRecord": (
        "id company customerId day gbUsed",
        lambda r: {
            "id": r.id, "company": r.company, "customerId": r.customer_id, "day": _day(r.day),
            "gbUsed": str(r.gb_used),
        },
    ),
    "ApBill": (
        "id company vendorId vendorInvoice billDate dueDate currency total",
        lambda r: {
            "id": r.id, "company": r.company, "vendorId": r.vendor_id,
            "vendorInvoice": r.vendor_invoice, "billDate": _day(r.bill_date),
            "dueDate": _day(r.due_date), "currency": r.currency,
            "total": _money(sum(line.amount_minor for line in r.lines)),
        },
    ),
    "ApPayment": (
        "id company billId vendorId paidOn amount method currency",
        lambda r: {
            "id": r.id, "company": r.company, "billId": r.bill_id, "vendorId": r.vendor_id,
            "paidOn": _day(r.paid_on), "amount": _money(r.amount_minor), "method": r.method,
            "currency": r.currency,
        },
    ),
}


def selection(pick=lambda fields: fields) -> str:
    """Inline fragments on every record type, each field aliased `<Type>_<field>`: the HR
    subgraph's types say `currency: String!` where configured ones say `String`, and GraphQL
    does not let one response key have both types."""
    return " ".join(
        f"... on {name} {{ {' '.join(f'{name}_{f}: {f}' for f in pick(fields.split()))} }}"
        for name, (fields, _) in RECORD_FIELDS.items()
    )


ALL_FIELDS = selection()


def expected_record(index, link: dict, typename: str) -> dict:
    """The record a link names, as the gateway must show it: from the generated world."""
    source = index[(link["system"], link["recordType"])][link["recordId"]]
    return RECORD_FIELDS[typename][1](source)


def fields_of(record: dict) -> dict:
    """A record's own fields, without their `<Type>_` alias."""
    prefix = record["__typename"] + "_"
    return {k.removeprefix(prefix): v for k, v in record.items() if k.startswith(prefix)}


# ----------------------------------------------------------------------------- fixtures


@dataclass
class DemoLedger:
    db: LedgerDatabase
    summary: object
    seconds: float

    @property
    def entity_ids(self) -> dict[str, int]:
        return {e.code: e.entity_id for e in self.summary.entities}


@pytest.fixture(scope="module")
async def demo(tmp_path_factory):
    """The demo ledger, built once for the module: SQLite, or a PostgreSQL database of its
    own when LEDGERGATE_TEST_DATABASE_URL is set (as the conftest `db` fixture does)."""
    started = time.perf_counter()
    async with fresh_database(tmp_path_factory.mktemp("demo")) as database:
        summary = await build_demo(database, seed=SEED, scale=SCALE)
        if PG_URL:
            # Freshly bulk-loaded tables have no planner statistics until autovacuum gets to
            # them; without, PostgreSQL nested-loops the lines-by-source query (seconds, not ms).
            async with database.engine.connect() as conn:
                await conn.execute(text("ANALYZE"))
                await conn.commit()
        yield DemoLedger(database, summary, time.perf_counter() - started)


@pytest.fixture(scope="module")
def records():
    return generate_world(SEED, SCALE)


@pytest.fixture(scope="module")
def index(records):
    """(system, record type) → id → the generated record."""
    return records.index()


@pytest.fixture(scope="module")
def demo_db(demo):
    return demo.db


@pytest.fixture(scope="module")
async def systems(records, tmp_path_factory):
    """The five demo systems on free loopback ports, and the gateway's catalog for them."""
    pos_db = tmp_path_factory.mktemp("pos") / "pos.db"
    async with demo_systems(records, pos_db_path=pos_db, ports=dict.fromkeys(SERVICES, 0)) as (
        running, catalog,
    ):
        try:
            yield running, catalog
        finally:
            await catalog.aclose()


# These tests ask for every field of every record of the demo in one query (each record
# type's fields aliased, pages of 1000 nested in pages of 1000): an audit far over the
# limits meant for clients (tests/gateway/test_query_limits.py checks those).
AUDIT_LIMITS = {"max_aliases": 1_000, "max_cost": 10**12}


async def _client(db, catalog):
    app = create_app(make_settings(**AUDIT_LIMITS), db=db, sources=catalog)
    pin_actor_cache(app)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ledgergate.test")


@pytest.fixture(scope="module")
async def demo_tester(demo_db, systems):
    """The tests' client (every scope, both companies) in the demo ledger."""
    return await provision_tester(demo_db, systems[1].sources)


@pytest.fixture(scope="module")
async def gql(demo_db, systems, demo_tester):
    _, catalog = systems
    async with await _client(demo_db, catalog) as http:
        yield GraphQLClient(http, demo_tester)


async def linked_line_ids(db, entity_id: int, system: str, record_type: str, record_id: str) -> set[str]:
    """The ledger's own answer: the global ids of the lines linked to one record."""
    async with db.session(entity_id) as session:
        pks = await session.scalars(
            select(SourceLink.line_id).where(
                SourceLink.system == system, SourceLink.record_type == record_type,
                SourceLink.record_id == record_id, SourceLink.line_id.is_not(None),
            )
        )
        return {global_id("JournalLine", pk) for pk in pks}


async def test_the_demo_world_is_small_and_quick_to_set_up(demo, systems):
    running, catalog = systems
    print(f"\ndemo ledger: {demo.summary} in {demo.seconds:.2f} s")
    assert sorted(running.sources) == sorted(SYSTEMS) == sorted(catalog.sources)
    assert demo.summary.lines < 10_000
    # Record types: configured for REST and SQL, discovered from the HR subgraph's SDL.
    assert {(s, t) for s, t in catalog.record_types if s == "hr"} == {
        ("hr", t) for t in ("Location", "Department", "Employee", "Hire", "Termination", "PayrollRun")
    }


# --------------------------------------------------------------- 1. the lineage round trip

TB_LINEAGE = """
query($from: Date!, $to: Date!) { trialBalance(from: $from, to: $to) { rows {
  account { code } debit credit
  lines(first: 1000) { pageInfo { hasNextPage } edges { node { id debit credit quantity
    sources { system recordType recordId url
      record { __typename system recordType recordId url %s
        ledgerLines(first: 1000) { pageInfo { hasNextPage } edges { node { id } } } } } } } } } } }
""" % ALL_FIELDS

SOURCE_SIDE = """
  r%d: sourceRecord(system: "%s", recordType: "%s", recordId: "%s") {
    __typename recordId
    ledgerLines(first: 1000) { pageInfo { hasNextPage }
      edges { node { id sources { system recordType recordId } } } } }"""


@pytest.mark.parametrize(
    "entity, systems_seen",
    [("SOFTCO", {"crm", "hr", "usage", "ap"}), ("HOTELCO", {"crm", "pos", "hr", "ap"})],
)
async def test_lineage_round_trip_from_a_months_trial_balance(
    gql, demo, index, systems, entity, systems_seen
):
    _, catalog = systems
    entity_id = demo.entity_ids[entity]
    result = await gql(TB_LINEAGE, MARCH, entity=entity)
    assert "errors" not in result, result["errors"][:3]
    rows = result["data"]["trialBalance"]["rows"]

    # Every (line, link) of the month, with the record it leads to.
    seen: list[tuple[dict, dict]] = []
    for row in rows:
        assert row["lines"]["pageInfo"]["hasNextPage"] is False
        for edge in row["lines"]["edges"]:
            for link in edge["node"]["sources"]:
                seen.append((edge["node"], link))
    async with demo.db.session(entity_id) as session:
        march_links = await session.scalar(
            select(func.count()).select_from(SourceLink)
            .join(JournalLine, JournalLine.id == SourceLink.line_id)
            .where(JournalLine.date.between(dt.date(2026, 3, 1), dt.date(2026, 3, 31)))
        )
    assert len(seen) == march_links > 50

    by_record: dict[tuple, set[str]] = defaultdict(set)
    for line, link in seen:
        record = link["record"]
        key = (link["system"], link["recordType"], link["recordId"])
        spec = catalog.record_types[key[:2]]
        assert link["url"] == record_url(*key)
        assert {k: record[k] for k in ("__typename", "system", "recordType", "recordId", "url")} == {
            "__typename": spec.graphql_name, "system": key[0], "recordType": key[1],
            "recordId": key[2], "url": record_url(*key),
        }
        # The record's fields are the source system's data, exactly.
        assert fields_of(record) == expected_record(index, link, record["__typename"]), key
        # ... and the record leads back to the very line we came from.
        assert record["ledgerLines"]["pageInfo"]["hasNextPage"] is False
        back = {e["node"]["id"] for e in record["ledgerLines"]["edges"]}
        assert line["id"] in back, key
        by_record[key] |= back
    assert {system for system, _, _ in by_record} == systems_seen
    assert len({t for _, t, _ in by_record}) >= 5

    # From the source side: sourceRecord(...).ledgerLines is the same set of lines, each of
    # which really links to the record, and it is every line the ledger links to it.
    picked: dict[tuple, list[tuple]] = defaultdict(list)
    for key in sorted(by_record):
        if len(picked[key[:2]]) < 3:
            picked[key[:2]].append(key)
    keys = [key for chosen in picked.values() for key in chosen]
    query = "{" + "".join(SOURCE_SIDE % (n, *key) for n, key in enumerate(keys)) + "}"
    result = await gql(query, entity=entity)
    assert "errors" not in result, result["errors"][:3]
    for n, key in enumerate(keys):
        found = result["data"][f"r{n}"]
        assert found["recordId"] == key[2]
        assert found["__typename"] == catalog.record_types[key[:2]].graphql_name
        assert found["ledgerLines"]["pageInfo"]["hasNextPage"] is False
        lines = found["ledgerLines"]["edges"]
        for edge in lines:
            links = {(s["system"], s["recordType"], s["recordId"]) for s in edge["node"]["sources"]}
            assert key in links, (key, edge["node"]["id"])
        ids = {edge["node"]["id"] for edge in lines}
        assert len(ids) == len(lines)
        assert ids == by_record[key] == await linked_line_ids(demo.db, entity_id, *key)


# ------------------------------------------------------------------------- 2. batching

DRILL_TO_RECORDS = """
query($from: Date!, $to: Date!, $first: Int!) { trialBalance(from: $from, to: $to) { rows {
  lines(first: $first) { edges { node { id
    sources { system recordType recordId record { __typename %s } } } } } } } }
""" % selection(lambda fields: fields[-1:])


@pytest.fixture
def fetches(systems, monkeypatch):
    """Every call the gateway makes to a source system's connector: (system, record type) →
    the ids of each call."""
    _, catalog = systems
    calls: dict[tuple[str, str], list[tuple[str, ...]]] = defaultdict(list)
    for name, source in catalog.sources.items():
        inner = source.inner
        original = inner.fetch

        async def counted(request, original=original, name=name):
            calls[(name, request.record_type.name)].append(request.ids)
            return await original(request)

        monkeypatch.setattr(inner, "fetch", counted)
    return calls


@pytest.mark.parametrize("entity", ["SOFTCO", "HOTELCO"])
async def test_source_calls_stay_one_per_chunk_from_10_to_1000_lines(
    gql, demo_db, systems, fetches, monkeypatch, entity
):
    _, catalog = systems
    # This test counts calls, not seconds: on a loaded machine the demo config's 2 s could
    # cut a chunk of 1,000 POS receipts short. Batch sizes stay as configured.
    for source in catalog.sources.values():
        monkeypatch.setattr(source, "policy", replace(source.policy, timeout=60.0, deadline=60.0))
    statements = StatementCounter(demo_db)
    await gql("{ entity { code } }", entity=entity)  # the principal's entity list is cached
    totals, sql = {}, {}
    try:
        for first in (10, 100, 1000):
            await _drill(gql, catalog, fetches, statements, entity, first, totals, sql)
    finally:
        event.remove(demo_db.engine.sync_engine, "before_cursor_execute", statements._seen)
    print(f"\n{entity}: (lines, records) per first: {totals}; ledger SQL statements: {sql}")
    assert totals[10][0] < totals[100][0] < totals[1000][0]
    assert totals[1000][1] > 10 * totals[10][1]
    # The ledger side costs the same whatever the number of lines.
    assert sql[10] == sql[100] == sql[1000], sql


async def _drill(gql, catalog, fetches, statements, entity, first, totals, sql):
    """One drill from a year's trial balance to the records of `first` lines per row."""
    fetches.clear()
    statements.reset()
    result = await gql(DRILL_TO_RECORDS, {**YEAR, "first": first}, entity=entity)
    assert "errors" not in result, result["errors"][:3]
    sql[first] = statements.count
    lines = [e["node"] for row in result["data"]["trialBalance"]["rows"] for e in row["lines"]["edges"]]
    wanted: dict[tuple, set[str]] = defaultdict(set)
    for line in lines:
        for link in line["sources"]:
            assert link["record"] is not None
            wanted[(link["system"], link["recordType"])].add(link["recordId"])
    totals[first] = (len(lines), sum(map(len, wanted.values())))
    assert set(fetches) == set(wanted)
    for key, ids in wanted.items():
        size = catalog.sources[key[0]].policy.max_batch_size
        calls = fetches[key]
        # One call per chunk of max_batch_size ids, each id asked for exactly once.
        assert len(calls) == math.ceil(len(ids) / size), (first, key, len(ids), [len(c) for c in calls])
        assert all(len(c) <= size for c in calls)
        assert Counter(i for c in calls for i in c) == Counter(ids), key
    if first <= 100 and entity == "SOFTCO":
        assert all(len(c) == 1 for c in fetches.values()), dict(fetches)


# ------------------------------------------------------- 3. HR gets only selected fields


@pytest.fixture
def hr_posts(systems, monkeypatch):
    """The body of every HTTP request the gateway's HR connector sends, as sent."""
    _, catalog = systems
    bodies: list[dict] = []

    async def seen(request: httpx.Request) -> None:
        bodies.append(orjson.loads(request.content))

    client = catalog.sources["hr"].inner.client
    monkeypatch.setattr(client, "event_hooks", {"request": [seen], "response": []})
    return bodies


def entity_selections(query: str) -> dict[str, list[str]]:
    """`_entities { ... on T { fields } }` of a query text, as {T: [fields]}."""
    [operation] = parse(query).definitions
    assert isinstance(operation, OperationDefinitionNode)
    [entities] = operation.selection_set.selections
    assert isinstance(entities, FieldNode) and entities.name.value == "_entities"
    found = {}
    for fragment in entities.selection_set.selections:
        assert isinstance(fragment, InlineFragmentNode)
        found[fragment.type_condition.name.value] = [
            s.name.value for s in fragment.selection_set.selections
        ]
    return found


EMPLOYEE_LINES = """
{ account(code: "6000") { lines(first: 100) { edges { node { id
    sources { system recordType recordId record { %s } } } } } } }
"""


async def test_the_hr_subgraph_is_asked_for_the_selected_fields_only(gql, index, hr_posts):
    result = await gql(EMPLOYEE_LINES % "... on HrEmployee { name }", entity="SOFTCO")
    assert "errors" not in result, result["errors"][:3]
    links = [s for e in result["data"]["account"]["lines"]["edges"] for s in e["node"]["sources"]]
    employees = index[("hr", "Employee")]
    assert links and all(link["recordType"] == "Employee" for link in links)
    assert [link["record"] for link in links] == [{"name": employees[link["recordId"]].name} for link in links]

    [body] = hr_posts
    # `company` too, unselected: it says whose record it is (the caller's entity only).
    assert entity_selections(body["query"]) == {"Employee": ["id", "name", "company"]}
    assert sorted(r["id"] for r in body["variables"]["representations"]) == sorted(
        {link["recordId"] for link in links}
    )
    assert all(r["__typename"] == "Employee" for r in body["variables"]["representations"])

    # Interface fields, the ledger's ledgerLines and other types' fields are not the HR
    # system's business; only Employee fields selected (directly or in a fragment) go out.
    hr_posts.clear()
    asked = """__typename recordId url ledgerLines(first: 1) { edges { node { id } } }
        ... on CrmSalesOrder { amount } ... on HrEmployee { annualSalary } ...Who"""
    query = EMPLOYEE_LINES % asked + " fragment Who on HrEmployee { name title }"
    result = await gql(query, entity="SOFTCO")
    assert "errors" not in result, result["errors"][:3]
    [body] = hr_posts
    fields = entity_selections(body["query"])["Employee"]
    assert fields[0] == "id" and sorted(fields) == ["annualSalary", "company", "id", "name", "title"]
    record = result["data"]["account"]["lines"]["edges"][0]["node"]["sources"][0]["record"]
    employee = employees[record["recordId"]]
    assert (record["name"], record["title"], record["annualSalary"]) == (
        employee.name, employee.title, _money(employee.annual_salary_minor)
    )


# ------------------------------------------------------------ 4. a record that is gone

ENTRY_RECORDS = """
query($number: String!) { journalEntry(number: $number) { number lines { lineNo debit credit
  account { code }
  sources { system recordType recordId record { __typename recordId %s } } } } }
""" % ALL_FIELDS


async def test_a_link_to_a_record_that_does_not_exist_is_null_with_not_found(
    world, records, index, systems
):
    """A ledger of its own (the conftest world), posted through the API, so the demo ledger
    is left as built; the records come from the running demo systems."""
    _, catalog = systems
    # Records are served to their own company only: this ledger gets a SOFTCO of its own.
    await _entity(world.db, "SOFTCO", "Software Co.", "USD", ACME_ACCOUNTS)
    order = next(o for o in records.sales_orders if o.company == "SOFTCO")
    employee = next(e for e in records.employees if e.company == "SOFTCO")
    usage = next(u for u in records.usage_records if u.company == "SOFTCO")
    lines = [
        {"account": "1100", "debit": "10.00", "sources": [
            {"system": "crm", "recordType": "SalesOrder", "recordId": order.id},
            {"system": "crm", "recordType": "SalesOrder", "recordId": MISSING_ORDER},
        ]},
        {"account": "4000", "credit": "10.00", "sources": [
            {"system": "hr", "recordType": "Employee", "recordId": employee.id},
            {"system": "usage", "recordType": "UsageRecord", "recordId": usage.id},
        ]},
    ]
    party = await provision_tester(world.db, catalog.sources)
    async with await _client(world.db, catalog) as http:
        gql = GraphQLClient(http, party)
        posted = await gql(POST, {"input": sale(lines=lines, source=None), "key": "gone"},
                           entity="SOFTCO")
        assert "errors" not in posted, posted
        number = posted["data"]["postJournalEntry"]["entry"]["number"]

        result = await gql(ENTRY_RECORDS, {"number": number}, entity="SOFTCO")
        entry = result["data"]["journalEntry"]
        assert [(l["account"]["code"], l["debit"], l["credit"]) for l in entry["lines"]] == [
            ("1100", "10.00", "0.00"), ("4000", "0.00", "10.00"),
        ]
        [error] = result["errors"]
        assert error["extensions"] == {"code": "NOT_FOUND", "system": "crm"}
        assert f"crm/SalesOrder/{MISSING_ORDER}" in error["message"]
        assert error["path"] == ["journalEntry", "lines", 0, "sources", 1, "record"]
        assert entry["lines"][0]["sources"][1] == {
            "system": "crm", "recordType": "SalesOrder", "recordId": MISSING_ORDER, "record": None,
        }
        others = [entry["lines"][0]["sources"][0], *entry["lines"][1]["sources"]]
        assert [s["record"]["__typename"] for s in others] == ["CrmSalesOrder", "HrEmployee", "UsageRecord"]
        for link in others:
            record = link["record"]
            assert record["recordId"] == link["recordId"]
            assert fields_of(record) == expected_record(index, link, record["__typename"])

        # From the source side, an unknown record is null with NOT_FOUND as well.
        result = await gql(
            '{ sourceRecord(system: "crm", recordType: "SalesOrder", recordId: "%s") '
            "{ recordId ledgerLines { edges { node { id } } } } }" % MISSING_ORDER
        )
        assert result["data"] == {"sourceRecord": None}
        [error] = result["errors"]
        assert error["extensions"] == {"code": "NOT_FOUND", "system": "crm"}
        assert error["path"] == ["sourceRecord"]


LINE_RECORDS = """
query($id: ID!) { node(id: $id) { ... on JournalLine { id debit credit account { code }
  sources { system recordType recordId record { recordId ... on PosReceipt { total } } } } } }
"""


async def test_a_record_deleted_in_its_system_is_null_and_its_line_still_arrives(gql, records, systems):
    """A demo line linking several POS receipts, one of which the POS then loses."""
    running, _ = systems
    pos_db = make_url(running.pos_database_url).database
    receipt = next(r for r in records.receipts if r.business_date == dt.date(2026, 3, 14))
    found = await gql(
        '{ sourceRecord(system: "pos", recordType: "Receipt", recordId: "%s") '
        "{ ledgerLines { edges { node { id } } } } }" % receipt.id, entity="HOTELCO",
    )
    line_ids = [e["node"]["id"] for e in found["data"]["sourceRecord"]["ledgerLines"]["edges"]]
    before = await gql(LINE_RECORDS, {"id": line_ids[0]}, entity="HOTELCO")
    assert "errors" not in before, before["errors"][:3]
    sources = before["data"]["node"]["sources"]
    position = [s["recordId"] for s in sources].index(receipt.id)
    assert len(sources) > 1

    with contextlib.closing(sqlite3.connect(pos_db)) as pos, pos:
        row = pos.execute("SELECT * FROM receipts WHERE id = ?", (receipt.id,)).fetchone()
        pos.execute("DELETE FROM receipts WHERE id = ?", (receipt.id,))
    try:
        after = await gql(LINE_RECORDS, {"id": line_ids[0]}, entity="HOTELCO")
    finally:
        with contextlib.closing(sqlite3.connect(pos_db)) as pos, pos:
            pos.execute(f"INSERT INTO receipts VALUES ({', '.join('?' * len(row))})", row)

    [error] = after["errors"]
    assert error["extensions"] == {"code": "NOT_FOUND", "system": "pos"}
    assert error["message"] == f"pos/Receipt/{receipt.id} does not exist in pos"
    assert error["path"] == ["node", "sources", position, "record"]
    expected = before["data"]["node"]
    expected["sources"][position]["record"] = None
    assert after["data"]["node"] == expected


# ----------------------------------------------------------------- 5. one system down

MONTH_WITH_RECORDS = """
query($from: Date!, $to: Date!) { trialBalance(from: $from, to: $to) { totalDebit totalCredit
  rows { account { code } debit credit net quantity
    lines(first: 1000) { edges { node { id debit credit
      sources { system recordType recordId record { __typename recordId %s } } } } } } } }
""" % ALL_FIELDS


@pytest.fixture
async def own_systems(records, tmp_path):
    """Five demo systems of the test's own, to break."""
    async with demo_systems(records, pos_db_path=tmp_path / "pos.db", ports=dict.fromkeys(SERVICES, 0)) as (
        running, catalog,
    ):
        try:
            yield running, catalog
        finally:
            await catalog.aclose()


def _at(data, path):
    for step in path:
        data = data[step]
    return data


async def test_a_system_down_nulls_only_its_records(demo_db, own_systems, demo_tester):
    running, catalog = own_systems
    async with await _client(demo_db, catalog) as http:
        gql = GraphQLClient(http, demo_tester)
        before = await gql(MONTH_WITH_RECORDS, MARCH, entity="SOFTCO")
        assert "errors" not in before, before["errors"][:3]

        crm = running.sources["crm"]
        crm.server.should_exit = True
        await crm.task
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient() as probe:
                await probe.get(crm.url + "/crm/sales-orders")

        after = await gql(MONTH_WITH_RECORDS, MARCH, entity="SOFTCO")

    # The expected answer: everything as before, but every CRM record null.
    expected = before["data"]
    crm_paths = []
    for r, row in enumerate(expected["trialBalance"]["rows"]):
        for e, edge in enumerate(row["lines"]["edges"]):
            for s, link in enumerate(edge["node"]["sources"]):
                if link["system"] == "crm":
                    link["record"] = None
                    crm_paths.append(["trialBalance", "rows", r, "lines", "edges", e, "node", "sources", s, "record"])
    systems_left = {link["system"] for row in expected["trialBalance"]["rows"]
                    for edge in row["lines"]["edges"] for link in edge["node"]["sources"]} - {"crm"}
    assert len(crm_paths) >= 10 and systems_left == {"hr", "usage", "ap"}
    assert after["data"] == expected

    assert sorted(error["path"] for error in after["errors"]) == sorted(crm_paths)
    for error in after["errors"]:
        assert error["extensions"] == {"code": "SOURCE_UNAVAILABLE", "system": "crm"}
        link = _at(after["data"], error["path"][:-1])
        assert error["message"].startswith(f"crm/{link['recordType']}/{link['recordId']}: crm: ")
