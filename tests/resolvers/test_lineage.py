"""Source records in the graph: ledger → live record → back to every ledger line."""

from decimal import Decimal

import httpx
import pytest

from gateway.app import create_app
from resolvers.sources.catalog import SourceCatalog
from sources.base import FetchRequest, FetchResult, Source, collect
from sources.errors import SourceUnavailable
from tests.callers import tester_client
from tests.conftest import make_settings
from tests.record_types import ORDERED_ON, sales_order
from tests.support import POST, counts, sale

SALES_ORDER = sales_order(ORDERED_ON, url_template="http://127.0.0.1:8101/crm/sales-orders/{id}")


class FakeCrm(Source):
    """An in-test source: records by id, every request kept, faults on demand."""

    def __init__(self, rows):
        self.name = "crm"
        self.rows = rows
        self.calls: list[FetchRequest] = []
        self.fail: Exception | None = None

    async def fetch(self, request: FetchRequest) -> FetchResult:
        self.calls.append(request)
        if self.fail:
            raise self.fail
        return collect(request, [self.rows[i] for i in request.ids if i in self.rows])


@pytest.fixture
def crm():
    return FakeCrm({
        f"SO-{n}": {"id": f"SO-{n}", "amount": f"{n}00.00", "customer_id": f"C{n}", "ordered_on": "2026-03-01"}
        for n in range(1, 30)
    } | {"SO-BAD": {"id": "SO-BAD", "amount": "lots", "customer_id": "C0"}})


@pytest.fixture
async def lineage(world, crm):
    app = create_app(make_settings(), db=world.db, sources=SourceCatalog.of({"crm": crm}, [SALES_ORDER]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield await tester_client(client, world.db, ["crm"])


async def post_linked(gql, key, *order_ids, entity="ACME"):
    lines = [{"account": "1100" if entity == "ACME" else "1000", "debit": "10.00",
              "sources": [{"system": "crm", "recordType": "SalesOrder", "recordId": o} for o in order_ids]},
             {"account": "4000", "credit": "10.00"}]
    result = await gql(POST, {"input": sale(lines=lines, source=None), "key": key}, entity=entity)
    assert "errors" not in result, result


LINES_WITH_RECORDS = """
{ journalEntries(first: 100) { edges { node { number lines { lineNo debit
    sources { recordId record { __typename system recordType recordId url
      ... on CrmSalesOrder { id amount customerId } } } } } } } }
"""


async def test_lines_drill_into_typed_live_records_in_one_batch(lineage, crm):
    for n in range(1, 21):
        await post_linked(lineage, f"k{n}", f"SO-{n}", f"SO-{n + 1}")
    result = await lineage(LINES_WITH_RECORDS)
    assert "errors" not in result, result
    records = [s["record"] for e in result["data"]["journalEntries"]["edges"]
               for line in e["node"]["lines"] for s in line["sources"]]
    assert len(records) == 40
    assert records[0] == {"__typename": "CrmSalesOrder", "system": "crm", "recordType": "SalesOrder",
                          "recordId": "SO-1", "url": "http://127.0.0.1:8101/crm/sales-orders/SO-1",
                          "id": "SO-1", "amount": "100.00", "customerId": "C1"}
    assert len(crm.calls) == 1 and len(crm.calls[0].ids) == 21
    # Only what the query selected is asked of the system.
    assert set(crm.calls[0].fields) == {"id", "amount", "customerId"}


async def test_a_missing_record_is_null_with_not_found_and_the_line_still_arrives(lineage):
    await post_linked(lineage, "k", "SO-1", "SO-404")
    result = await lineage(LINES_WITH_RECORDS)
    sources = result["data"]["journalEntries"]["edges"][0]["node"]["lines"][0]["sources"]
    assert sources[0]["record"]["id"] == "SO-1" and sources[1]["record"] is None
    [error] = result["errors"]
    assert error["extensions"] == {"code": "NOT_FOUND", "system": "crm"}
    assert "crm/SalesOrder/SO-404" in error["message"]
    assert error["path"] == ["journalEntries", "edges", 0, "node", "lines", 0, "sources", 1, "record"]


async def test_an_unusable_record_is_source_unavailable_never_misattached(lineage):
    await post_linked(lineage, "k", "SO-BAD", "SO-2")
    result = await lineage(LINES_WITH_RECORDS)
    sources = result["data"]["journalEntries"]["edges"][0]["node"]["lines"][0]["sources"]
    assert sources[0]["record"] is None and sources[1]["record"]["id"] == "SO-2"
    assert result["errors"][0]["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert "amount" in result["errors"][0]["message"]


async def test_a_failing_source_nulls_only_its_own_fields(lineage, crm):
    await post_linked(lineage, "k", "SO-1")
    crm.fail = SourceUnavailable("crm", "connection refused")
    result = await lineage(LINES_WITH_RECORDS)
    line = result["data"]["journalEntries"]["edges"][0]["node"]["lines"][0]
    assert line["debit"] == "10.00" and line["sources"][0]["record"] is None
    [error] = result["errors"]
    assert error["extensions"] == {"code": "SOURCE_UNAVAILABLE", "system": "crm"}
    assert error["message"] == "crm/SalesOrder/SO-1: crm: connection refused"


async def test_a_link_to_an_unconfigured_system_or_type_is_refused(lineage, world):
    lines = [{"account": "1100", "debit": "1", "sources": [
                {"system": "erp", "recordType": "Thing", "recordId": "T1"},
                {"system": "crm", "recordType": "Invoice", "recordId": "I1"}]},
             {"account": "4000", "credit": "2"}]
    result = await lineage(POST, {"input": sale(lines=lines), "key": "e"})
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert {(v["path"], v["message"]) for v in error["extensions"]["violations"]} == {
        ("lines[0].sources[0].system", "no source system 'erp' is configured"),
        ("lines[0].sources[1].recordType", "source system 'crm' has no record type 'Invoice'"),
        ("lines", "debits and credits differ by -1 USD; an entry must balance"),
    }
    assert await counts(world.db, world.acme) == (0, 0, 0, 0)


async def test_an_unconfigured_system_is_not_found(lineage):
    result = await lineage('{ sourceRecord(system: "erp", recordType: "Thing", recordId: "T1") { recordId } }')
    assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert "no source system 'erp'" in result["errors"][0]["message"]


ROUND_TRIP = """
query($id: String!) { sourceRecord(system: "crm", recordType: "SalesOrder", recordId: $id) {
  recordId ... on CrmSalesOrder { amount }
  ledgerLines(first: 50) { edges { node { debit entry { number }
    sources { recordId } } } pageInfo { hasNextPage } } } }
"""


async def test_lineage_round_trip_from_the_source_side(lineage):
    await post_linked(lineage, "a", "SO-7")
    await post_linked(lineage, "b", "SO-7", "SO-8")
    await post_linked(lineage, "c", "SO-8")
    result = await lineage(ROUND_TRIP, {"id": "SO-7"})
    record = result["data"]["sourceRecord"]
    assert record["recordId"] == "SO-7" and Decimal(record["amount"]) == Decimal("700")
    numbers = [e["node"]["entry"]["number"] for e in record["ledgerLines"]["edges"]]
    assert numbers == ["JE-0000001", "JE-0000002"]
    assert all("SO-7" in [s["recordId"] for s in e["node"]["sources"]] for e in record["ledgerLines"]["edges"])


async def test_ledger_lines_of_a_record_stay_inside_the_callers_entity(lineage):
    await post_linked(lineage, "a", "SO-7")
    await post_linked(lineage, "b", "SO-7", entity="BETA")
    query = """{ sourceRecord(system: "crm", recordType: "SalesOrder", recordId: "SO-7") {
        ledgerLines { edges { node { account { code } } } } } }"""
    for entity, account in (("ACME", "1100"), ("BETA", "1000")):
        result = await lineage(query, entity=entity)
        edges = result["data"]["sourceRecord"]["ledgerLines"]["edges"]
        assert [e["node"]["account"]["code"] for e in edges] == [account]


async def test_an_unknown_record_from_the_source_side_is_null_with_not_found(lineage):
    result = await lineage(ROUND_TRIP, {"id": "SO-999"})
    assert result["data"] == {"sourceRecord": None}
    assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_source_calls_stay_constant_from_trial_balance_to_records(lineage, crm, world):
    import datetime as dt

    from ledger.drafts import EntryDraft, LineDraft, SourceRef
    from ledger.posting import post_entries
    from ledger.posting_plan import Posting

    crm.rows.update({f"SO-{n}": {"id": f"SO-{n}", "amount": "1.00", "customer_id": "C"} for n in range(1000, 2000)})
    # Pages of 1000 hold every line posted here (and keep within the default query cost).
    query = """{ trialBalance(from: "2026-01-01", to: "2026-12-31") { rows { lines(first: 1000) {
        edges { node { sources { record { ... on CrmSalesOrder { amount } } } } } } } } }"""
    posted = 0
    for total in (10, 100, 1000):
        postings = [
            Posting(EntryDraft("GJ", dt.date(2026, 5, 1), (
                LineDraft("1100", debit=Decimal("1"), sources=(SourceRef("crm", "SalesOrder", f"SO-{1000 + n}"),)),
                LineDraft("4000", credit=Decimal("1")))))
            for n in range(posted, total)
        ]
        async with world.db.session(world.acme) as session:
            await post_entries(session, postings)
        posted = total
        crm.calls.clear()
        result = await lineage(query)
        assert "errors" not in result, result["errors"][:2]
        amounts = [s["record"]["amount"] for row in result["data"]["trialBalance"]["rows"]
                   for e in row["lines"]["edges"] for s in e["node"]["sources"]]
        assert len(amounts) == total
        assert len(crm.calls) == 1, (total, len(crm.calls))
