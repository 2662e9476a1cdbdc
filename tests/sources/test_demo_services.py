"""The demo source systems as services: they serve exactly the generated records, at the
deep links the demo ledger carries, behind the authentication each system asks for."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import re
import socket
import sqlite3
import types
import typing
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from sqlalchemy import text

from gateway.demo.world import build_demo
from ledger.migrate import upgrade
from ledger.store import LedgerDatabase
from sources.demo.generate import generate_world
from sources.demo.records import (
    AP,
    CRM,
    HR,
    POS,
    RECORD_PATHS,
    SYSTEM_PORTS,
    USAGE,
    DemoRecords,
    record_url,
)
from sources.demo.services import (
    SERVICES,
    build_pos_database,
    create_ap_app,
    create_crm_app,
    create_hr_app,
    create_pos_app,
    create_usage_app,
    serve_demo_sources,
)

SEED, SCALE = 7, 0.2
CRM_KEY = "crm-test-key"
USAGE_CLIENT = ("ledgergate", "usage-test-secret")
KEYS = {CRM: CRM_KEY, POS: "pos-test-key", HR: "hr-test-key", AP: "ap-test-key"}
SECRETS = {name: {"api_key": key} for name, key in KEYS.items()} | {
    USAGE: {"client_secret": USAGE_CLIENT[1]}
}
MONEY = re.compile(r"-?\d+\.\d{2}")


@pytest.fixture(scope="module")
def world() -> DemoRecords:
    return generate_world(SEED, SCALE)


def _asgi(app, **headers) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://demo.test", headers=headers
    )


async def _token(client: httpx.AsyncClient, secret: str = USAGE_CLIENT[1]) -> str:
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(USAGE_CLIENT[0], secret),
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture(scope="module")
async def clients(world):
    """One authenticated client per system, over ASGI."""
    crm = _asgi(create_crm_app(world, api_key=CRM_KEY), **{"X-API-Key": CRM_KEY})
    usage = _asgi(create_usage_app(world, client_secret=USAGE_CLIENT[1]))
    usage.headers["Authorization"] = f"Bearer {await _token(usage)}"
    found = {
        CRM: crm,
        USAGE: usage,
        AP: _asgi(create_ap_app(world, api_key=KEYS[AP]), **{"X-API-Key": KEYS[AP]}),
        POS: _asgi(create_pos_app(world, api_key=KEYS[POS]), **{"X-API-Key": KEYS[POS]}),
        HR: _asgi(create_hr_app(world, api_key=KEYS[HR]), **{"X-API-Key": KEYS[HR]}),
    }
    yield found
    for client in found.values():
        await client.aclose()


# --- JSON back to records: an independent reading of the wire format


def _camel(name: str) -> str:
    head, *rest = name.removesuffix("_minor").split("_")
    return head + "".join(part.title() for part in rest)


def _decode(cls, data: dict):
    """The record `data` describes; asserts money is a 2-place string and nothing is a float."""
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        values[f.name] = _value(hints[f.name], data[_camel(f.name)], f.name)
    return cls(**values)


def _value(kind, raw, name):
    assert not isinstance(raw, float), (name, raw)
    args = typing.get_args(kind)
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        if raw is None:
            assert type(None) in args, name
            return None
        return _value(next(a for a in args if a is not type(None)), raw, name)
    if typing.get_origin(kind) is tuple:
        return tuple(_decode(args[0], item) for item in raw)
    if kind is int and name.endswith("_minor"):
        assert isinstance(raw, str) and MONEY.fullmatch(raw), (name, raw)
        return int(Decimal(raw).scaleb(2))
    if kind is Decimal:
        assert isinstance(raw, str), (name, raw)
        return Decimal(raw)
    if kind is dt.datetime:
        return dt.datetime.fromisoformat(raw)
    if kind is dt.date:
        return dt.date.fromisoformat(raw)
    assert type(raw) is kind, (name, raw)
    return raw


def _money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def _path(system: str, record_type: str) -> str:
    return f"/{system}/{RECORD_PATHS[(system, record_type)]}"


JSON_COLLECTIONS = sorted(RECORD_PATHS)


# --- REST collections


@pytest.mark.parametrize(("system", "record_type"), JSON_COLLECTIONS)
async def test_batches_return_exactly_the_generated_records(clients, world, system, record_type):
    records = list(world.index()[(system, record_type)].values())
    assert records
    client = clients[system]
    served = []
    for start in range(0, len(records), 500):
        ids = [r.id for r in records[start : start + 500]]
        response = await client.get(_path(system, record_type), params={"ids": ",".join(ids)})
        assert response.status_code == 200, response.text
        served += [_decode(type(records[0]), item) for item in response.json()]
    assert served == records


@pytest.mark.parametrize(("system", "record_type"), JSON_COLLECTIONS)
async def test_a_batch_leaves_out_unknown_ids_and_keeps_the_order_asked(
    clients, world, system, record_type
):
    records = list(world.index()[(system, record_type)].values())
    wanted = [records[-1].id, "NO-SUCH-ID", records[0].id, records[-1].id]
    response = await clients[system].get(
        _path(system, record_type), params={"ids": ",".join(wanted)}
    )
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [records[-1].id, records[0].id]


@pytest.mark.parametrize(("system", "record_type"), JSON_COLLECTIONS)
async def test_one_record_by_id_and_404_for_an_unknown_one(clients, world, system, record_type):
    record = list(world.index()[(system, record_type)].values())[-1]
    client = clients[system]
    response = await client.get(f"{_path(system, record_type)}/{record.id}")
    assert response.status_code == 200
    assert _decode(type(record), response.json()) == record
    missing = await client.get(f"{_path(system, record_type)}/NO-SUCH-ID")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


async def test_money_is_an_exact_string_in_currency_units(clients, world):
    order = world.sales_orders[0]
    body = (await clients[CRM].get(f"/crm/sales-orders/{order.id}")).json()
    assert body["amount"] == _money(order.amount_minor)
    assert body["quantity"] == str(order.quantity)
    assert body["status"] == order.status
    bill = max(world.bills, key=lambda b: len(b.lines))
    body = (await clients[AP].get(f"/ap/bills/{bill.id}")).json()
    assert len(body["lines"]) == len(bill.lines) > 1
    assert Decimal(body["total"]) == Decimal(bill.total_minor) / 100
    assert body["lines"][0]["amount"] == _money(bill.lines[0].amount_minor)


async def test_a_post_batch_serves_id_lists_too_long_for_a_url(clients, world):
    ids = [u.id for u in world.usage_records[:1000]]
    response = await clients[USAGE].post("/usage/usage-records", json={"ids": ids})
    assert [item["id"] for item in response.json()] == ids
    too_many = await clients[USAGE].post("/usage/usage-records", json={"ids": ids + ["x"]})
    assert too_many.status_code == 400
    garbage = await clients[USAGE].post("/usage/usage-records", content=b"<html>")
    assert garbage.status_code == 400


async def test_usage_lists_a_customers_days(clients, world):
    customer = world.usage_records[0].customer_id
    expected = [u for u in world.usage_records if u.customer_id == customer]
    response = await clients[USAGE].get(
        "/usage/usage-records", params={"customerId": customer, "limit": 1000}
    )
    assert [_decode(type(expected[0]), item) for item in response.json()] == expected[:1000]
    day = expected[3].day.isoformat()
    one = await clients[USAGE].get(
        "/usage/usage-records", params={"customerId": customer, "day": day}
    )
    assert [item["id"] for item in one.json()] == [expected[3].id]
    page = await clients[USAGE].get("/usage/usage-records", params={"limit": 2, "offset": 1})
    assert [item["id"] for item in page.json()] == [u.id for u in world.usage_records[1:3]]
    unknown = await clients[USAGE].get("/usage/usage-records", params={"colour": "red"})
    assert unknown.status_code == 400


# --- authentication


async def test_crm_requires_its_api_key(world):
    async with _asgi(create_crm_app(world, api_key="s3cret")) as client:
        customer = world.customers[0].id
        assert (await client.get(f"/crm/customers/{customer}")).status_code == 401
        wrong = await client.get(f"/crm/customers/{customer}", headers={"X-API-Key": CRM_KEY})
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "unauthorized"
        right = await client.get(f"/crm/customers/{customer}", headers={"X-API-Key": "s3cret"})
        assert right.status_code == 200
        assert right.json()["id"] == customer


async def test_crm_answers_a_client_with_its_key(world):
    async with _asgi(create_crm_app(world, api_key=CRM_KEY)) as client:
        response = await client.get("/crm/products", headers={"X-API-Key": CRM_KEY})
        assert response.status_code == 200
        assert [p["id"] for p in response.json()] == [p.id for p in world.products]


async def test_usage_data_needs_a_bearer_token(world):
    record = world.usage_records[0].id
    async with _asgi(create_usage_app(world, client_secret=USAGE_CLIENT[1])) as client:
        anonymous = await client.get(f"/usage/usage-records?ids={record}")
        assert anonymous.status_code == 401
        assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        forged = await client.get(
            f"/usage/usage-records/{record}", headers={"Authorization": "Bearer forged"}
        )
        assert forged.status_code == 401
        assert 'error="invalid_token"' in forged.headers["WWW-Authenticate"]
        token = await _token(client)
        ok = await client.get(
            f"/usage/usage-records/{record}", headers={"Authorization": f"Bearer {token}"}
        )
        assert ok.status_code == 200
        assert ok.json()["id"] == record


async def test_the_token_endpoint_follows_client_credentials(world):
    async with _asgi(create_usage_app(world, client_secret=USAGE_CLIENT[1])) as client:
        response = await client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": USAGE_CLIENT[0],
                "client_secret": USAGE_CLIENT[1],
            },
        )
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
        assert body["access_token"] and response.headers["Cache-Control"] == "no-store"

        wrong_secret = await client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=("ledgergate", "x")
        )
        assert (wrong_secret.status_code, wrong_secret.json()["error"]) == (401, "invalid_client")
        basic = base64.b64encode(b"ledgergate:" + USAGE_CLIENT[1].encode()).decode()
        wrong_grant = await client.post(
            "/oauth/token",
            data={"grant_type": "password"},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert (wrong_grant.status_code, wrong_grant.json()["error"]) == (
            400,
            "unsupported_grant_type",
        )
        anonymous = await client.post("/oauth/token", data={"grant_type": "client_credentials"})
        assert anonymous.status_code == 401


async def test_an_expired_token_is_refused(world):
    app = create_usage_app(world, client_secret=USAGE_CLIENT[1], token_ttl=0)
    async with _asgi(app) as client:
        token = await _token(client)
        response = await client.get(
            "/usage/usage-records", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401


async def test_authlibs_client_credentials_flow_works_against_usage(world):
    app = create_usage_app(world, client_secret=USAGE_CLIENT[1])
    async with AsyncOAuth2Client(
        *USAGE_CLIENT,
        token_endpoint="http://demo.test/oauth/token",
        transport=httpx.ASGITransport(app=app),
        base_url="http://demo.test",
    ) as client:
        await client.fetch_token(grant_type="client_credentials")
        record = world.usage_records[5]
        response = await client.get(f"/usage/usage-records/{record.id}")
        assert response.status_code == 200
        assert response.json()["gbUsed"] == str(record.gb_used)


async def test_ap_requires_its_api_key(world):
    bill = world.bills[0].id
    async with _asgi(create_ap_app(world, api_key="ap-key")) as client:
        assert (await client.get(f"/ap/bills/{bill}")).status_code == 401
        ok = await client.get(f"/ap/bills/{bill}", headers={"X-API-Key": "ap-key"})
        assert ok.status_code == 200


# --- HR subgraph


async def _graphql(client: httpx.AsyncClient, query: str, variables: dict | None = None) -> dict:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_hr_publishes_its_entities_in_the_federation_sdl(clients):
    sdl = (await _graphql(clients[HR], "{ _service { sdl } }"))["_service"]["sdl"]
    assert 'type Employee @key(fields: "id")' in sdl
    for entity in ("Department", "Location", "Hire", "Termination", "PayrollRun"):
        assert f'type {entity} @key(fields: "id")' in sdl
    assert "specs.apollo.dev/federation/v2" in sdl


ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Employee { id name annualSalary hireDate terminationDate department { name } }
  ... on Department { id name }
  ... on Location { id city }
  ... on Hire { id date employee { id } }
  ... on Termination { id reason }
  ... on PayrollRun { id gross payslips { employeeId net } }
} }"""


async def test_hr_resolves_entities_by_key_and_null_for_an_unknown_id(clients, world):
    employee = next(e for e in world.employees if e.id == "EMP-0001")
    representations = [
        {"__typename": "Employee", "id": "EMP-0001"},
        {"__typename": "Employee", "id": "EMP-9999"},
    ]
    data = await _graphql(clients[HR], ENTITIES, {"r": representations})
    first, unknown = data["_entities"]
    assert unknown is None
    assert first["id"] == "EMP-0001" and first["name"] == employee.name
    assert first["annualSalary"] == _money(employee.annual_salary_minor)
    assert first["hireDate"] == employee.hire_date.isoformat()
    department = next(d for d in world.departments if d.id == employee.department_id)
    assert first["department"] == {"name": department.name}


async def test_hr_resolves_every_linked_entity_type(clients, world):
    picks = {
        "Department": world.departments[-1],
        "Location": world.locations[-1],
        "Hire": world.hires[-1],
        "Termination": world.terminations[-1],
        "PayrollRun": world.payroll_runs[-1],
    }
    representations = [{"__typename": name, "id": r.id} for name, r in picks.items()]
    found = (await _graphql(clients[HR], ENTITIES, {"r": representations}))["_entities"]
    assert [e["id"] for e in found] == [r.id for r in picks.values()]
    run = picks["PayrollRun"]
    assert found[-1]["gross"] == _money(run.gross_minor)
    assert len(found[-1]["payslips"]) == len(run.payslips)
    assert found[2]["employee"] == {"id": picks["Hire"].employee_id}


async def test_hr_queries_list_and_look_up(clients, world):
    ids = [world.employees[3].id, "EMP-9999", world.employees[0].id]
    data = await _graphql(
        clients[HR],
        "query($ids: [ID!]) { employees(ids: $ids) { id } all: employees { id }"
        " employee(id: \"EMP-9999\") { id } payrollRuns { id } }",
        {"ids": ids},
    )
    assert [e["id"] for e in data["employees"]] == [ids[0], ids[2]]
    assert [e["id"] for e in data["all"]] == [e.id for e in world.employees]
    assert data["employee"] is None
    assert [r["id"] for r in data["payrollRuns"]] == [r.id for r in world.payroll_runs]


async def test_hr_graphql_needs_no_redirect_and_serves_no_graphiql(clients):
    page = await clients[HR].get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 404  # no IDE page, and no 307 to /graphql/
    assert "graphiql" not in page.text.lower()


# --- POS database


def _receipts_table(path) -> dict[str, tuple]:
    with sqlite3.connect(path) as conn:
        return {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT id, location_id, business_date, closed_at, net_minor, tax_minor,"
                " total_minor, total, line_count FROM receipts"
            )
        }


@pytest.fixture(scope="module")
def pos_db(tmp_path_factory, world):
    path = tmp_path_factory.mktemp("pos") / "pos.db"
    build_pos_database(path, world)
    return path


def test_every_receipt_is_in_the_pos_database_with_exact_amounts(pos_db, world):
    rows = _receipts_table(pos_db)
    assert len(rows) == len(world.receipts)
    for r in world.receipts:
        assert rows[r.id] == (
            r.location_id,
            r.business_date.isoformat(),
            r.closed_at.isoformat(),
            r.net_minor,
            r.tax_minor,
            r.total_minor,
            _money(r.total_minor),
            len(r.lines),
        )


def test_receipt_lines_and_items_are_in_the_pos_database(pos_db, world):
    with sqlite3.connect(pos_db) as conn:
        lines = conn.execute(
            "SELECT receipt_id, line_no, item_id, quantity, unit_price_minor, net_minor,"
            " tax_rate, tax_minor, net FROM receipt_lines ORDER BY rowid"
        ).fetchall()
        items = conn.execute("SELECT id, tax_rate FROM items ORDER BY id").fetchall()
        indexes = {row[1] for row in conn.execute("PRAGMA index_list('receipt_lines')")}
        column_types = {row[1]: row[2] for row in conn.execute("PRAGMA table_info('receipts')")}
    expected = [
        (
            line.receipt_id,
            line.line_no,
            line.item_id,
            line.quantity,
            line.unit_price_minor,
            line.net_minor,
            str(line.tax_rate),
            line.tax_minor,
            _money(line.net_minor),
        )
        for r in world.receipts
        for line in r.lines
    ]
    assert lines == expected
    assert items == sorted((i.id, str(i.tax_rate)) for i in world.pos_items)
    assert "ix_receipt_lines_item" in indexes
    assert column_types["total_minor"] == "BIGINT" and column_types["total"].startswith("VARCHAR")


def test_rebuilding_the_pos_database_replaces_it(tmp_path, world):
    path = tmp_path / "pos.db"
    other = generate_world(SEED + 1, SCALE)
    build_pos_database(path, other)
    url = build_pos_database(f"sqlite+aiosqlite:///{path}", world)
    assert url == f"sqlite:///{path}"
    assert set(_receipts_table(path)) == {r.id for r in world.receipts}
    assert not list(tmp_path.glob("*.building"))


# --- every link in the demo ledger resolves


@pytest.fixture(scope="module")
async def ledger_links(tmp_path_factory) -> list[tuple[str, str, str, str]]:
    db = LedgerDatabase.from_url(f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'demo.db'}")
    await upgrade(db.engine)
    await build_demo(db, seed=SEED, scale=SCALE)
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT DISTINCT system, record_type, record_id, url FROM source_links")
        )
        links = [tuple(row) for row in rows]
    await db.dispose()
    return links


async def test_every_record_the_demo_ledger_links_to_is_served(ledger_links, clients, pos_db):
    pairs = {(system, record_type) for system, record_type, _, _ in ledger_links}
    assert {(CRM, "SalesOrder"), (CRM, "Customer"), (POS, "Receipt")} <= pairs
    assert {(USAGE, "UsageRecord"), (HR, "Employee"), (HR, "PayrollRun")} <= pairs
    assert {(AP, "Bill"), (AP, "Payment")} <= pairs
    assert pairs <= set(RECORD_PATHS)
    with sqlite3.connect(pos_db) as conn:
        receipt_ids = {row[0] for row in conn.execute("SELECT id FROM receipts")}
    unserved = []
    for system, record_type, record_id, url in ledger_links:
        assert url == record_url(system, record_type, record_id)
        assert urlsplit(url).port == SYSTEM_PORTS[system]
        if (system, record_type) == (POS, "Receipt"):
            if record_id not in receipt_ids:
                unserved.append((system, record_type, record_id))
            continue
        response = await clients[system].get(urlsplit(url).path)
        if response.status_code != 200 or response.json()["id"] != record_id:
            unserved.append((system, record_type, record_id))
    assert unserved == []


async def test_pos_deep_links_in_the_demo_ledger_answer_json(ledger_links, clients):
    receipts = [link for link in ledger_links if link[:2] == (POS, "Receipt")]
    assert receipts
    for _, _, record_id, url in receipts[:: max(1, len(receipts) // 200)]:
        response = await clients[POS].get(urlsplit(url).path)
        assert response.status_code == 200
        assert response.json()["id"] == record_id


# --- over real loopback ports


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_all_five_systems_serve_over_loopback(tmp_path, world):
    ports = {name: _free_port() for name in SERVICES}
    sources = await serve_demo_sources(
        world,
        ports=ports,
        pos_db_path=tmp_path / "pos.db",
        secrets=SECRETS,
    )
    try:
        assert {n: urlsplit(sources.url(n)).port for n in SERVICES} == ports
        async with httpx.AsyncClient(timeout=10) as http:
            customer = world.customers[0]
            response = await http.get(
                f"{sources.url(CRM)}/crm/customers/{customer.id}", headers={"X-API-Key": CRM_KEY}
            )
            assert response.json()["name"] == customer.name

            token = await http.post(
                f"{sources.url(USAGE)}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=USAGE_CLIENT,
            )
            usage = world.usage_records[0]
            response = await http.get(
                f"{sources.url(USAGE)}/usage/usage-records?ids={usage.id}",
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            )
            assert [u["gbUsed"] for u in response.json()] == [str(usage.gb_used)]

            bill = world.bills[0]
            response = await http.get(
                f"{sources.url(AP)}/ap/bills/{bill.id}", headers={"X-API-Key": KEYS[AP]}
            )
            assert len(response.json()["lines"]) == len(bill.lines)

            receipt = world.receipts[-1]
            response = await http.get(
                f"{sources.url(POS)}/pos/receipts/{receipt.id}", headers={"X-API-Key": KEYS[POS]}
            )
            assert Decimal(response.json()["total"]) == Decimal(receipt.total_minor) / 100
            assert sources.pos_database_url == f"sqlite:///{tmp_path / 'pos.db'}"
            assert receipt.id in _receipts_table(tmp_path / "pos.db")

            response = await http.post(
                f"{sources.url(HR)}/graphql",
                headers={"X-API-Key": KEYS[HR]},
                json={
                    "query": "query($r: [_Any!]!) { _entities(representations: $r)"
                    " { ... on Employee { id name } } }",
                    "variables": {"r": [{"__typename": "Employee", "id": "EMP-0001"}]},
                },
            )
            employee = next(e for e in world.employees if e.id == "EMP-0001")
            assert response.json()["data"]["_entities"] == [
                {"id": "EMP-0001", "name": employee.name}
            ]
    finally:
        await sources.stop()
    assert all(r.task.done() for r in sources.sources.values())
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as http:
            await http.get(f"{sources.url(AP)}/ap/vendors")


async def test_a_taken_port_fails_the_start_and_stops_the_others(tmp_path, world):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = {name: 0 for name in SERVICES} | {"usage": taken.getsockname()[1]}
        with pytest.raises(OSError):
            await serve_demo_sources(world, ports=ports, pos_db_path=tmp_path / "pos.db", secrets=SECRETS)
    # The systems started before usage's port failed were shut down again.
    running = [t for t in asyncio.all_tasks() if t.get_name().startswith("demo-source-")]
    assert running == []
