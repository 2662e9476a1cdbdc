"""The GraphQL kind against the demo HR subgraph (Strawberry, Federation 2): discovery from
`_service { sdl }`, one `_entities` POST per batch, in process (httpx's ASGI transport) and
over a loopback port; SDL discovery on its own; every kind of garbage from a fake subgraph."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sources.base import FetchRequest, FetchResult, FieldSpec, RecordType
from sources.demo.generate import generate_world
from sources.demo.records import DemoRecords
from sources.demo.services import create_hr_app
from sources.discovery import record_types_from_sdl
from sources.errors import SourceProtocolError, SourceTimeout, SourceUnavailable
from sources.graphql import GraphQLSource, discover_record_types, entities_query, post_query

from .apps.loopback import closed_port, serving

SEED, SCALE = 7, 0.2
HR_URL = "http://hr.test/graphql"
HR_KEY = "hr-test-key"
HR_HEADERS = {"X-API-Key": HR_KEY}
QUERY_HEAD = "query($representations: [_Any!]!) { _entities(representations: $representations) "
HR_ENTITIES = ["Department", "Employee", "Hire", "Location", "PayrollRun", "Termination"]


@pytest.fixture(scope="module")
def world() -> DemoRecords:
    return generate_world(SEED, SCALE)


class Recorder:
    """ASGI middleware: every HTTP request's method, path and JSON body, in order."""

    def __init__(self, app):
        self.app = app
        self.calls: list[tuple[str, str, dict]] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def recording_receive():
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        await self.app(scope, recording_receive, send)
        body = b"".join(chunks)
        self.calls.append((scope["method"], scope["path"], json.loads(body) if body else {}))

    @property
    def bodies(self) -> list[dict]:
        return [body for _, _, body in self.calls]


def asgi(app) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=app)


@pytest.fixture
def hr(world) -> Recorder:
    return Recorder(create_hr_app(world, api_key=HR_KEY))


@pytest.fixture(scope="module")
async def hr_types(world) -> dict[str, RecordType]:
    found = await discover_record_types(
        "hr", HR_URL, transport=asgi(create_hr_app(world, api_key=HR_KEY)), headers=HR_HEADERS
    )
    return {t.name: t for t in found}


def source(transport, record_types, url=HR_URL, **options) -> GraphQLSource:
    options = {"url": url, "auth": "api_key", **options}
    return GraphQLSource("hr", options, record_types, {"api_key": HR_KEY}, transport=transport)


def money(minor: int) -> Decimal:
    return Decimal(minor).scaleb(-2)  # USD and EUR, the demo's currencies


# --- discovery from the real HR subgraph -------------------------------------------------


async def test_discovery_finds_every_hr_entity_and_nothing_else(hr):
    found = await discover_record_types("hr", HR_URL, transport=asgi(hr), headers=HR_HEADERS)

    assert [t.name for t in found] == HR_ENTITIES  # no Payslip (no @key), no Query, no _Service
    assert [t.graphql_name for t in found] == [f"Hr{name}" for name in HR_ENTITIES]
    assert {t.system for t in found} == {"hr"}
    assert {t.key for t in found} == {"id"}
    assert all(t.url_template is None and dict(t.options) == {} for t in found)
    assert [(method, path) for method, path, _ in hr.calls] == [("POST", "/graphql")]
    assert hr.bodies == [{"query": "{ _service { sdl } }"}]


async def test_discovery_types_employee_fields_and_leaves_out_objects(hr_types):
    assert hr_types["Employee"].fields == (
        FieldSpec("id", "ID", nullable=False),
        FieldSpec("company", "String", nullable=False),
        FieldSpec("name", "String", nullable=False),
        FieldSpec("title", "String", nullable=False),
        FieldSpec("departmentId", "ID", nullable=False),
        FieldSpec("locationId", "ID", nullable=False),
        FieldSpec("hireDate", "Date", nullable=False),
        FieldSpec("terminationDate", "Date", nullable=True),
        FieldSpec("annualSalary", "Decimal", nullable=False, sensitive=True),  # @requiresScopes
        FieldSpec("currency", "String", nullable=False),
    )  # department / location (objects) left out
    assert [f.name for f in hr_types["Department"].fields] == ["id", "company", "name"]  # no employees list
    assert [(f.name, f.type) for f in hr_types["PayrollRun"].fields] == [
        ("id", "ID"),
        ("company", "String"),
        ("periodStart", "Date"),
        ("periodEnd", "Date"),
        ("payDate", "Date"),
        ("currency", "String"),
        ("gross", "Decimal"),
    ]  # payslips, a list of objects, left out
    assert hr_types["Location"].field("rooms") == FieldSpec("rooms", "Int", nullable=False)


async def test_discovery_applies_url_templates(world):
    templates = {
        "Employee": "http://127.0.0.1:8103/hr/employees/{id}",
        "PayrollRun": "http://127.0.0.1:8103/hr/payroll-runs/{id}",
    }
    found = await discover_record_types(
        "hr", HR_URL, transport=asgi(create_hr_app(world, api_key=HR_KEY)),
        url_templates=templates, headers=HR_HEADERS,
    )
    by_name = {t.name: t for t in found}

    assert by_name["Employee"].url("EMP-0001") == "http://127.0.0.1:8103/hr/employees/EMP-0001"
    assert by_name["PayrollRun"].url_template == templates["PayrollRun"]
    assert [n for n, t in by_name.items() if t.url_template is None] == [
        "Department", "Hire", "Location", "Termination"
    ]


async def test_a_url_template_for_a_non_entity_is_refused(world):
    with pytest.raises(ValueError) as caught:
        await discover_record_types(
            "hr",
            HR_URL,
            transport=asgi(create_hr_app(world, api_key=HR_KEY)),
            url_templates={"Payslip": "http://x/{id}", "Employee": "http://x/e/{id}"},
            headers=HR_HEADERS,
        )
    assert str(caught.value) == (
        "url_templates names Payslip, not an entity of the subgraph "
        "(entities: Department, Employee, Hire, Location, PayrollRun, Termination)"
    )


async def test_discovery_over_a_loopback_port(world):
    async with serving(create_hr_app(world, api_key=HR_KEY)) as base:
        found = await discover_record_types("hr", f"{base}/graphql", headers=HR_HEADERS)

    assert [t.name for t in found] == HR_ENTITIES


# --- record_types_from_sdl ---------------------------------------------------------------

FIELDS_SDL = """
scalar Decimal
scalar Date
scalar DateTime
scalar JSON
enum Status { ACTIVE LEFT }

type Employee @key(fields: "id") {
  id: ID! @external
  name: String!
  shadow: String @external
  hidden: String @inaccessible
  bonus: Int @requires(fields: "shadow")
  salary: Decimal @requiresScopes(scopes: [["hr:salary"]])
  grade: String @policy(policies: [["grades"]])
  ssn: String @authenticated
  url: String
  status: Status!
  rating: Float
  tags: [String!]
  manager: Employee
  extra: JSON
  payslip(month: Int!): Int
  nickname(style: String): String
  withDefault(n: Int! = 1): Int
  active: Boolean
  born: Date
  seen: DateTime
}
"""


def test_sdl_field_rules():
    (employee,) = record_types_from_sdl("hr", FIELDS_SDL)

    assert employee.fields == (
        FieldSpec("id", "ID", nullable=False),  # @external, but the key
        FieldSpec("name", "String", nullable=False),
        FieldSpec("salary", "Decimal", sensitive=True),
        FieldSpec("grade", "String", sensitive=True),
        FieldSpec("ssn", "String", sensitive=True),
        FieldSpec("remoteUrl", "String", source_name="url"),
        FieldSpec("status", "String", nullable=False),  # an enum
        FieldSpec("nickname", "String"),  # an optional argument
        FieldSpec("withDefault", "Int"),  # a required argument with a default
        FieldSpec("active", "Boolean"),
        FieldSpec("born", "Date"),
        FieldSpec("seen", "DateTime"),
    )  # shadow, hidden, bonus, rating (Float), tags, manager, extra (JSON), payslip: left out
    assert employee.field("remoteUrl").remote_name == "url"


def test_sdl_custom_scalars_count_only_when_declared():
    (order,) = record_types_from_sdl(
        "crm", 'type Order @key(fields: "id") { id: ID! amount: Decimal placed: Date }'
    )
    assert [f.name for f in order.fields] == ["id"]


def test_sdl_url_is_kept_as_is_when_remote_url_is_taken():
    (doc,) = record_types_from_sdl(
        "dms", 'type Doc @key(fields: "id") { id: ID! url: String remoteUrl: String! }'
    )
    assert doc.fields == (
        FieldSpec("id", "ID", nullable=False),
        FieldSpec("remoteUrl", "String", nullable=False),
    )


def test_sdl_federation_namespace():
    sdl = """
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.5")
    type Employee @federation__key(fields: "id") {
      id: ID!
      name: String @federation__inaccessible
      salary: Int @federation__requiresScopes(scopes: [["hr"]])
    }
    """
    (employee,) = record_types_from_sdl("hr", sdl)

    assert employee.name == "Employee"
    assert employee.fields == (FieldSpec("id", "ID", nullable=False), FieldSpec("salary", "Int", sensitive=True))


def test_sdl_link_as_renames_the_namespace():
    sdl = """
    schema @link(url: "https://specs.apollo.dev/federation/v2.5", as: "fed") { query: Query }
    type Employee @fed__key(fields: "id") { id: ID! secret: String @fed__external }
    type Other @federation__key(fields: "id") { id: ID! }
    """
    found = record_types_from_sdl("hr", sdl)

    assert [t.name for t in found] == ["Employee"]  # federation__ means nothing under "fed"
    assert found[0].fields == (FieldSpec("id", "ID", nullable=False),)


def test_sdl_link_import_renames_directives():
    sdl = """
    extend schema @link(
      url: "https://specs.apollo.dev/federation/v2.5",
      import: [{name: "@key", as: "@primaryKey"}, {name: "@requiresScopes", as: "@scopes"}, "@external"]
    )
    scalar Decimal
    type Employee @primaryKey(fields: "id") {
      id: ID!
      salary: Decimal @scopes(scopes: [["hr:salary"]])
      name: String @external
    }
    type NotAnEntity @unrelated(fields: "id") { id: ID! }
    """
    found = record_types_from_sdl("hr", sdl)

    assert [(t.name, t.key) for t in found] == [("Employee", "id")]
    assert found[0].fields == (
        FieldSpec("id", "ID", nullable=False),
        FieldSpec("salary", "Decimal", sensitive=True),
    )


def test_sdl_a_non_federation_link_renames_nothing():
    sdl = """
    extend schema @link(url: "https://example.com/other/v1.0", import: [{name: "@key", as: "@pk"}])
    type A @pk(fields: "id") { id: ID! }
    type B @key(fields: "id") { id: ID! }
    """
    assert [t.name for t in record_types_from_sdl("x", sdl)] == ["B"]


def test_sdl_unresolvable_keys_are_skipped():
    sdl = """
    type Department @key(fields: "id", resolvable: false) { id: ID! }
    type Hire @key(fields: "code", resolvable: false) @key(fields: "id") { id: ID! code: String! }
    type Location @key(fields: "id", resolvable: true) { id: ID! }
    """
    found = record_types_from_sdl("hr", sdl)

    assert [(t.name, t.key) for t in found] == [("Hire", "id"), ("Location", "id")]


def test_sdl_keys_ledgergate_can_use():
    sdl = """
    enum Code { A B }
    type Ticket @key(fields: "number") { number: Int! title: String }
    type Badge @key(fields: "code") { code: Code! }
    type Flag @key(fields: "on") { on: Boolean! }
    type Pair @key(fields: "company id") { company: String! id: ID! }
    type Nested @key(fields: "owner { id }") { owner: Ticket! }
    type Ghost @key(fields: "missing") { id: ID! }
    type Priced @key(fields: "price") { price: Float! }
    type _Hidden @key(fields: "id") { id: ID! }
    """
    found = record_types_from_sdl("it_ops", sdl)

    assert [(t.name, t.graphql_name, t.key, t.field(t.key).type) for t in found] == [
        ("Ticket", "ItOpsTicket", "number", "Int"),
        ("Badge", "ItOpsBadge", "code", "String"),
    ]


def test_sdl_extensions_merge_into_their_type():
    sdl = """
    type Employee @key(fields: "id") { id: ID! name: String }
    extend type Employee { title: String name: String! }
    """
    (employee,) = record_types_from_sdl("hr", sdl)

    assert [f.name for f in employee.fields] == ["id", "name", "title"]


def test_sdl_a_reserved_key_field_is_renamed_but_still_the_key():
    (item,) = record_types_from_sdl("x", 'type Item @key(fields: "recordId") { recordId: ID! }')

    assert item.key == "remoteRecordId"
    assert item.field("remoteRecordId").remote_name == "recordId"


NO_ENTITY = (
    "the subgraph's SDL declares no entity: no object type with a resolvable "
    '@key(fields: "id") on a field of type ID, String, Int'
)


@pytest.mark.parametrize(
    "sdl",
    [
        "type Query { hello: String }",
        'type Payslip { id: ID! }\ntype Department @key(fields: "id", resolvable: false) { id: ID! }',
        'type Flag @key(fields: "on") { on: Boolean! }',
    ],
)
def test_sdl_without_an_entity_is_refused(sdl):
    with pytest.raises(ValueError) as caught:
        record_types_from_sdl("hr", sdl)
    assert str(caught.value) == NO_ENTITY


@pytest.mark.parametrize(
    ("sdl", "error"),
    [
        ("type {", "Syntax Error: Expected Name, found '{'."),
        ("", "Syntax Error: Unexpected <EOF>."),
        ('type Employee @key(fields: "id") { id: ID! ', "Syntax Error: Expected Name, found <EOF>."),
    ],
)
def test_sdl_that_does_not_parse_is_refused(sdl, error):
    with pytest.raises(ValueError) as caught:
        record_types_from_sdl("hr", sdl)
    assert str(caught.value) == f"the subgraph's SDL does not parse: {error}"


# --- fetching from the real HR subgraph --------------------------------------------------


def test_entities_query_text():
    assert entities_query("Employee", ["id", "name"]) == (
        QUERY_HEAD + "{ ... on Employee { id name } } }"
    )


@pytest.mark.parametrize("count", [1, 5, 21])
async def test_a_batch_is_one_post_selecting_only_requested_fields(world, hr, hr_types, count):
    employees = world.employees[:count]
    assert len(employees) == count
    hr_source = source(asgi(hr), hr_types.values())
    ids = tuple(e.id for e in employees)

    result = await hr_source.fetch(FetchRequest(hr_types["Employee"], ids, ("name", "annualSalary")))

    assert len(hr.calls) == 1
    method, path, body = hr.calls[0]
    assert (method, path) == ("POST", "/graphql")
    assert body == {
        "query": QUERY_HEAD + "{ ... on Employee { id name annualSalary } } }",
        "variables": {"representations": [{"__typename": "Employee", "id": i} for i in ids]},
    }
    assert result.invalid == {}
    assert result.records == {
        e.id: {"id": e.id, "name": e.name, "annualSalary": money(e.annual_salary_minor)}
        for e in employees
    }
    await hr_source.aclose()


async def test_dates_and_nulls_are_typed(world, hr, hr_types):
    left = next(e for e in world.employees if e.termination_date is not None)
    stays = next(e for e in world.employees if e.termination_date is None)
    hr_source = source(asgi(hr), hr_types.values())

    result = await hr_source.fetch(
        FetchRequest(hr_types["Employee"], (left.id, stays.id), ("hireDate", "terminationDate"))
    )

    assert result == FetchResult(
        {
            left.id: {"id": left.id, "hireDate": left.hire_date, "terminationDate": left.termination_date},
            stays.id: {"id": stays.id, "hireDate": stays.hire_date, "terminationDate": None},
        }
    )
    assert isinstance(result.records[left.id]["terminationDate"], dt.date)
    assert hr.bodies[0]["query"] == QUERY_HEAD + "{ ... on Employee { id hireDate terminationDate } } }"


async def test_the_key_alone_when_no_field_is_selected(world, hr, hr_types):
    run = world.payroll_runs[0]
    hr_source = source(asgi(hr), hr_types.values())

    result = await hr_source.fetch(FetchRequest(hr_types["PayrollRun"], (run.id,), ()))

    assert result == FetchResult({run.id: {"id": run.id}})
    assert hr.bodies[0]["query"] == QUERY_HEAD + "{ ... on PayrollRun { id } } }"


async def test_unknown_ids_absent_and_duplicates_sent_once(world, hr, hr_types):
    a, b = world.employees[0], world.employees[1]
    hr_source = source(asgi(hr), hr_types.values())

    result = await hr_source.fetch(
        FetchRequest(hr_types["Employee"], (a.id, "EMP-9999", a.id, b.id, "", b.id), ("name", "id"))
    )

    assert result == FetchResult({a.id: {"id": a.id, "name": a.name}, b.id: {"id": b.id, "name": b.name}})
    (body,) = hr.bodies
    assert body["variables"]["representations"] == [
        {"__typename": "Employee", "id": a.id},
        {"__typename": "Employee", "id": "EMP-9999"},
        {"__typename": "Employee", "id": b.id},
    ]
    assert body["query"] == QUERY_HEAD + "{ ... on Employee { id name } } }"  # the key once


async def test_no_ids_means_no_request(hr, hr_types):
    hr_source = source(asgi(hr), hr_types.values())

    assert await hr_source.fetch(FetchRequest(hr_types["Employee"], (), ("name",))) == FetchResult()
    assert await hr_source.fetch(FetchRequest(hr_types["Employee"], ("",), ("name",))) == FetchResult()
    assert hr.calls == []


async def test_another_entity_type_in_the_same_subgraph(world, hr, hr_types):
    run = world.payroll_runs[1]
    hr_source = source(asgi(hr), hr_types.values())

    result = await hr_source.fetch(
        FetchRequest(hr_types["PayrollRun"], (run.id, world.employees[0].id), ("gross", "payDate"))
    )

    assert result == FetchResult(
        {run.id: {"id": run.id, "gross": money(run.gross_minor), "payDate": run.pay_date}}
    )  # an Employee id is no PayrollRun


async def test_fetch_over_a_loopback_port(world, hr_types):
    recorder = Recorder(create_hr_app(world, api_key=HR_KEY))
    ids = tuple(e.id for e in world.employees[:3]) + ("EMP-0000",)
    async with serving(recorder) as base:
        hr_source = source(None, hr_types.values(), url=f"{base}/graphql")
        result = await hr_source.fetch(FetchRequest(hr_types["Employee"], ids, ("title",)))
        await hr_source.aclose()

    assert len(recorder.calls) == 1
    assert recorder.bodies[0]["query"] == QUERY_HEAD + "{ ... on Employee { id title } } }"
    assert result == FetchResult({e.id: {"id": e.id, "title": e.title} for e in world.employees[:3]})


async def test_concurrent_fetches_share_the_client(world, hr, hr_types):
    hr_source = source(asgi(hr), hr_types.values())
    employee = hr_types["Employee"]

    results = await asyncio.gather(
        *(hr_source.fetch(FetchRequest(employee, (e.id,), ("name",))) for e in world.employees[:4])
    )

    assert [r.records for r in results] == [{e.id: {"id": e.id, "name": e.name}} for e in world.employees[:4]]
    assert len(hr.calls) == 4


# --- fake subgraphs: remote names and garbage ---------------------------------------------

EMPLOYEE = RecordType(
    system="hr",
    name="Employee",
    graphql_name="HrEmployee",
    key="id",
    fields=(
        FieldSpec("id", "ID", nullable=False),
        FieldSpec("name", "String"),
        FieldSpec("annualSalary", "Decimal"),
        FieldSpec("remoteUrl", "String", source_name="url"),
    ),
)
TICKET = RecordType(
    system="desk",
    name="Ticket",
    graphql_name="DeskTicket",
    key="number",
    fields=(FieldSpec("number", "Int", nullable=False), FieldSpec("title", "String")),
)
FAKE_URL = "http://fake.test/graphql"


def fake_subgraph(answer: Callable[[dict], Response]) -> Recorder:
    async def graphql(request: Request) -> Response:
        return answer(await request.json())

    return Recorder(Starlette(routes=[Route("/graphql", graphql, methods=["POST"])]))


def entities(*items) -> Callable[[dict], Response]:
    return lambda body: JSONResponse({"data": {"_entities": list(items)}})


def fake(answer, record_types=(EMPLOYEE,)) -> tuple[GraphQLSource, Recorder]:
    app = fake_subgraph(answer)
    return source(asgi(app), record_types, url=FAKE_URL), app


async def fetch(answer, *ids, fields=("name",), record_type=EMPLOYEE) -> FetchResult:
    fake_source, _ = fake(answer, (record_type,))
    return await fake_source.fetch(FetchRequest(record_type, ids, fields))


async def test_remote_names_and_remote_type_are_used_on_the_wire():
    staff = replace(EMPLOYEE, options={"remote_type": "Staff"})
    fake_source, app = fake(entities({"id": "E1", "url": "http://hr/E1"}), (staff,))

    result = await fake_source.fetch(FetchRequest(staff, ("E1",), ("remoteUrl",)))

    assert result == FetchResult({"E1": {"id": "E1", "remoteUrl": "http://hr/E1"}})
    assert app.bodies == [
        {
            "query": QUERY_HEAD + "{ ... on Staff { id url } } }",
            "variables": {"representations": [{"__typename": "Staff", "id": "E1"}]},
        }
    ]


async def test_int_keys_are_sent_as_numbers_and_ids_that_are_not_ints_are_absent():
    def answer(body):
        reps = body["variables"]["representations"]
        return JSONResponse({"data": {"_entities": [{"number": r["number"], "title": f"T{r['number']}"} for r in reps]}})

    fake_source, app = fake(answer, (TICKET,))

    result = await fake_source.fetch(
        FetchRequest(TICKET, ("7", "x", "1.5", "-3", "1500000000"), ("title",))
    )

    assert app.bodies[0]["variables"]["representations"] == [
        {"__typename": "Ticket", "number": n} for n in (7, -3, 1500000000)
    ]
    assert result == FetchResult(
        {
            "7": {"number": 7, "title": "T7"},
            "-3": {"number": -3, "title": "T-3"},
            "1500000000": {"number": 1500000000, "title": "T1500000000"},
        }
    )


async def test_int_keys_spelled_two_ways_do_not_make_a_record_invalid():
    def answer(body):
        reps = body["variables"]["representations"]
        return JSONResponse({"data": {"_entities": [{"number": r["number"], "title": "t"} for r in reps]}})

    fake_source, app = fake(answer, (TICKET,))

    result = await fake_source.fetch(FetchRequest(TICKET, ("1", "01", "+1", "2"), ("title",)))

    assert result == FetchResult({"1": {"number": 1, "title": "t"}, "2": {"number": 2, "title": "t"}})
    assert app.bodies[0]["variables"]["representations"] == [
        {"__typename": "Ticket", "number": 1},
        {"__typename": "Ticket", "number": 2},
    ]


async def test_int_keys_outside_graphql_int_or_not_canonical_are_absent_without_a_request():
    fake_source, app = fake(entities(), (TICKET,))

    result = await fake_source.fetch(
        FetchRequest(TICKET, ("2147483648", "-2147483649", "99999999999", "-0", "007", " 7"), ("title",))
    )

    assert result == FetchResult()
    assert app.calls == []


async def test_int_keys_at_the_edges_of_graphql_int_are_sent():
    edges = (2**31 - 1, -(2**31), 0)
    fake_source, app = fake(entities(*({"number": n, "title": str(n)} for n in edges)), (TICKET,))

    result = await fake_source.fetch(FetchRequest(TICKET, tuple(map(str, edges)), ("title",)))

    assert app.bodies[0]["variables"]["representations"] == [
        {"__typename": "Ticket", "number": n} for n in edges
    ]
    assert result == FetchResult({str(n): {"number": n, "title": str(n)} for n in edges})


async def test_html_with_200_is_a_protocol_error():
    with pytest.raises(SourceProtocolError) as caught:
        await fetch(lambda body: HTMLResponse("<html>login</html>"), "E1")
    assert str(caught.value) == (
        "hr: POST /graphql answered HTTP 200 with a body that is not JSON (text/html)"
    )


@pytest.mark.parametrize(
    "response",
    [
        HTMLResponse("<h1>down</h1>", status_code=500),
        JSONResponse({"data": {"_entities": [{"id": "E1"}]}}, status_code=503),
        Response(b"", status_code=502),
    ],
)
async def test_5xx_is_unavailable_not_a_protocol_error(response):
    status = response.status_code
    with pytest.raises(SourceUnavailable) as caught:
        await fetch(lambda body: response, "E1")
    assert type(caught.value) is SourceUnavailable
    assert str(caught.value) == f"hr: POST /graphql answered HTTP {status}"


async def test_a_4xx_without_graphql_errors_is_a_protocol_error():
    with pytest.raises(SourceProtocolError) as caught:
        await fetch(lambda body: JSONResponse({"detail": "nope"}, status_code=404), "E1")
    assert str(caught.value) == "hr: POST /graphql answered HTTP 404"


@pytest.mark.parametrize("data", [{}, {"data": None}])
async def test_errors_without_data_fail_the_batch_with_the_message(data):
    answer = {**data, "errors": [{"message": "boom"}]}
    with pytest.raises(SourceUnavailable) as caught:
        await fetch(lambda body: JSONResponse(answer), "E1")
    assert type(caught.value) is SourceUnavailable
    assert str(caught.value) == "hr: the subgraph answered errors: boom"


async def test_several_errors_and_a_400_status():
    answer = {"errors": [{"message": "Cannot query field 'x'"}, {"message": "two"}, "three"]}
    with pytest.raises(SourceUnavailable) as caught:
        await fetch(lambda body: JSONResponse(answer, status_code=400), "E1")
    assert str(caught.value) == "hr: the subgraph answered errors: Cannot query field 'x' (and 2 more)"


async def test_an_error_without_a_message():
    with pytest.raises(SourceUnavailable) as caught:
        await fetch(lambda body: JSONResponse({"errors": [{"path": ["x"]}]}), "E1")
    assert str(caught.value) == "hr: the subgraph answered errors: an error without a message"


async def test_null_entities_with_errors_fail_the_batch():
    answer = {"data": {"_entities": None}, "errors": [{"message": "resolver crashed"}]}
    with pytest.raises(SourceUnavailable) as caught:
        await fetch(lambda body: JSONResponse(answer), "E1")
    assert str(caught.value) == "hr: the subgraph answered errors: resolver crashed"


async def test_partial_data_with_errors_gives_the_records_that_came_back():
    answer = {
        "data": {"_entities": [{"id": "E1", "name": "Ada"}, None]},
        "errors": [{"message": "E2 failed", "path": ["_entities", 1]}],
    }
    assert await fetch(lambda body: JSONResponse(answer), "E1", "E2") == FetchResult(
        {"E1": {"id": "E1", "name": "Ada"}}
    )


@pytest.mark.parametrize(
    "answer",
    [
        {"data": {"_entities": {"id": "E1"}}},
        {"data": {"_entities": "E1"}},
        {"data": {"_entities": None}},
        {"data": {}},
    ],
)
async def test_entities_not_a_list_is_a_protocol_error(answer):
    with pytest.raises(SourceProtocolError) as caught:
        await fetch(lambda body: JSONResponse(answer), "E1")
    assert str(caught.value) == "hr: the subgraph answered no _entities list"


@pytest.mark.parametrize(
    "answer", [[{"id": "E1"}], {"data": None}, {"data": [1]}, {"errors": []}, "data", None]
)
async def test_json_without_graphql_data_is_a_protocol_error(answer):
    with pytest.raises(SourceProtocolError) as caught:
        await fetch(lambda body: JSONResponse(answer), "E1")
    assert str(caught.value) == "hr: POST /graphql answered no GraphQL data"


async def test_entities_with_ids_nobody_asked_for_are_dropped():
    result = await fetch(
        entities(
            {"id": "E9", "name": "Mallory"},
            {"id": "E1", "name": "Ada"},
            {"name": "no id"},
            {"id": 2, "name": "an int id"},
        ),
        "E1",
        "E3",
    )
    assert result == FetchResult({"E1": {"id": "E1", "name": "Ada"}})


async def test_a_wrong_typed_field_makes_only_that_record_invalid():
    result = await fetch(
        entities(
            {"id": "E1", "annualSalary": "12.50"},
            {"id": "E2", "annualSalary": "lots"},
            {"id": "E3", "annualSalary": None},
        ),
        "E1",
        "E2",
        "E3",
        fields=("annualSalary",),
    )
    assert result == FetchResult(
        records={
            "E1": {"id": "E1", "annualSalary": Decimal("12.50")},
            "E3": {"id": "E3", "annualSalary": None},
        },
        invalid={"E2": "annualSalary: expected Decimal, got 'lots'"},
    )


async def test_a_json_number_with_a_fraction_is_read_as_an_exact_decimal():
    result = await fetch(
        lambda body: Response(
            b'{"data": {"_entities": [{"id": "E1", "annualSalary": 0.1}]}}',
            media_type="application/json",
        ),
        "E1",
        fields=("annualSalary",),
    )
    assert result == FetchResult({"E1": {"id": "E1", "annualSalary": Decimal("0.1")}})
    assert str(result.records["E1"]["annualSalary"]) == "0.1"


async def test_null_entities_are_skipped():
    result = await fetch(entities(None, {"id": "E2", "name": "Bo"}, None, "E3", 7), "E1", "E2", "E3")
    assert result == FetchResult({"E2": {"id": "E2", "name": "Bo"}})


async def test_the_same_id_twice_trusts_neither():
    result = await fetch(entities({"id": "E1", "name": "Ada"}, {"id": "E1", "name": "Eve"}), "E1")
    assert result == FetchResult(invalid={"E1": "id: the system returned 'E1' twice"})


async def test_a_subgraph_that_is_down_is_unavailable():
    port = closed_port()
    down = source(None, [EMPLOYEE], url=f"http://127.0.0.1:{port}/graphql")

    with pytest.raises(SourceUnavailable) as caught:
        await down.fetch(FetchRequest(EMPLOYEE, ("E1",), ("name",)))
    assert type(caught.value) is SourceUnavailable
    assert str(caught.value).startswith("hr: ConnectError: ")
    assert f"(POST http://127.0.0.1:{port}/graphql)" in str(caught.value)
    await down.aclose()


async def test_a_slow_subgraph_times_out():
    async def slow(request: Request) -> Response:
        await asyncio.sleep(1)
        return JSONResponse({"data": {"_entities": []}})

    app = Starlette(routes=[Route("/graphql", slow, methods=["POST"])])
    async with serving(app) as base:
        slow_source = source(None, [EMPLOYEE], url=f"{base}/graphql", http_timeout=0.1)
        with pytest.raises(SourceTimeout) as caught:
            await slow_source.fetch(FetchRequest(EMPLOYEE, ("E1",), ("name",)))
        await slow_source.aclose()
    assert str(caught.value).startswith("hr: ReadTimeout")


# --- discovery garbage --------------------------------------------------------------------


async def test_discovery_against_a_closed_port_is_unavailable():
    with pytest.raises(SourceUnavailable) as caught:
        await discover_record_types("hr", f"http://127.0.0.1:{closed_port()}/graphql")
    assert type(caught.value) is SourceUnavailable
    assert str(caught.value).startswith("hr: ConnectError: ")


@pytest.mark.parametrize(
    "answer",
    [{"data": {"_service": None}}, {"data": {"_service": {"sdl": 3}}}, {"data": {}}],
)
async def test_discovery_without_an_sdl_is_a_protocol_error(answer):
    app = fake_subgraph(lambda body: JSONResponse(answer))
    with pytest.raises(SourceProtocolError) as caught:
        await discover_record_types("hr", FAKE_URL, transport=asgi(app))
    assert str(caught.value) == "hr: the subgraph answered _service without an sdl"


async def test_discovery_of_a_subgraph_without_entities():
    app = fake_subgraph(lambda body: JSONResponse({"data": {"_service": {"sdl": "type Query { a: Int }"}}}))
    with pytest.raises(ValueError) as caught:
        await discover_record_types("hr", FAKE_URL, transport=asgi(app))
    assert str(caught.value) == NO_ENTITY


async def test_discovery_of_a_plain_graphql_server_fails_with_its_error():
    answer = {"errors": [{"message": "Cannot query field '_service' on type 'Query'."}]}
    app = fake_subgraph(lambda body: JSONResponse(answer, status_code=400))
    with pytest.raises(SourceUnavailable) as caught:
        await discover_record_types("hr", FAKE_URL, transport=asgi(app))
    assert str(caught.value) == (
        "hr: the subgraph answered errors: Cannot query field '_service' on type 'Query'."
    )


async def test_post_query_returns_data_and_errors():
    answer = {"data": {"a": 1}, "errors": [{"message": "partial"}]}
    app = fake_subgraph(lambda body: JSONResponse(answer))
    async with httpx.AsyncClient(transport=asgi(app)) as client:
        data, errors = await post_query("hr", client, FAKE_URL, "{ a }", {"x": 1})
    assert (data, errors) == ({"a": 1}, [{"message": "partial"}])
    assert app.bodies == [{"query": "{ a }", "variables": {"x": 1}}]


# --- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "url is missing: the subgraph's GraphQL endpoint"),
        ({"url": ""}, "url is missing: the subgraph's GraphQL endpoint"),
        ({"url": 8103}, "url is missing: the subgraph's GraphQL endpoint"),
        ({"url": "ftp://hr.test/graphql"}, "url must be an http(s) URL, got 'ftp://hr.test/graphql'"),
        ({"url": "hr.test/graphql"}, "url must be an http(s) URL, got 'hr.test/graphql'"),
        ({"url": "http:///graphql"}, "url must be an http(s) URL, got 'http:///graphql'"),
        (
            {"url": HR_URL, "api_key": "x", "base_url": "y"},
            "unknown option(s) ['api_key', 'base_url'] for a graphql system; known: api_key_header, "
            "auth, http_timeout, url",
        ),
        ({"url": HR_URL, "http_timeout": 0}, "http_timeout must be a positive number of seconds, got 0"),
        ({"url": HR_URL, "http_timeout": -1.5}, "http_timeout must be a positive number of seconds, got -1.5"),
        ({"url": HR_URL, "http_timeout": "30"}, "http_timeout must be a positive number of seconds, got '30'"),
        ({"url": HR_URL, "http_timeout": True}, "http_timeout must be a positive number of seconds, got True"),
    ],
)
def test_bad_system_options_are_refused(options, message):
    with pytest.raises(ValueError) as caught:
        GraphQLSource("hr", options, [EMPLOYEE], {})
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "url", ["http://admin:hunter2-do-not-leak@hr.test/graphql", "ftp://u:hunter2-do-not-leak@hr.test/"]
)
def test_a_url_with_credentials_is_refused_without_echoing_them(url):
    with pytest.raises(ValueError) as caught:
        GraphQLSource("hr", {"url": url}, [EMPLOYEE], {})
    assert str(caught.value) == "url must not carry credentials"
    assert "hunter2" not in str(caught.value)


async def test_discovery_checks_the_url_too():
    with pytest.raises(ValueError) as caught:
        await discover_record_types("hr", "http://admin:hunter2@hr.test/graphql")
    assert str(caught.value) == "url must not carry credentials"


@pytest.mark.parametrize(
    ("record_type", "message"),
    [
        (
            replace(EMPLOYEE, options={"path": "/x"}),
            "types.Employee: unknown option(s) ['path'] for a graphql system; known: remote_type",
        ),
        (
            replace(EMPLOYEE, options={"remote_type": "Staff Member"}),
            "types.Employee: remote_type must be a GraphQL type name, got 'Staff Member'",
        ),
        (
            replace(EMPLOYEE, fields=(*EMPLOYEE.fields, FieldSpec("x", source_name="x-y"))),
            "types.Employee: field x maps to 'x-y', not a GraphQL field name",
        ),
    ],
)
def test_bad_type_options_are_refused(record_type, message):
    with pytest.raises(ValueError) as caught:
        GraphQLSource("hr", {"url": HR_URL}, [record_type], {})
    assert str(caught.value) == message


def test_good_options_are_kept():
    good = GraphQLSource("hr", {"url": "https://hr.test/graphql", "http_timeout": 2}, [EMPLOYEE], {})
    assert good.url == "https://hr.test/graphql"
    assert good.record_types == (EMPLOYEE,)
    assert good.client.timeout == httpx.Timeout(2.0)


# --- credentials ---------------------------------------------------------------------------


async def test_the_key_goes_on_discovery_and_every_fetch(world, hr_types):
    recorder = Recorder(create_hr_app(world, api_key=HR_KEY))
    seen: list[str | None] = []

    async def keys(scope, receive, send):
        seen.append(dict(scope["headers"]).get(b"x-api-key", b"").decode() or None)
        await recorder(scope, receive, send)

    await discover_record_types("hr", HR_URL, transport=asgi(keys), headers=HR_HEADERS)
    hr_source = source(asgi(keys), hr_types.values())
    result = await hr_source.fetch(FetchRequest(hr_types["Employee"], ("EMP-0001",), ("annualSalary",)))
    await hr_source.aclose()
    assert seen == [HR_KEY, HR_KEY]
    assert result.records["EMP-0001"]["annualSalary"] is not None


async def test_the_demo_subgraph_refuses_a_wrong_key_and_the_error_does_not_show_it(world, hr_types):
    app = create_hr_app(world, api_key=HR_KEY)
    with pytest.raises(SourceUnavailable) as refused:
        await discover_record_types("hr", HR_URL, transport=asgi(app))
    assert str(refused.value) == "hr: POST /graphql answered HTTP 401: the system refused our credentials"

    wrong = GraphQLSource(
        "hr", {"url": HR_URL, "auth": "api_key"}, list(hr_types.values()),
        {"api_key": "not-the-key"}, transport=asgi(app),
    )
    with pytest.raises(SourceUnavailable) as caught:
        await wrong.fetch(FetchRequest(hr_types["Employee"], ("EMP-0001",), ("name",)))
    await wrong.aclose()
    assert "refused our credentials" in str(caught.value) and "not-the-key" not in str(caught.value)


@pytest.mark.parametrize(
    ("options", "secrets", "problem"),
    [
        ({"auth": "basic"}, {"api_key": "k"}, "auth must be one of api_key, got 'basic'"),
        ({"auth": "api_key"}, {}, "auth = 'api_key' needs the secret 'api_key' in the system's credentials"),
        ({"auth": "api_key", "api_key_header": "X Key"}, {"api_key": "k"},
         "api_key_header must be an HTTP header name, got 'X Key'"),
    ],
)
def test_bad_credentials_options_are_refused(options, secrets, problem):
    with pytest.raises(ValueError) as caught:
        GraphQLSource("hr", {"url": HR_URL, **options}, [EMPLOYEE], secrets)
    assert str(caught.value) == problem
