"""Field-level scopes through the real app: what each scope set sees, and that no path
(aliases, fragments, nested selections, node, _entities, sourceRecord, introspection)
reaches a field without its scope."""

from __future__ import annotations

import httpx
import pytest

from gateway.app import create_app
from gateway.auth import scopes as gateway_scopes
from resolvers.ids import global_id
from resolvers.schema import build_schema
from resolvers.sources.catalog import SourceCatalog
from sources.base import FetchRequest, FetchResult, Source, collect
from tests.callers import fetch_token, provision_tester
from tests.conftest import make_settings
from tests.record_types import HR_EMPLOYEE, ORDERED_ON, sales_order
from tests.support import POST, counts, sale

READ, POST_SCOPE, STAT = "ledger:read", "ledger:post", "statistical:read"
CRM, HR, HR_SENSITIVE = "source:crm:read", "source:hr:read", "source:hr:sensitive"

EMPLOYEE = HR_EMPLOYEE


class FakeSource(Source):
    def __init__(self, name, rows):
        self.name = name
        self.rows = rows
        self.calls: list[FetchRequest] = []

    async def fetch(self, request: FetchRequest) -> FetchResult:
        self.calls.append(request)
        return collect(request, [self.rows[i] for i in request.ids if i in self.rows])


class Client:
    """The tester (allowed every scope) with a token for exactly `scopes`, from the app's
    own /oauth/token; None: every scope."""

    def __init__(self, http, party):
        self.http = http
        self.party = party
        self.tokens: dict[frozenset[str] | None, str] = {}

    async def __call__(self, query, variables=None, scopes=None):
        assert scopes is None or scopes, "a token carries at least one scope"
        key = None if scopes is None else frozenset(scopes)
        if key not in self.tokens:
            wanted = None if key is None else " ".join(sorted(key))
            self.tokens[key] = await fetch_token(self.http, self.party, "ACME", wanted)
        response = await self.http.post("/graphql", json={"query": query, "variables": variables or {}},
                                        headers={"Authorization": f"Bearer {self.tokens[key]}"})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def crm():
    return FakeSource("crm", {"SO-1": {"id": "SO-1", "amount": "100.00", "customer_id": "C1",
                                       "ordered_on": "2026-03-01"}})


@pytest.fixture
def hr():
    return FakeSource("hr", {"E1": {"id": "E1", "name": "Ada", "annualSalary": "120000.00"}})


@pytest.fixture
async def app(world, crm, hr):
    catalog = SourceCatalog.of({"crm": crm, "hr": hr}, [sales_order(ORDERED_ON), EMPLOYEE])
    return create_app(make_settings(), db=world.db, sources=catalog)


@pytest.fixture
async def client(app, world):
    party = await provision_tester(world.db, ["crm", "hr"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield Client(http, party)


@pytest.fixture
async def posted(client, world):
    """One sale linked to crm SO-1 and hr E1, and one statistical entry (headcount 3)."""
    lines = [{"account": "1100", "debit": "10.00",
              "sources": [{"system": "crm", "recordType": "SalesOrder", "recordId": "SO-1"},
                          {"system": "hr", "recordType": "Employee", "recordId": "E1"}]},
             {"account": "4000", "credit": "10.00"}]
    result = await client(POST, {"input": sale(lines=lines), "key": "k1"})
    assert "errors" not in result, result
    stat = {"journal": "GJ", "date": "2026-03-31", "lines": [{"account": "9000", "quantity": "3"}]}
    result = await client(POST, {"input": stat, "key": "k2"})
    assert "errors" not in result, result
    return result


def forbidden(path, *scopes, where):
    return {"message": f"Missing scope {' '.join(scopes)} for {where}", "path": path,
            "extensions": {"code": "FORBIDDEN", "scopes": list(scopes)}}


def errors_of(result):
    return sorted(
        ({k: e[k] for k in ("message", "path", "extensions")} for e in result.get("errors", [])),
        key=lambda e: [str(p) for p in e["path"] or []],
    )


# --- the vocabulary ----------------------------------------------------------------------------


async def test_every_scope_the_schema_requires_can_be_granted_to_a_token():
    # The demo's schema (five systems, HR's sensitive salary): whatever a field demands, the
    # authorization server must know how to grant, or no token could ever read it.
    from gateway.demo.sources import schema_catalog
    from resolvers.schema import build_schema
    from resolvers.scopes import all_scopes, field_scopes

    catalog = await schema_catalog()
    try:
        required = all_scopes(field_scopes(build_schema(catalog)._schema))
    finally:
        await catalog.aclose()
    known = gateway_scopes.known_scopes(catalog.sources)
    assert required <= known, sorted(required - known)
    assert {"ledger:read", "ledger:post", "statistical:read", "source:hr:sensitive"} <= required


def test_the_sdl_carries_the_scopes():
    catalog = SourceCatalog.of({}, [sales_order(), EMPLOYEE])
    sdl = build_schema(catalog).as_str()
    assert 'import: ["@key", "@requiresScopes"]' in sdl
    assert 'type Account implements Node @key(fields: "id") @requiresScopes(scopes: [["ledger:read"]])' in sdl
    assert 'quantity: Decimal @requiresScopes(scopes: [["statistical:read"]])' in sdl
    assert 'type HrEmployee implements SourceRecord @requiresScopes(scopes: [["source:hr:read"]])' in sdl
    # Sensitive fields are nullable, so a caller without the scope gets the rest of the record.
    assert 'annualSalary: Decimal @requiresScopes(scopes: [["source:hr:sensitive"]])' in sdl
    assert "@requiresScopes(scopes: [[\"ledger:post\"]])" in sdl.split("type Mutation")[1].split("}")[0]


# --- table: what each scope set gets -----------------------------------------------------------

LINES = """
{ journalEntries(first: 5) { edges { node { number lines { debit quantity } } } } }
"""

CASES = [
    # (name, scopes, query, expected data, expected errors)
    ("everything", {READ, STAT}, LINES,
     {"journalEntries": {"edges": [
         {"node": {"number": "JE-0000001", "lines": [{"debit": "10.00", "quantity": None},
                                                       {"debit": "0.00", "quantity": None}]}},
         {"node": {"number": "JE-0000002", "lines": [{"debit": "0.00", "quantity": "3"}]}}]}},
     []),
    ("no statistical:read: quantities null", {READ}, LINES,
     {"journalEntries": {"edges": [
         {"node": {"number": "JE-0000001", "lines": [{"debit": "10.00", "quantity": None},
                                                       {"debit": "0.00", "quantity": None}]}},
         {"node": {"number": "JE-0000002", "lines": [{"debit": "0.00", "quantity": None}]}}]}},
     [forbidden(["journalEntries", "edges", e, "node", "lines", i, "quantity"], STAT,
                where="JournalLine.quantity") for e, i in ((0, 0), (0, 1), (1, 0))]),
    ("no ledger scope: the root field nulls", {CRM}, "{ entity { code } }",
     None, [forbidden(["entity"], READ, where="Query.entity")]),
    ("nullable root field: the rest arrives", {CRM},
     '{ account(code: "1100") { code } '
     'sourceRecord(system: "crm", recordType: "SalesOrder", recordId: "SO-1") { recordId } }',
     {"account": None, "sourceRecord": {"recordId": "SO-1"}},
     [forbidden(["account"], READ, where="Query.account")]),
    ("aliases do not escape", {READ},
     '{ a: account(code: "9000") { code } b: account(code: "9000") { c: code bal: balance } }',
     {"a": {"code": "9000"}, "b": None},
     [forbidden(["b", "bal"], STAT, where="Account.balance of a statistical account")]),
    ("fragments and inline fragments do not escape", {READ},
     "query { journalEntries(first: 5) { edges { node { ...E } } } }"
     " fragment E on JournalEntry { number lines { ... on JournalLine { q: quantity } } }",
     {"journalEntries": {"edges": [
         {"node": {"number": "JE-0000001", "lines": [{"q": None}, {"q": None}]}},
         {"node": {"number": "JE-0000002", "lines": [{"q": None}]}}]}},
     [forbidden(["journalEntries", "edges", e, "node", "lines", i, "q"], STAT,
                where="JournalLine.quantity") for e, i in ((0, 0), (0, 1), (1, 0))]),
    ("trial balance quantities", {READ},
     '{ trialBalance(from: "2026-03-31", to: "2026-03-31", accountType: STATISTICAL) { rows { net quantity } } }',
     {"trialBalance": {"rows": [{"net": "0.00", "quantity": None}]}},
     [forbidden(["trialBalance", "rows", 0, "quantity"], STAT, where="TrialBalanceRow.quantity")]),
]


@pytest.mark.parametrize("name,scopes,query,data,errors", CASES, ids=[c[0] for c in CASES])
async def test_each_scope_set_sees_exactly_what_it_may(client, posted, name, scopes, query, data, errors):
    result = await client(query, scopes=scopes)
    assert result["data"] == data
    assert errors_of(result) == sorted(errors, key=lambda e: [str(p) for p in e["path"]])


# --- source records ---------------------------------------------------------------------------

RECORDS = """
{ journalEntries(first: 1) { edges { node { lines { sources { recordId
    record { recordId ... on CrmSalesOrder { amount } ... on HrEmployee { name annualSalary } } } } } } } }
"""


def _records(result):
    return [s["record"] for s in result["data"]["journalEntries"]["edges"][0]["node"]["lines"][0]["sources"]]


async def test_source_records_need_their_systems_scope(client, posted, hr):
    result = await client(RECORDS, scopes={READ, CRM})
    assert _records(result) == [{"recordId": "SO-1", "amount": "100.00"}, None]
    path = ["journalEntries", "edges", 0, "node", "lines", 0, "sources", 1, "record"]
    assert errors_of(result) == [forbidden(path, HR, where="SourceLink.record")]
    assert hr.calls == []  # the system is never asked


async def test_sensitive_hr_fields_need_the_sensitive_scope(client, posted, hr):
    result = await client(RECORDS, scopes={READ, CRM, HR})
    assert _records(result)[1] == {"recordId": "E1", "name": "Ada", "annualSalary": None}
    path = ["journalEntries", "edges", 0, "node", "lines", 0, "sources", 1, "record", "annualSalary"]
    assert errors_of(result) == [forbidden(path, HR_SENSITIVE, where="HrEmployee.annualSalary")]
    result = await client(RECORDS, scopes={READ, CRM, HR, HR_SENSITIVE})
    assert _records(result)[1] == {"recordId": "E1", "name": "Ada", "annualSalary": "120000.00"}
    assert "errors" not in result


async def test_source_record_entry_point_is_guarded(client, posted, hr):
    query = ('{ r: sourceRecord(system: "hr", recordType: "Employee", recordId: "E1") '
             "{ ... on HrEmployee { name annualSalary } ledgerLines { edges { node { debit } } } } }")
    result = await client(query, scopes={READ, CRM})
    assert result["data"] == {"r": None}
    assert errors_of(result) == [forbidden(["r"], HR, where="Query.sourceRecord")]
    assert hr.calls == []
    # With the system's scope but not the ledger's, the lines' fields are refused; they are
    # non-null, so the null propagates to the (nullable) record, per GraphQL.
    result = await client(query, scopes={HR, HR_SENSITIVE})
    assert result["data"] == {"r": None}
    assert errors_of(result) == [
        forbidden(["r", "ledgerLines", "edges", 0, "node", "debit"], READ, where="JournalLine.debit")
    ]


# --- node and _entities -------------------------------------------------------------------------


async def test_node_and_entities_go_through_the_same_checks(client, posted, world):
    async with world.db.session(world.acme) as session:
        from sqlalchemy import select

        from ledger.model import JournalLine

        line_pk = await session.scalar(select(JournalLine.id).where(JournalLine.quantity.is_not(None)))
    line_id = global_id("JournalLine", line_pk)
    node = f'{{ node(id: "{line_id}") {{ id ... on JournalLine {{ quantity account {{ code }} }} }} }}'
    result = await client(node, scopes={READ})
    assert result["data"] == {"node": {"id": line_id, "quantity": None, "account": {"code": "9000"}}}
    assert errors_of(result) == [forbidden(["node", "quantity"], STAT, where="JournalLine.quantity")]
    result = await client(node, scopes={STAT})
    assert result["data"] == {"node": None}
    assert errors_of(result) == [forbidden(["node"], READ, where="Query.node")]

    entities = ('query($r: [_Any!]!) { _entities(representations: $r) '
                "{ ... on JournalLine { id quantity } } }")
    variables = {"r": [{"__typename": "JournalLine", "id": line_id}]}
    result = await client(entities, variables, scopes={READ})
    assert result["data"] == {"_entities": [{"id": line_id, "quantity": None}]}
    assert errors_of(result) == [forbidden(["_entities", 0, "quantity"], STAT, where="JournalLine.quantity")]
    result = await client(entities, variables, scopes={STAT, CRM})
    assert result["data"] is None  # `_entities: [_Entity]!`
    assert errors_of(result) == [forbidden(["_entities"], READ, where="Query._entities")]


# --- mutations ------------------------------------------------------------------------------------


async def test_a_mutation_without_ledger_post_writes_nothing(client, world):
    before = await counts(world.db, world.acme)
    result = await client(POST, {"input": sale(), "key": "nope"}, scopes={READ, STAT, CRM})
    assert result["data"] is None
    assert errors_of(result) == [
        forbidden(["postJournalEntry"], POST_SCOPE, where="Mutation.postJournalEntry")
    ]
    assert await counts(world.db, world.acme) == before
    result = await client(POST, {"input": sale(), "key": "yes"}, scopes={READ, POST_SCOPE, STAT})
    assert "errors" not in result, result
    assert await counts(world.db, world.acme) != before


# --- introspection ------------------------------------------------------------------------------

INTROSPECT = """
{ __schema { mutationType { name } types { name fields { name } } }
  hr: __type(name: "HrEmployee") { name fields { name } }
  line: __type(name: "JournalLine") { fields { name } } }
"""


async def test_introspection_shows_only_what_the_scopes_allow(client):
    result = await client(INTROSPECT, scopes={READ, HR})
    assert "errors" not in result, result
    schema = result["data"]["__schema"]
    types = {t["name"]: t for t in schema["types"]}
    assert schema["mutationType"] is None
    assert "PostJournalEntryPayload" not in types and "CrmSalesOrder" not in types
    assert "HrEmployee" in types and "annualSalary" not in {f["name"] for f in types["HrEmployee"]["fields"]}
    assert "quantity" not in {f["name"] for f in types["JournalLine"]["fields"]}
    query_fields = {f["name"] for f in types["Query"]["fields"]}
    assert {"account", "sourceRecord", "node"} <= query_fields
    assert result["data"]["hr"]["name"] == "HrEmployee"
    assert "annualSalary" not in {f["name"] for f in result["data"]["hr"]["fields"]}

    result = await client(INTROSPECT, scopes={CRM})
    types = {t["name"]: t for t in result["data"]["__schema"]["types"]}
    assert "HrEmployee" not in types and "JournalLine" not in types and "CrmSalesOrder" in types
    # Nothing leads to the ledger's types: not even their connections and inputs are listed.
    assert not {"AccountConnection", "JournalEntryEdge", "JournalEntryInput", "Entity"} & set(types)
    assert result["data"]["hr"] is None and result["data"]["line"] is None
    query_fields = {f["name"] for f in types["Query"]["fields"]}
    assert "account" not in query_fields and "sourceRecord" in query_fields

    # Every scope: everything, as before.
    result = await client(INTROSPECT)
    assert result["data"]["__schema"]["mutationType"] == {"name": "Mutation"}
    assert "annualSalary" in {f["name"] for f in result["data"]["hr"]["fields"]}


async def test_introspection_can_be_turned_off(world):
    schema = build_schema(introspection="off")
    from resolvers.context import RequestContext
    from resolvers.principal import EntityInfo, Principal

    every = gateway_scopes.known_scopes([])
    principal = Principal("t", EntityInfo(world.acme, "ACME", "Acme", "USD", 2), every)
    result = await schema.execute("{ __schema { queryType { name } } }",
                                  context_value=RequestContext(world.db, principal))
    assert result.data is None
    assert result.errors[0].extensions["code"] == "FORBIDDEN"
    with pytest.raises(ValueError):
        build_schema(introspection="maybe")


def test_every_field_declares_its_scopes_but_the_documented_few():
    """A new field without a scope fails here: the plumbing reachable only through guarded
    fields and `sourceRecord` (checked per system) are the only exceptions; Federation's
    `_service` needs `federation:compose` (resolvers/scopes.py)."""
    import graphql

    schema = build_schema(SourceCatalog.of({}, [sales_order(), EMPLOYEE]))
    table = schema.scope_policy.table
    plumbing = ("Connection", "Edge")
    unguarded = {
        (name, field)
        for name, gql_type in schema._schema.type_map.items()
        if isinstance(gql_type, graphql.GraphQLObjectType) and not name.startswith("__")
        and not name.endswith(plumbing) and name not in ("PageInfo", "_Service")
        for field in gql_type.fields
        if (name, field) not in table
    }
    assert unguarded == {("Query", "sourceRecord")}
    assert table[("Query", "_service")] == {"federation:compose"}
