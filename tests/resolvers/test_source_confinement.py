"""Source records are confined to the caller's entity, by the record loader, on every path:
another entity's record is answered exactly as a missing one, and nothing of it is audited
or fetched needlessly."""

import contextlib
import dataclasses

import httpx
import pytest
from sqlalchemy import select

from gateway.app import create_app
from ledger.model import AuditEvent
from resolvers.sources.catalog import SourceCatalog
from sources.base import FieldSpec, Ownership, RecordType
from sources.mock import MockSource
from tests.callers import tester_client
from tests.conftest import make_settings
from tests.support import POST, sale

EMPLOYEE = RecordType(
    system="hr", name="Employee", graphql_name="HrEmployee", key="id",
    fields=(FieldSpec("id", "ID", nullable=False), FieldSpec("company", "String"),
            FieldSpec("name", "String"), FieldSpec("salary", "Decimal", sensitive=True)),
    ownership=Ownership(field="company"),
)
# A point of sale run for BETA alone: its records carry no company.
RECEIPT = RecordType(
    system="pos", name="Receipt", graphql_name="PosReceipt", key="id",
    fields=(FieldSpec("id", "ID", nullable=False), FieldSpec("total", "Decimal")),
    ownership=Ownership(entity="BETA"),
)
PRODUCT = RecordType(
    system="catalog", name="Product", graphql_name="CatalogProduct", key="id",
    fields=(FieldSpec("id", "ID", nullable=False), FieldSpec("title", "String")),
    ownership=Ownership(shared=True),
)


@pytest.fixture
def systems():
    return {
        "hr": MockSource("hr", {"Employee": [
            {"id": "E-1", "company": "ACME", "name": "Ada", "salary": "90000.00"},
            {"id": "E-2", "company": "BETA", "name": "Bea", "salary": "80000.00"},
            {"id": "E-3", "name": "Nobody's"},  # no owner at all: no one's
        ]}),
        "pos": MockSource("pos", {"Receipt": [{"id": "R-1", "total": "12.50"}]}),
        "catalog": MockSource("catalog", {"Product": [{"id": "P-1", "title": "Widget"}]}),
    }


@contextlib.asynccontextmanager
async def gateway(world, systems, employee: RecordType):
    catalog = SourceCatalog.of(systems, [employee, RECEIPT, PRODUCT])
    app = create_app(make_settings(), db=world.db, sources=catalog)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield await tester_client(http, world.db, systems)


@pytest.fixture
async def gql(world, systems):
    async with gateway(world, systems, EMPLOYEE) as client:
        yield client


RECORD = """query($s: String!, $t: String!, $id: String!) {
  sourceRecord(system: $s, recordType: $t, recordId: $id) {
    recordId ... on HrEmployee { name salary } } }"""


async def record(gql, system, record_type, record_id, entity="ACME"):
    return await gql(RECORD, {"s": system, "t": record_type, "id": record_id}, entity=entity)


async def test_another_entitys_record_is_answered_exactly_as_a_missing_one(gql):
    own = await record(gql, "hr", "Employee", "E-1")
    assert own["data"]["sourceRecord"] == {"recordId": "E-1", "name": "Ada", "salary": "90000.00"}
    foreign = await record(gql, "hr", "Employee", "E-2")
    missing = await record(gql, "hr", "Employee", "E-9")
    nobodys = await record(gql, "hr", "Employee", "E-3")
    for answer, record_id in ((foreign, "E-2"), (missing, "E-9"), (nobodys, "E-3")):
        assert answer["data"] == {"sourceRecord": None}
        [error] = answer["errors"]
        assert error["extensions"] == {"code": "NOT_FOUND", "system": "hr"}
        assert error["message"] == f"hr/Employee/{record_id} does not exist in hr"
    beta = await record(gql, "hr", "Employee", "E-2", entity="BETA")
    assert beta["data"]["sourceRecord"]["name"] == "Bea"


async def test_the_owner_field_is_fetched_even_when_not_selected(gql, systems):
    await record(gql, "hr", "Employee", "E-2")
    [request] = systems["hr"].calls
    assert "company" in request.fields


async def test_a_per_entity_system_is_not_even_asked_for_another_entity(gql, systems):
    refused = await gql('{ sourceRecord(system: "pos", recordType: "Receipt", recordId: "R-1") { recordId } }')
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert refused["errors"][0]["message"] == "pos/Receipt/R-1 does not exist in pos"
    assert systems["pos"].calls == []
    served = await gql('{ sourceRecord(system: "pos", recordType: "Receipt", recordId: "R-1") { recordId } }',
                       entity="BETA")
    assert served["data"]["sourceRecord"] == {"recordId": "R-1"}


async def test_a_shared_record_type_serves_every_entity(gql):
    query = '{ sourceRecord(system: "catalog", recordType: "Product", recordId: "P-1") { recordId } }'
    for entity in ("ACME", "BETA"):
        assert (await gql(query, entity=entity))["data"]["sourceRecord"] == {"recordId": "P-1"}


LINKED = """query($n: String!) { journalEntry(number: $n) { lines { sources {
  recordId record { recordId ... on HrEmployee { name salary } } } } } }"""


async def test_a_link_to_another_entitys_record_resolves_to_null(gql):
    lines = [{"account": "1100", "debit": "5.00", "sources": [
        {"system": "hr", "recordType": "Employee", "recordId": "E-1"},
        {"system": "hr", "recordType": "Employee", "recordId": "E-2"}]},
        {"account": "4000", "credit": "5.00"}]
    posted = await gql(POST, {"input": sale(lines=lines, source=None), "key": "x"})
    number = posted["data"]["postJournalEntry"]["entry"]["number"]
    result = await gql(LINKED, {"n": number})
    sources = result["data"]["journalEntry"]["lines"][0]["sources"]
    assert sources == [
        {"recordId": "E-1", "record": {"recordId": "E-1", "name": "Ada", "salary": "90000.00"}},
        {"recordId": "E-2", "record": None},
    ]
    [error] = result["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["message"] == "hr/Employee/E-2 does not exist in hr"


async def test_a_sensitive_read_is_audited_only_for_the_callers_own_records(gql, world):
    await record(gql, "hr", "Employee", "E-2")  # BETA's: not found, nothing read
    await record(gql, "hr", "Employee", "E-1")
    async with world.db.session(None) as session:
        rows = list(await session.scalars(
            select(AuditEvent).where(AuditEvent.event == "sensitive_read")
            .execution_options(ledgergate_all_entities=True)))
    assert [(row.entity_id, row.detail["recordIds"]) for row in rows] == [(world.acme, ["E-1"])]


# --- verify_links: a linked record must exist, and be the posting entity's ---------------

VERIFIED = dataclasses.replace(EMPLOYEE, verify_links=True)


@pytest.fixture
async def verifying(world, systems):
    async with gateway(world, systems, VERIFIED) as client:
        yield client


def _linked(*record_ids):
    return sale(source=None, lines=[
        {"account": "1100", "debit": "5.00", "sources": [
            {"system": "hr", "recordType": "Employee", "recordId": r} for r in record_ids]},
        {"account": "4000", "credit": "5.00"}])


async def test_a_link_to_a_missing_or_foreign_record_is_refused_in_one_batch(verifying, systems, world):
    from tests.support import counts

    result = await verifying(POST, {"input": _linked("E-1", "E-2", "E-9", "E-1"), "key": "v"})
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["violations"] == [
        {"path": "lines[0].sources[1].recordId", "message": "hr/Employee/E-2 does not exist in hr"},
        {"path": "lines[0].sources[2].recordId", "message": "hr/Employee/E-9 does not exist in hr"},
    ]
    assert [sorted(call.ids) for call in systems["hr"].calls] == [["E-1", "E-2", "E-9"]]
    assert await counts(world.db, world.acme) == (0, 0, 0, 0)
    ok = await verifying(POST, {"input": _linked("E-1"), "key": "v2"})
    assert "errors" not in ok, ok


async def test_an_unreachable_system_refuses_the_posting(verifying, systems, world):
    from sources.errors import SourceUnavailable
    from tests.support import counts

    def down(_request):
        raise SourceUnavailable("hr", "connection refused")

    systems["hr"].handler = down
    result = await verifying(POST, {"input": _linked("E-1"), "key": "v3"})
    [error] = result["errors"]
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert await counts(world.db, world.acme) == (0, 0, 0, 0)


async def test_a_retry_of_a_posted_entry_gets_it_back_while_the_system_is_down(verifying, systems, world):
    """The check is for new postings: a client retrying a posting that went through (its
    answer was lost) must get its entry back, not SOURCE_UNAVAILABLE."""
    from sources.errors import SourceUnavailable
    from tests.support import counts

    posted = await verifying(POST, {"input": _linked("E-1"), "key": "retry"})
    number = posted["data"]["postJournalEntry"]["entry"]["number"]

    def down(_request):
        raise SourceUnavailable("hr", "connection refused")

    systems["hr"].handler = down
    again = await verifying(POST, {"input": _linked("E-1"), "key": "retry"})
    assert again["data"]["postJournalEntry"]["entry"]["number"] == number
    assert (await counts(world.db, world.acme))[0] == 1
