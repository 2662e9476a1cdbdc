"""Fault injection through the real HTTP app: a REST CRM over a real loopback port that is
down, slow, failing, talking garbage or sending the wrong records, next to a healthy system.
Every case checks the whole partial answer (`data`) and every error in it."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from gateway.app import create_app
from resolvers.sources.catalog import SourceCatalog
from sources.base import FieldSpec, RecordType
from sources.mock import MockSource
from sources.resilience import CircuitState, Policy, ResilientSource
from sources.rest import RestSource
from tests.callers import GraphQLClient, tester_client
from tests.conftest import make_settings
from tests.record_types import ORDERED_ON, SHARED, sales_order
from tests.sources.apps.loopback import closed_port, serving
from tests.support import POST, sale

BATCH_PATH = "/crm/sales-orders"

SALES_ORDER = sales_order(ORDERED_ON, batch_path=BATCH_PATH)
BILL = RecordType(
    system="ap",
    name="Bill",
    graphql_name="ApBill",
    key="id",
    fields=(FieldSpec("id", "ID", nullable=False), FieldSpec("total", "Decimal")),
    ownership=SHARED,
)


def order(n: int, **overrides) -> dict:
    """A sales order as the CRM sends it (remote field names)."""
    record = {"id": f"SO-{n}", "amount": f"{n}00.00", "customer_id": f"C{n}", "ordered_on": "2026-03-01"}
    return record | overrides


def bill(n: int) -> dict:
    return {"id": f"B-{n}", "total": f"{n}0.00"}


class FakeCrm:
    """A CRM's batch endpoint (GET /crm/sales-orders?ids=a,b) that records every call.

    `answer(ids, call_number)` (call numbers from 1), when set, replaces the normal answer
    and may sleep, fail or send garbage; returning None means "answer normally"."""

    def __init__(self, records: dict[str, dict]):
        self.records = records
        self.calls: list[list[str]] = []
        self.answer: Callable[[list[str], int], object] | None = None

    def app(self) -> Starlette:
        return Starlette(routes=[Route(BATCH_PATH, self._batch)])

    async def _batch(self, request: Request) -> Response:
        ids = request.query_params["ids"].split(",")
        self.calls.append(ids)
        if self.answer is not None:
            response = self.answer(ids, len(self.calls))
            if inspect.isawaitable(response):
                response = await response
            if response is not None:
                return response
        return JSONResponse([self.records[i] for i in ids if i in self.records])


def server_error(*_args) -> Response:
    return JSONResponse({"error": "boom"}, 500)


# --- the ledger side: lines linked to crm sales orders and ap bills -------------------------

# (entry number, [(line no, account, debit, credit, [(system, record id), ...]), ...])
Entries = list[tuple[str, list[tuple[int, str, str, str, list[tuple[str, str]]]]]]

ENTRIES: Entries = [
    ("JE-0000001", [(1, "1100", "100.00", "0.00", [("crm", "SO-1"), ("ap", "B-1")]),
                    (2, "4000", "0.00", "100.00", [("crm", "SO-2")])]),
    ("JE-0000002", [(1, "1100", "300.00", "0.00", [("crm", "SO-3")]),
                    (2, "4000", "0.00", "300.00", [("ap", "B-2")])]),
]
CRM_IDS = ("SO-1", "SO-2", "SO-3")
TYPES = {"crm": "SalesOrder", "ap": "Bill"}

QUERY = """
{ journalEntries(first: 100) { edges { node { number lines { lineNo debit credit account { code }
    sources { system recordId record { __typename recordId
      ... on CrmSalesOrder { amount customerId orderedOn }
      ... on ApBill { total } } } } } } } }
"""
RECORD_LOCATION = [{"line": 3, "column": 31}]  # `record` in QUERY


def crm_record(n: int) -> dict:
    return {"__typename": "CrmSalesOrder", "recordId": f"SO-{n}", "amount": f"{n}00.00",
            "customerId": f"C{n}", "orderedOn": "2026-03-01"}


def ap_record(n: int) -> dict:
    return {"__typename": "ApBill", "recordId": f"B-{n}", "total": f"{n}0.00"}


HEALTHY = {("crm", f"SO-{n}"): crm_record(n) for n in range(1, 10)} | {
    ("ap", f"B-{n}"): ap_record(n) for n in (1, 2)
}


def expected(entries: Entries = ENTRIES, null: tuple[str, ...] = ()) -> dict:
    """The whole `data` of QUERY: every ledger field as posted, and each link's healthy
    record, except null for the record ids in `null`."""
    return {"journalEntries": {"edges": [
        {"node": {"number": number, "lines": [
            {"lineNo": no, "debit": debit, "credit": credit, "account": {"code": account},
             "sources": [{"system": s, "recordId": r, "record": None if r in null else HEALTHY[(s, r)]}
                         for s, r in links]}
            for no, account, debit, credit, links in lines]}}
        for number, lines in entries]}}


def expected_errors(failures: dict[str, tuple[str, str]], entries: Entries = ENTRIES) -> list[dict]:
    """One error per link to a crm record id in `failures` ({id: (code, message)}), in
    document order."""
    out = []
    for e, (_number, lines) in enumerate(entries):
        for n, (*_line, links) in enumerate(lines):
            for k, (system, record_id) in enumerate(links):
                if system == "crm" and record_id in failures:
                    code, message = failures[record_id]
                    out.append({
                        "message": message,
                        "locations": RECORD_LOCATION,
                        "path": ["journalEntries", "edges", e, "node", "lines", n, "sources", k, "record"],
                        "extensions": {"code": code, "system": "crm"},
                    })
    return out


def whole_batch_failed(message: str, ids=CRM_IDS, code="SOURCE_UNAVAILABLE") -> dict[str, tuple[str, str]]:
    """What every crm link shows when the crm call fails with `message`."""
    return {i: (code, f"crm/SalesOrder/{i}: {message}") for i in ids}


def errors_of(result: dict) -> list[dict]:
    """The errors in document order (graphql-core lists them in the order they happen)."""
    return sorted(result.get("errors", []), key=lambda error: error["path"])


async def post_entries(gql: GraphQLClient, entries: Entries) -> None:
    for number, lines in entries:
        body = [
            {"account": account, **({"debit": debit} if debit != "0.00" else {"credit": credit}),
             "sources": [{"system": s, "recordType": TYPES[s], "recordId": r} for s, r in links]}
            for _no, account, debit, credit, links in lines
        ]
        result = await gql(POST, {"input": sale(lines=body, source=None), "key": number})
        assert "errors" not in result, result
        assert result["data"]["postJournalEntry"]["entry"]["number"] == number


@pytest.fixture
async def linked(world, gql):
    """The world with ENTRIES posted (through a gateway without source systems)."""
    await post_entries(gql, ENTRIES)
    return world


# --- the gateway under test ---------------------------------------------------------------


class Gateway:
    """ledgergate with the crm REST system behind its policy and a healthy ap system."""

    def __init__(self, client: GraphQLClient, crm: ResilientSource, ap: MockSource):
        self.client, self.crm, self.ap = client, crm, ap

    async def __call__(self, query: str = QUERY) -> dict:
        return await self.client(query)


@contextlib.asynccontextmanager
async def gateway(world, crm_url: str, policy: Policy, **resilience) -> AsyncIterator[Gateway]:
    crm = ResilientSource(
        RestSource("crm", {"base_url": crm_url}, [SALES_ORDER], {}), policy, **resilience
    )
    ap = MockSource("ap", {"Bill": [bill(1), bill(2)]})
    catalog = SourceCatalog.of(
        {"crm": crm, "ap": ResilientSource(ap, Policy(retries=0))}, [SALES_ORDER, BILL]
    )
    app = create_app(make_settings(), db=world.db, sources=catalog)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledgergate.test") as http:
            yield Gateway(await tester_client(http, world.db, catalog.sources), crm, ap)
    finally:
        await catalog.aclose()  # ASGITransport runs no lifespan


@contextlib.asynccontextmanager
async def crm_serving(world, fake: FakeCrm, policy: Policy, **resilience) -> AsyncIterator[Gateway]:
    """The gateway, its crm system being `fake` on a real loopback port."""
    async with serving(fake.app()) as url, gateway(world, url, policy, **resilience) as lg:
        yield lg


def healthy_crm() -> FakeCrm:
    return FakeCrm({f"SO-{n}": order(n) for n in range(1, 10)})


# Retries without real waiting worth the name.
RETRY_TWICE = Policy(retries=2, backoff_base=0.01, backoff_max=0.02, jitter=False)
HTTP_500 = f"crm: GET {BATCH_PATH} answered HTTP 500"


async def test_a_healthy_crm_answers_every_link_in_one_call(linked):
    fake = healthy_crm()
    async with crm_serving(linked, fake, RETRY_TWICE) as lg:
        result = await lg()

    assert result == {"data": expected()}
    assert [sorted(ids) for ids in fake.calls] == [list(CRM_IDS)]
    assert [sorted(call.ids) for call in lg.ap.calls] == [["B-1", "B-2"]]


# --- 1. down ------------------------------------------------------------------------------


async def test_a_crm_that_is_down_nulls_only_its_records(linked):
    url = f"http://127.0.0.1:{closed_port()}"
    async with gateway(linked, url, RETRY_TWICE) as lg:
        result = await lg()

    assert result["data"] == expected(null=CRM_IDS)
    refused = f"crm: ConnectError: All connection attempts failed (GET {url}{BATCH_PATH})"
    assert errors_of(result) == expected_errors(whole_batch_failed(refused))
    assert len(lg.ap.calls) == 1
    assert lg.crm.circuit is CircuitState.CLOSED  # 3 failed calls, threshold 5


# --- 2. slow ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy, said",
    [
        (Policy(timeout=0.3, retries=0), "no answer within 0.3 s"),
        # A generous timeout and retries, cut short by the deadline of the whole fetch.
        (Policy(timeout=5.0, retries=2, deadline=0.3), "no answer within the 0.3 s deadline"),
    ],
    ids=["timeout", "deadline"],
)
async def test_a_slow_crm_times_out_and_the_request_does_not_wait_for_it(linked, policy, said):
    release = asyncio.Event()

    async def stall(_ids, _call):
        async with asyncio.timeout(10):
            await release.wait()

    fake = healthy_crm()
    fake.answer = stall
    async with crm_serving(linked, fake, policy) as lg:
        started = time.monotonic()
        result = await lg()
        elapsed = time.monotonic() - started
        release.set()  # let the stalled handler finish so the server stops at once

    assert result["data"] == expected(null=CRM_IDS)
    assert errors_of(result) == expected_errors(
        whole_batch_failed(f"crm: {said}", code="SOURCE_TIMEOUT")
    )
    assert len(fake.calls) == 1
    assert 0.25 <= elapsed < 0.3 + 1.0, elapsed


# --- 3. server errors ---------------------------------------------------------------------


async def test_server_errors_are_retried_then_reported(linked):
    fake = healthy_crm()
    fake.answer = server_error
    async with crm_serving(linked, fake, RETRY_TWICE) as lg:
        result = await lg()

    assert result["data"] == expected(null=CRM_IDS)
    assert errors_of(result) == expected_errors(whole_batch_failed(HTTP_500))
    assert len(fake.calls) == 3  # the first call and two retries
    assert all(sorted(ids) == list(CRM_IDS) for ids in fake.calls)
    assert lg.crm.circuit is CircuitState.CLOSED


async def test_a_server_error_then_an_answer_succeeds_after_one_retry(linked):
    fake = healthy_crm()
    fake.answer = lambda _ids, call: server_error() if call == 1 else None
    async with crm_serving(linked, fake, RETRY_TWICE) as lg:
        result = await lg()

    assert result == {"data": expected()}
    assert len(fake.calls) == 2
    assert lg.crm.breaker.failures == 0


# --- 4. garbage with 200 ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, said",
    [
        (Response(b'[{"id": "SO-1", "amount": ', media_type="application/json"),
         "answered HTTP 200 with a body that is not JSON (application/json)"),
        (HTMLResponse("<html><body><h1>Down for maintenance</h1></body></html>"),
         "answered HTTP 200 with a body that is not JSON (text/html)"),
        (JSONResponse({"orders": [order(1)]}), 'answered neither a JSON list nor {"items": [...]}'),
    ],
    ids=["truncated-json", "html", "wrong-shape"],
)
async def test_garbage_with_200_is_a_protocol_error_and_not_retried(linked, body, said):
    fake = healthy_crm()
    fake.answer = lambda _ids, _call: body
    async with crm_serving(linked, fake, RETRY_TWICE) as lg:
        result = await lg()

    assert result["data"] == expected(null=CRM_IDS)
    assert errors_of(result) == expected_errors(whole_batch_failed(f"crm: GET {BATCH_PATH} {said}"))
    assert len(fake.calls) == 1


# --- 5. the wrong records -----------------------------------------------------------------


async def test_missing_extra_and_out_of_order_records_go_only_to_their_own_lines(linked):
    fake = healthy_crm()
    # SO-3 left out, SO-99 never asked for, and the others out of the requested order (so
    # that attaching by position would put every record on the wrong line).
    fake.answer = lambda _ids, _call: JSONResponse([order(99), order(1), order(2)])
    async with crm_serving(linked, fake, RETRY_TWICE) as lg:
        result = await lg()

    assert result["data"] == expected(null=("SO-3",))
    assert errors_of(result) == expected_errors(
        {"SO-3": ("NOT_FOUND", "crm/SalesOrder/SO-3 does not exist in crm")}
    )
    assert "SO-99" not in str(result)
    assert len(fake.calls) == 1


async def test_a_record_sent_under_another_requested_id_sinks_only_that_id(linked):
    fake = healthy_crm()
    # In SO-3's place, a second, different record claiming to be SO-1: trust neither SO-1.
    fake.answer = lambda _ids, _call: JSONResponse([order(1), order(2), order(1, amount="999.00")])
    async with crm_serving(linked, fake, RETRY_TWICE) as lg:
        result = await lg()

    assert result["data"] == expected(null=("SO-1", "SO-3"))
    assert errors_of(result) == expected_errors({
        "SO-1": ("SOURCE_UNAVAILABLE", "crm/SalesOrder/SO-1: the system returned an unusable "
                                       "record (id: the system returned 'SO-1' twice)"),
        "SO-3": ("NOT_FOUND", "crm/SalesOrder/SO-3 does not exist in crm"),
    })
    assert "999" not in str(result)


# --- 6. wrong types -----------------------------------------------------------------------


async def test_a_record_with_wrong_types_is_null_alone(linked):
    fake = FakeCrm({
        "SO-1": order(1, amount="lots"),
        "SO-2": order(2, ordered_on=20260301),
        "SO-3": order(3),
    })
    async with crm_serving(linked, fake, RETRY_TWICE) as lg:
        result = await lg()

    assert result["data"] == expected(null=("SO-1", "SO-2"))
    unusable = "the system returned an unusable record"
    assert errors_of(result) == expected_errors({
        "SO-1": ("SOURCE_UNAVAILABLE",
                 f"crm/SalesOrder/SO-1: {unusable} (amount: expected Decimal, got 'lots')"),
        "SO-2": ("SOURCE_UNAVAILABLE",
                 f"crm/SalesOrder/SO-2: {unusable} (orderedOn: expected Date, got 20260301)"),
    })
    assert len(fake.calls) == 1  # the system is up: not retried, the circuit none the worse
    assert lg.crm.breaker.failures == 0


# --- 7. the circuit breaker ---------------------------------------------------------------


class Clock:
    """Time for the circuit breaker that moves only when told (the per-call timeout still
    runs on the event loop)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_circuit_opens_fails_fast_and_closes_after_a_healthy_probe(linked):
    clock = Clock()
    fake = healthy_crm()
    fake.answer = server_error
    policy = Policy(retries=0, breaker_threshold=2, breaker_reset=5.0)
    down = expected(null=CRM_IDS)

    def circuit_open(failures: int, wait: float) -> list[dict]:
        said = f"crm: circuit open after {failures} consecutive failures; next probe in {wait:.1f} s"
        return expected_errors(whole_batch_failed(said))

    async with crm_serving(linked, fake, policy, clock=clock) as lg:
        for calls in (1, 2):
            result = await lg()
            assert result["data"] == down
            assert errors_of(result) == expected_errors(whole_batch_failed(HTTP_500))
            assert len(fake.calls) == calls
        assert lg.crm.circuit is CircuitState.OPEN

        # Open: the crm is not called at all; the ap system still answers.
        result = await lg()
        assert result["data"] == down
        assert errors_of(result) == circuit_open(2, 5.0)
        assert len(fake.calls) == 2
        clock.now += 2.0
        result = await lg()
        assert errors_of(result) == circuit_open(2, 3.0)
        assert len(fake.calls) == 2

        # Half-open after the reset interval: one probe; it fails, so open again.
        clock.now += 3.0
        assert lg.crm.circuit is CircuitState.HALF_OPEN
        result = await lg()
        assert result["data"] == down
        assert errors_of(result) == expected_errors(whole_batch_failed(HTTP_500))
        assert len(fake.calls) == 3
        assert lg.crm.circuit is CircuitState.OPEN
        result = await lg()
        assert errors_of(result) == circuit_open(3, 5.0)
        assert len(fake.calls) == 3

        # The system recovers; the next probe gets the records and closes the circuit.
        fake.answer = None
        clock.now += 5.0
        result = await lg()
        assert result == {"data": expected()}
        assert len(fake.calls) == 4
        assert lg.crm.circuit is CircuitState.CLOSED
        assert lg.crm.breaker.failures == 0
        result = await lg()
        assert result == {"data": expected()}
        assert len(fake.calls) == 5
        assert len(lg.ap.calls) == 8  # every request, the ap system answered


# --- 8. one failing chunk -----------------------------------------------------------------

MANY: Entries = [
    (f"JE-000000{n}", [(1, "1100", f"{n}00.00", "0.00", [("crm", f"SO-{n}")]),
                       (2, "4000", "0.00", f"{n}00.00", [("ap", "B-1")])])
    for n in range(1, 6)
]


async def test_one_failing_chunk_nulls_only_its_own_lines(world, gql):
    await post_entries(gql, MANY)
    fake = healthy_crm()
    fake.answer = lambda ids, _call: server_error() if "SO-3" in ids else None
    async with crm_serving(world, fake, Policy(retries=0, max_batch_size=2)) as lg:
        result = await lg()

    # Five ids in chunks of at most two, one call each.
    assert sorted(len(ids) for ids in fake.calls) == [1, 2, 2]
    assert sorted(i for ids in fake.calls for i in ids) == [f"SO-{n}" for n in range(1, 6)]
    [failed] = [ids for ids in fake.calls if "SO-3" in ids]
    assert len(failed) == 2, fake.calls  # a chunk with a neighbour, to show both go null
    assert result["data"] == expected(MANY, null=tuple(failed))
    assert errors_of(result) == expected_errors(whole_batch_failed(HTTP_500, ids=failed), MANY)


# --- 9. one record, many lines ------------------------------------------------------------

def spy_on(source: ResilientSource) -> list[tuple[str, ...]]:
    """The ids of every fetch the gateway asks of `source` (before it chunks or dedups)."""
    asked: list[tuple[str, ...]] = []
    fetch = source.fetch

    async def spy(request):
        asked.append(request.ids)
        return await fetch(request)

    source.fetch = spy  # type: ignore[method-assign]
    return asked


SHARED: Entries = [
    (f"JE-000000{n}", [(1, "1100", "100.00", "0.00", [("crm", "SO-1")]),
                       (2, "4000", "0.00", "100.00", [("crm", "SO-1"), ("crm", "SO-2")])])
    for n in range(1, 7)
]


async def test_a_record_linked_from_many_lines_is_fetched_once(world, gql):
    await post_entries(gql, SHARED)
    fake = healthy_crm()
    async with crm_serving(world, fake, RETRY_TWICE) as lg:
        asked = spy_on(lg.crm)
        result = await lg()

    assert result == {"data": expected(SHARED)}
    # 18 links, 2 records: the request's loader asks once, for each id once (not merely
    # deduplicated further down by ResilientSource or RestSource).
    assert [sorted(ids) for ids in asked] == [["SO-1", "SO-2"]]
    assert [sorted(ids) for ids in fake.calls] == [["SO-1", "SO-2"]]
    assert lg.ap.calls == []


async def test_a_failing_record_linked_from_many_lines_is_one_call_and_an_error_per_link(world, gql):
    await post_entries(gql, SHARED)
    fake = healthy_crm()
    fake.answer = server_error
    async with crm_serving(world, fake, Policy(retries=0)) as lg:
        asked = spy_on(lg.crm)
        result = await lg()

    assert [sorted(ids) for ids in asked] == [["SO-1", "SO-2"]]
    assert result["data"] == expected(SHARED, null=("SO-1", "SO-2"))
    assert errors_of(result) == expected_errors(whole_batch_failed(HTTP_500, ids=("SO-1", "SO-2")), SHARED)
    assert len(result["errors"]) == 18  # 6 entries × 3 links
    assert len(fake.calls) == 1
