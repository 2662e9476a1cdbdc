"""Every demo role sees exactly what its scopes allow: a table of roles × probes, run through
the real app on the demo ledger with the five demo systems running, each role with the
credentials `ledgergate demo` prints and a token from the app's own /oauth/token.

The expected table is written out by hand (not derived from the roles' scopes), so that a
change to a role or to a field's scope shows up here as a difference to look at.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.demo.clients import DEMO_ROLES, provision_demo_clients
from gateway.demo.sources import demo_systems
from gateway.demo.world import build_demo
from ledger.model import JournalEntry
from ledger.tenancy import ALL_ENTITIES
from sources.demo.generate import generate_world
from sources.demo.services import SERVICES
from tests.callers import GraphQLClient, Party
from tests.conftest import fresh_database, make_settings

SEED, SCALE = 7, 0.05
YEAR = '(from: "2026-01-01", to: "2026-12-31")'

# What each role may do; every probe not listed must be refused.
EXPECTED = {
    "auditor": {"ledger", "statistics", "crm", "pos", "hr", "hr-salary", "usage", "ap-bill",
                "ap-vendor", "ap-payment", "audit"},
    "bi-reader": {"ledger", "statistics", "crm", "pos", "hr", "usage", "ap-bill", "ap-vendor",
                  "ap-payment"},
    "bill-payments": {"ap-bill", "ap-vendor", "ap-payment"},
    "poster": {"ledger", "post"},
}

# probe → (entity, the record a sourceRecord probe reads: (system, record type)).
RECORD_PROBES = {
    "crm": ("SOFTCO", ("crm", "SalesOrder")),
    "pos": ("HOTELCO", ("pos", "Receipt")),
    "hr": ("SOFTCO", ("hr", "Employee")),
    "usage": ("SOFTCO", ("usage", "UsageRecord")),
    "ap-bill": ("SOFTCO", ("ap", "Bill")),
    "ap-vendor": ("SOFTCO", ("ap", "Vendor")),
    "ap-payment": ("SOFTCO", ("ap", "Payment")),
}
PROBES = ["ledger", "statistics", *RECORD_PROBES, "hr-salary", "audit", "post"]

POST = """
mutation Post($key: String!) {
  postJournalEntry(idempotencyKey: $key, input: {
    journal: "GJ", date: "2026-06-30", description: "Accrued legal fees",
    lines: [{ account: "6500", debit: "1200.00", dimensions: [{ kind: DEPARTMENT, code: "FIN" }] },
            { account: "2100", credit: "1200.00" }]
  }) { entry { number } }
}
"""


@pytest.fixture(scope="module")
async def demo(tmp_path_factory):
    """The demo ledger and systems, and one client per demo role (module-wide)."""
    folder = tmp_path_factory.mktemp("roles")
    async with fresh_database(folder) as db:
        await build_demo(db, seed=SEED, scale=SCALE)
        records = generate_world(SEED, SCALE)
        ports = dict.fromkeys(SERVICES, 0)
        async with demo_systems(records, pos_db_path=folder / "pos.db", ports=ports) as (_, catalog):
            clients = await provision_demo_clients(db, catalog.sources)
            app = create_app(make_settings(), db=db, sources=catalog)
            # The same gateway with the compiled path off: every role must get the same bytes.
            plain = create_app(replace(make_settings(), compiled=False), db=db, sources=catalog)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http, \
                    httpx.AsyncClient(transport=httpx.ASGITransport(app=plain), base_url="http://t") as slow:
                callers = {c.role: GraphQLClient(http, Party(c.client_id, c.secret)) for c in clients}
                callers["plain"] = slow
                yield db, records.index(), clients, callers
            await catalog.aclose()


def a_record(index, key, entity: str) -> str:
    """A record of `entity`'s own: another company's is NOT_FOUND to it, whatever the role."""
    return next(i for i, record in index[key].items() if record.company == entity)


def probe_query(probe: str, index) -> tuple[str, str, dict]:
    """(entity, query, variables) of a probe."""
    if probe == "ledger":
        return "SOFTCO", "{ entity { code } }", {}
    if probe == "statistics":
        return "HOTELCO", f"{{ trialBalance{YEAR[:-1]}, accountType: STATISTICAL) {{ rows {{ quantity }} }} }}", {}
    if probe == "hr-salary":
        employee = a_record(index, ("hr", "Employee"), "SOFTCO")
        return "SOFTCO", (
            f'{{ r: sourceRecord(system: "hr", recordType: "Employee", recordId: "{employee}") '
            "{ recordId ... on HrEmployee { annualSalary } } }"
        ), {}
    if probe == "audit":  # the token requests of these tests are events already
        return "SOFTCO", "{ auditEvents(first: 1) { edges { node { event occurredAt } } } }", {}
    if probe == "post":
        return "SOFTCO", POST, {"key": f"roles-{next(_keys)}"}
    entity, (system, record_type) = RECORD_PROBES[probe]
    record_id = a_record(index, (system, record_type), entity)
    return entity, (
        f'{{ r: sourceRecord(system: "{system}", recordType: "{record_type}", recordId: "{record_id}") '
        "{ recordId } }"
    ), {}


_keys = itertools.count()


def allowed(result: dict) -> bool:
    """Answered in full: no error, and no null where the probe asked for a value."""
    if result.get("errors"):
        codes = {e["extensions"]["code"] for e in result["errors"]}
        assert codes == {"FORBIDDEN"}, result["errors"]  # refused for scopes, nothing else
        return False

    def full(value) -> bool:
        if isinstance(value, dict):
            return all(full(v) for v in value.values())
        if isinstance(value, list):
            return bool(value) and all(full(v) for v in value)
        return value is not None

    assert full(result["data"]), result
    return True


async def entries(db) -> int:
    async with db.session(None) as session:
        return await session.scalar(
            select(func.count()).select_from(JournalEntry).execution_options(**ALL_ENTITIES)
        )


def test_the_table_covers_every_demo_role():
    assert set(EXPECTED) == {role.name for role in DEMO_ROLES}
    assert all(found <= set(PROBES) for found in EXPECTED.values())


@pytest.mark.parametrize("role", sorted(EXPECTED))
async def test_each_demo_role_sees_exactly_what_its_scopes_allow(demo, role):
    db, index, _, callers = demo
    callers = {name: c for name, c in callers.items() if name != "plain"}
    seen = set()
    for probe in PROBES:
        entity, query, variables = probe_query(probe, index)
        before = await entries(db)
        result = await callers[role](query, variables, entity=entity)
        if allowed(result):
            seen.add(probe)
        written = await entries(db) - before
        assert written == (1 if probe in seen and probe == "post" else 0), (role, probe, result)
    assert seen == EXPECTED[role], f"{role}: allowed {sorted(seen)}, expected {sorted(EXPECTED[role])}"


@pytest.mark.parametrize("role", sorted(EXPECTED))
async def test_introspection_shows_each_role_only_its_types(demo, role):
    _, _, _, callers = demo
    result = await callers[role](
        '{ __schema { types { name } } employee: __type(name: "HrEmployee") { fields { name } } }',
        entity="SOFTCO",
    )
    assert "errors" not in result, result
    types = {t["name"] for t in result["data"]["__schema"]["types"]}
    ledger = "ledger" in EXPECTED[role]
    assert ("JournalEntry" in types) == ledger and ("TrialBalanceRow" in types) == ledger
    assert ("ApBill" in types) == ("ap-bill" in EXPECTED[role])
    assert ("CrmSalesOrder" in types) == ("crm" in EXPECTED[role])
    assert ("Mutation" in types) == ("post" in EXPECTED[role])
    assert ("AuditEvent" in types) == ("audit" in EXPECTED[role])
    employee = result["data"]["employee"]
    if "hr" not in EXPECTED[role]:
        assert employee is None
    else:
        assert ("annualSalary" in {f["name"] for f in employee["fields"]}) == ("hr-salary" in EXPECTED[role])


async def test_the_demo_prints_one_line_per_client_with_its_scopes(demo):
    _, _, clients, _ = demo
    pattern = re.compile(
        r"demo client (?P<role>[a-z-]+): client_id=(?P<id>lgc_[A-Za-z0-9_-]{16}) "
        r"client_secret=(?P<secret>[A-Za-z0-9_-]{43}) scopes=(?P<scopes>\S+( \S+)*)"
    )
    printed = {}
    for client in clients:
        match = pattern.fullmatch(client.line())
        assert match, client.line()
        printed[match["role"]] = match["scopes"].split(" ")
    assert printed["bill-payments"] == ["source:ap:read"]
    assert printed["poster"] == ["documents:read", "documents:write", "ledger:post", "ledger:read"]
    assert not any("documents:write" in s for role, s in printed.items() if role != "poster")
    assert all("documents:read" in printed[role] for role in ("auditor", "bi-reader", "poster"))
    assert "source:hr:sensitive" in printed["auditor"] and "source:hr:sensitive" not in printed["bi-reader"]
    assert not any("ledger:post" in s for role, s in printed.items() if role != "poster")


async def test_a_second_start_gives_every_demo_client_a_new_secret(demo):
    db, _, clients, callers = demo
    again = await provision_demo_clients(db, ["crm", "pos", "hr", "usage", "ap"])
    assert [c.client_id for c in again] == [c.client_id for c in clients]
    assert all(a.secret != c.secret for a, c in zip(again, clients, strict=True))
    http = callers["poster"].http
    old = await http.post("/oauth/token", data={"grant_type": "client_credentials", "entity": "SOFTCO"},
                          auth=(clients[0].client_id, clients[0].secret))
    assert old.status_code == 401 and old.json()["error"] == "invalid_client"
    new = await http.post("/oauth/token", data={"grant_type": "client_credentials", "entity": "SOFTCO"},
                          auth=(again[0].client_id, again[0].secret))
    assert new.status_code == 200
    # Put the module's callers back on working secrets for the tests that follow.
    for client in again:
        callers[client.role].party = Party(client.client_id, client.secret)
        callers[client.role]._tokens.clear()


# Big selections every role is refused some of: the compiled path must answer each role
# exactly as graphql-core does, FORBIDDEN nulls and all.
SAME_BYTES = [
    "{ journalEntries(first: 30) { edges { cursor node { id number date description journal state"
    " lines { lineNo debit credit currency quantity memo account { code name type unit }"
    " dimensions { kind code name } sources { system recordType recordId url } } } } } }",
    '{ trialBalance(from: "2026-01-01", to: "2026-06-30", groupBy: [DEPARTMENT]) { totalDebit'
    " totalCredit rows { account { code name type } dimensions { kind code } debit credit net quantity } } }",
    "{ journalEntries(first: 5) { edges { node { number lines { debit sources { recordId"
    " record { __typename recordId ... on HrEmployee { name annualSalary } ... on ApBill { id } } } } } } } }",
]


@pytest.mark.parametrize("role", sorted(EXPECTED))
async def test_the_compiled_path_answers_each_role_as_graphql_core_does(demo, role):
    _, _, _, callers = demo
    caller, plain = callers[role], callers["plain"]
    plans = caller.http._transport.app.state.schema.execution_context_class.plans
    served = plans.served
    for entity in ("SOFTCO", "HOTELCO"):
        headers = await caller.headers(entity)
        for query in SAME_BYTES:
            fast = await caller.post(query, entity=entity)
            slow = await plain.post("/graphql", json={"query": query, "variables": {}}, headers=headers)
            assert (fast.status_code, fast.content) == (slow.status_code, slow.content), (role, query)
            assert fast.status_code == 200
    # Where the role may read the ledger, builders served (part of) it.
    assert (plans.served > served) == ("ledger" in EXPECTED[role])


OTHER = {"SOFTCO": "HOTELCO", "HOTELCO": "SOFTCO"}


@pytest.mark.parametrize("system,record_type", [
    ("hr", "Employee"), ("pos", "Receipt"), ("ap", "Bill"), ("crm", "SalesOrder"),
    ("usage", "UsageRecord"), ("ap", "Vendor"),
])
async def test_the_auditor_of_one_company_cannot_read_the_others_records(demo, system, record_type):
    """As found from outside: a SOFTCO token read a HOTELCO employee with annualSalary, a
    HOTELCO receipt and a HOTELCO bill. Another company's record is NOT_FOUND, word for word
    as a record that does not exist, and no sensitive read is audited for it."""
    db, index, _, callers = demo
    fields = "recordId ... on HrEmployee { annualSalary }" if system == "hr" else "recordId"
    query = ('query($id: String!) { sourceRecord(system: "%s", recordType: "%s", recordId: $id) '
             "{ %s } }") % (system, record_type, fields)
    for reader in ("SOFTCO", "HOTELCO"):
        owners = {record.company for record in index[(system, record_type)].values()}
        if OTHER[reader] not in owners:
            continue  # this company has no such records (HOTELCO sells no subscriptions)
        foreign = a_record(index, (system, record_type), OTHER[reader])
        result = await callers["auditor"](query, {"id": foreign}, entity=reader)
        assert result["data"] == {"sourceRecord": None}
        [error] = result["errors"]
        assert error["extensions"]["code"] == "NOT_FOUND"
        assert error["message"] == f"{system}/{record_type}/{foreign} does not exist in {system}"
        missing = await callers["auditor"](query, {"id": foreign + "-NONE"}, entity=reader)
        assert missing["errors"][0]["message"] == error["message"].replace(foreign, foreign + "-NONE")


LINKED_POST = """
mutation Post($key: String!, $link: SourceLinkInput!) {
  postJournalEntry(idempotencyKey: $key, input: {
    journal: "GJ", date: "2026-06-30", description: "Receipt correction",
    lines: [{ account: "6500", debit: "10.00", dimensions: [{ kind: DEPARTMENT, code: "FIN" }],
              sources: [$link] },
            { account: "2100", credit: "10.00" }]
  }) { entry { number } }
}
"""


async def test_a_poster_cannot_link_its_entry_to_another_companys_record(demo):
    """As found from outside: a SOFTCO poster linked a SOFTCO entry to a HOTELCO receipt,
    which SourceLink.record then served to SOFTCO's readers."""
    db, index, _, callers = demo
    receipt = a_record(index, ("pos", "Receipt"), "HOTELCO")
    before = await entry_count(db, "SOFTCO")
    for link, message in [
        ({"system": "pos", "recordType": "Receipt", "recordId": receipt},
         f"pos/Receipt/{receipt} does not exist in pos"),
        ({"system": "pos", "recordType": "Receipt", "recordId": receipt, "url": "javascript:alert(1)"},
         "must be an absolute http or https URL"),
    ]:
        result = await callers["poster"](LINKED_POST, {"key": f"link-{next(_keys)}", "link": link},
                                         entity="SOFTCO")
        [error] = result["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert message in error["message"]
    assert await entry_count(db, "SOFTCO") == before


async def entry_count(db, code: str) -> int:
    from sqlalchemy import func, select

    from ledger.model import Entity, JournalEntry

    async with db.session(None) as session:
        entity_id = await session.scalar(
            select(Entity.id).where(Entity.code == code).execution_options(ledgergate_all_entities=True))
    async with db.session(entity_id) as session:
        return await session.scalar(select(func.count()).select_from(JournalEntry))
