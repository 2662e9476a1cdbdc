"""The REST kind against a real REST app: in process (httpx's ASGI transport) and over a
loopback port; batching, per-id fetches, authentication and every kind of garbage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.responses import HTMLResponse, JSONResponse, Response

from sources.base import FetchRequest, FetchResult, FieldSpec, RecordType
from sources.errors import SourceProtocolError, SourceTimeout, SourceUnavailable
from sources.rest import RestSource
from tests.record_types import ORDERED_ON, sales_order

from .apps.loopback import closed_port, serving
from .apps.rest_system import BATCH_PATH, ITEM_PATH, TOKEN_PATH, RestSystem

API_KEY = "k3y-do-not-leak-0b5e"
CLIENT_ID, CLIENT_SECRET = "ledgergate", "s3cret-do-not-leak-77a1"
BASE = "http://crm.test"

SALES_ORDER = sales_order(
    FieldSpec("lines", "Int"), FieldSpec("paid", "Boolean"), ORDERED_ON, batch_path=BATCH_PATH
)
USAGE_RECORD = RecordType(
    system="usage",
    name="UsageRecord",
    graphql_name="UsageUsageRecord",
    key="id",
    fields=(FieldSpec("id", "ID", nullable=False), FieldSpec("gigabytes", "Decimal")),
    options={"item_path": ITEM_PATH},
)


def order(n: int, **overrides) -> dict:
    record = {
        "id": f"SO-{n}",
        "amount": f"{n}.50",
        "customer_id": f"C{n}",
        "lines": n,
        "paid": n % 2 == 0,
        "ordered_on": "2026-03-14",
    }
    record.update(overrides)
    return record


def orders(count: int) -> dict[str, dict]:
    return {f"SO-{n}": order(n) for n in range(1, count + 1)}


def rest(system: RestSystem, *, record_types=(SALES_ORDER,), secrets=None, base_url=BASE, **options):
    return RestSource(
        "crm",
        {"base_url": base_url, **options},
        record_types,
        secrets or {},
        transport=httpx.ASGITransport(app=system.app()),
    )


def request(*ids: str, fields=("amount",), record_type=SALES_ORDER) -> FetchRequest:
    return FetchRequest(record_type, ids, fields)


def batch_ids(call: str) -> list[str]:
    return parse_qs(urlsplit(call).query)["ids"][0].split(",")


# --- batches ------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 10, 100])
async def test_a_batch_of_ids_is_one_request(count):
    system = RestSystem(orders(count))
    source = rest(system)
    ids = tuple(f"SO-{n}" for n in range(1, count + 1))

    result = await source.fetch(request(*ids, fields=("amount", "customerId")))

    assert len(system.calls) == 1
    assert batch_ids(system.calls[0]) == list(ids)
    assert result.invalid == {}
    assert result.records[f"SO-{count}"] == {
        "id": f"SO-{count}",
        "amount": Decimal(f"{count}.50"),
        "customerId": f"C{count}",
    }
    assert sorted(result.records) == sorted(ids)
    await source.aclose()


async def test_every_field_type_is_converted_and_only_requested_fields_returned():
    source = rest(RestSystem({"SO-2": order(2)}))

    result = await source.fetch(request("SO-2", fields=("lines", "paid", "orderedOn")))

    assert result == FetchResult(
        {"SO-2": {"id": "SO-2", "lines": 2, "paid": True, "orderedOn": dt.date(2026, 3, 14)}}
    )


async def test_an_items_envelope_is_read_like_a_list():
    system = RestSystem(orders(3))
    system.items_envelope = True
    source = rest(system)

    result = await source.fetch(request("SO-1", "SO-3"))

    assert set(result.records) == {"SO-1", "SO-3"}


async def test_max_batch_splits_ids_into_requests():
    system = RestSystem(orders(5))
    source = rest(system, record_types=[_with(SALES_ORDER, max_batch=2)])

    result = await source.fetch(request("SO-1", "SO-2", "SO-3", "SO-4", "SO-5"))

    assert sorted(map(batch_ids, system.calls)) == [["SO-1", "SO-2"], ["SO-3", "SO-4"], ["SO-5"]]
    assert len(result.records) == 5


async def test_unknown_ids_are_absent_and_no_ids_means_no_request():
    system = RestSystem(orders(2))
    source = rest(system)

    result = await source.fetch(request("SO-1", "SO-404"))
    empty = await source.fetch(request())

    assert set(result.records) == {"SO-1"} and result.invalid == {}
    assert empty == FetchResult()
    assert len(system.calls) == 1


async def test_json_numbers_are_read_as_exact_decimals():
    source = rest(_answering(JSONResponse([order(1, amount=0.1)])))
    raw = httpx.Response(200, content=b'[{"id": "SO-1", "amount": 1234567890.123456789}]')
    exact = rest(_answering(Response(raw.content, media_type="application/json")))

    assert (await source.fetch(request("SO-1"))).records["SO-1"]["amount"] == Decimal("0.1")
    assert (await exact.fetch(request("SO-1"))).records["SO-1"]["amount"] == Decimal(
        "1234567890.123456789"
    )


# --- over a real port ---------------------------------------------------------------------


async def test_over_a_loopback_port_with_an_api_key():
    system = RestSystem(orders(3), api_key=API_KEY)
    async with serving(system.app()) as url:
        source = RestSource(
            "crm", {"base_url": url, "auth": "api_key"}, [SALES_ORDER], {"api_key": API_KEY}
        )
        result = await source.fetch(request("SO-1", "SO-2", "SO-9"))
        await source.aclose()

    assert set(result.records) == {"SO-1", "SO-2"}
    assert len(system.calls) == 1


async def test_a_slow_system_times_out_with_the_http_timeout():
    system = RestSystem(orders(1), delay=0.5)
    async with serving(system.app()) as url:
        source = RestSource("crm", {"base_url": url, "http_timeout": 0.1}, [SALES_ORDER], {})
        with pytest.raises(SourceTimeout) as caught:
            await source.fetch(request("SO-1"))
        await source.aclose()

    assert str(caught.value).startswith("crm: ReadTimeout")


async def test_a_closed_port_is_unavailable():
    url = f"http://127.0.0.1:{closed_port()}"
    source = RestSource(
        "crm", {"base_url": url, "auth": "api_key"}, [SALES_ORDER], {"api_key": API_KEY}
    )

    with pytest.raises(SourceUnavailable) as caught:
        await source.fetch(request("SO-1"))

    assert type(caught.value) is SourceUnavailable
    assert str(caught.value).startswith("crm: ConnectError")
    assert API_KEY not in str(caught.value)
    await source.aclose()


# --- authentication -----------------------------------------------------------------------


async def test_the_api_key_is_sent_in_the_configured_header():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.headers))
        return httpx.Response(200, json=[order(1)])

    source = RestSource(
        "crm",
        {"base_url": BASE, "auth": "api_key", "api_key_header": "X-Crm-Token"},
        [SALES_ORDER],
        {"api_key": API_KEY},
        transport=httpx.MockTransport(handler),
    )

    await source.fetch(request("SO-1"))

    assert seen[0]["x-crm-token"] == API_KEY
    assert "x-api-key" not in seen[0]


async def test_a_wrong_api_key_is_refused_without_showing_the_key():
    system = RestSystem(orders(1), api_key="the-right-key")
    source = rest(system, auth="api_key", secrets={"api_key": API_KEY})

    with pytest.raises(SourceUnavailable) as caught:
        await source.fetch(request("SO-1"))

    assert str(caught.value) == (
        f"crm: GET {BATCH_PATH} answered HTTP 401: the system refused our credentials"
    )
    assert API_KEY not in str(caught.value)


def oauth_options(**overrides) -> dict:
    return {
        "auth": "oauth2_client_credentials",
        "token_url": TOKEN_PATH,
        "client_id": CLIENT_ID,
        "scope": "orders:read",
        **overrides,
    }


async def test_oauth2_client_credentials_fetch_one_token_for_many_fetches():
    system = RestSystem(orders(3), client=(CLIENT_ID, CLIENT_SECRET))
    source = rest(system, secrets={"client_secret": CLIENT_SECRET}, **oauth_options())

    first = await source.fetch(request("SO-1"))
    second = await source.fetch(request("SO-2", "SO-3"))
    third = await source.fetch(request("SO-3"))

    assert [set(r.records) for r in (first, second, third)] == [{"SO-1"}, {"SO-2", "SO-3"}, {"SO-3"}]
    assert system.token_requests == 1
    assert system.last_scope == "orders:read"
    assert len(system.calls) == 3
    await source.aclose()


async def test_oauth2_over_a_loopback_port():
    system = RestSystem(orders(2), client=(CLIENT_ID, CLIENT_SECRET))
    async with serving(system.app()) as url:
        source = RestSource(
            "crm",
            {"base_url": url, **oauth_options(token_url=url + TOKEN_PATH)},
            [SALES_ORDER],
            {"client_secret": CLIENT_SECRET},
        )
        results = [await source.fetch(request("SO-1", "SO-2")) for _ in range(3)]
        await source.aclose()

    assert all(set(r.records) == {"SO-1", "SO-2"} for r in results)
    assert system.token_requests == 1


async def test_a_revoked_token_is_replaced_once():
    system = RestSystem(orders(1), client=(CLIENT_ID, CLIENT_SECRET))
    source = rest(system, secrets={"client_secret": CLIENT_SECRET}, **oauth_options())
    await source.fetch(request("SO-1"))
    system.revoke_tokens()

    result = await source.fetch(request("SO-1"))

    assert set(result.records) == {"SO-1"}
    assert system.token_requests == 2


async def test_concurrent_first_fetches_share_one_token_request():
    import asyncio

    system = RestSystem(orders(5), client=(CLIENT_ID, CLIENT_SECRET))
    source = rest(system, secrets={"client_secret": CLIENT_SECRET}, **oauth_options())

    results = await asyncio.gather(*(source.fetch(request(f"SO-{n}")) for n in range(1, 6)))

    assert all(len(r.records) == 1 for r in results)
    assert system.token_requests == 1


async def test_a_wrong_client_secret_is_unavailable_without_showing_it():
    system = RestSystem(orders(1), client=(CLIENT_ID, "the-right-secret"))
    source = rest(system, secrets={"client_secret": CLIENT_SECRET}, **oauth_options())

    with pytest.raises(SourceUnavailable) as caught:
        await source.fetch(request("SO-1"))

    assert str(caught.value) == (
        "crm: the token endpoint refused a token (invalid_client: unknown client or wrong secret)"
    )
    assert CLIENT_SECRET not in str(caught.value)
    assert system.calls == []


async def test_a_token_endpoint_answering_html_is_a_protocol_error():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, html="<html>login</html>")

    source = RestSource(
        "crm",
        {"base_url": BASE, **oauth_options()},
        [SALES_ORDER],
        {"client_secret": CLIENT_SECRET},
        transport=httpx.MockTransport(handler),
    )

    with pytest.raises(SourceProtocolError, match="token endpoint answered something that is not a token"):
        await source.fetch(request("SO-1"))


async def test_a_token_endpoint_failing_with_500_is_unavailable():
    source = RestSource(
        "crm",
        {"base_url": BASE, **oauth_options()},
        [SALES_ORDER],
        {"client_secret": CLIENT_SECRET},
        transport=httpx.MockTransport(lambda request: httpx.Response(503, text="down")),
    )

    with pytest.raises(SourceUnavailable) as caught:
        await source.fetch(request("SO-1"))

    assert str(caught.value) == "crm: token endpoint answered HTTP 503"


# --- one GET per id -----------------------------------------------------------------------


async def test_per_id_fetches_treat_404_as_absent():
    system = RestSystem({"U-1": {"id": "U-1", "gigabytes": "1.250"}, "U-3": {"id": "U-3", "gigabytes": 3}})
    source = rest(system, record_types=[USAGE_RECORD])

    result = await source.fetch(request("U-1", "U-2", "U-3", fields=("gigabytes",), record_type=USAGE_RECORD))

    assert result == FetchResult(
        {
            "U-1": {"id": "U-1", "gigabytes": Decimal("1.250")},
            "U-3": {"id": "U-3", "gigabytes": Decimal(3)},
        }
    )
    assert sorted(system.calls) == ["/usage/records/U-1", "/usage/records/U-2", "/usage/records/U-3"]


@pytest.mark.parametrize("max_concurrency", [1, 3])
async def test_per_id_fetches_are_bounded_by_max_concurrency(max_concurrency):
    records = {f"U-{n}": {"id": f"U-{n}", "gigabytes": str(n)} for n in range(12)}
    system = RestSystem(records, delay=0.02)
    source = rest(system, record_types=[USAGE_RECORD], max_concurrency=max_concurrency)

    result = await source.fetch(request(*records, fields=("gigabytes",), record_type=USAGE_RECORD))

    assert len(result.records) == 12
    assert system.max_in_flight == max_concurrency  # bounded, and really concurrent


async def test_the_default_concurrency_is_eight():
    records = {f"U-{n}": {"id": f"U-{n}"} for n in range(20)}
    system = RestSystem(records, delay=0.02)
    source = rest(system, record_types=[USAGE_RECORD])

    await source.fetch(request(*records, fields=("id",), record_type=USAGE_RECORD))

    assert system.max_in_flight == 8


async def test_an_id_is_quoted_into_the_item_path():
    system = RestSystem({"a/b": {"id": "a/b"}, "b": {"id": "b", "gigabytes": "9"}})
    source = rest(system, record_types=[USAGE_RECORD])

    result = await source.fetch(request("a/../b", fields=("gigabytes",), record_type=USAGE_RECORD))

    assert result == FetchResult()  # never /usage/records/b
    assert system.calls == []  # %2F is not a path segment the app routes


async def test_a_record_answering_for_another_id_is_dropped():
    system = RestSystem(records={})
    system.respond = lambda request: JSONResponse({"id": "U-OTHER", "gigabytes": "1"})
    source = rest(system, record_types=[USAGE_RECORD])

    result = await source.fetch(request("U-1", fields=("gigabytes",), record_type=USAGE_RECORD))

    assert result == FetchResult()


async def test_one_failing_item_fails_the_fetch():
    system = RestSystem({"U-1": {"id": "U-1"}})
    system.respond = lambda request: (
        Response("oops", 500) if request.path_params["id"] == "U-2" else JSONResponse({"id": "U-1"})
    )
    source = rest(system, record_types=[USAGE_RECORD])

    with pytest.raises(SourceUnavailable, match=r"crm: GET /usage/records/\{id\} answered HTTP 500"):
        await source.fetch(request("U-1", "U-2", fields=("id",), record_type=USAGE_RECORD))


# --- garbage ------------------------------------------------------------------------------


def _answering(response: Response) -> RestSystem:
    system = RestSystem(records={})
    system.respond = lambda request: response
    return system


def _with(record_type: RecordType, **options) -> RecordType:
    from dataclasses import replace

    return replace(record_type, options={**record_type.options, **options})


async def test_an_html_body_is_a_protocol_error():
    source = rest(_answering(HTMLResponse("<html><body>Maintenance</body></html>")),
                  auth="api_key", secrets={"api_key": API_KEY})

    with pytest.raises(SourceProtocolError) as caught:
        await source.fetch(request("SO-1"))

    assert str(caught.value) == (
        f"crm: GET {BATCH_PATH} answered HTTP 200 with a body that is not JSON (text/html)"
    )
    assert API_KEY not in str(caught.value)


async def test_malformed_json_is_a_protocol_error():
    source = rest(_answering(Response('[{"id": "SO-1",', media_type="application/json")))

    with pytest.raises(SourceProtocolError, match="not JSON"):
        await source.fetch(request("SO-1"))


@pytest.mark.parametrize("body", [{"records": []}, "SO-1", 42, None])
async def test_json_that_is_not_a_list_of_records_is_a_protocol_error(body):
    source = rest(_answering(JSONResponse(body)))

    with pytest.raises(SourceProtocolError, match=r"neither a JSON list nor \{\"items\""):
        await source.fetch(request("SO-1"))


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_server_errors_are_unavailable(status):
    source = rest(_answering(Response("<h1>Bad Gateway</h1>", status)),
                  auth="api_key", secrets={"api_key": API_KEY})

    with pytest.raises(SourceUnavailable) as caught:
        await source.fetch(request("SO-1"))

    assert type(caught.value) is SourceUnavailable
    assert str(caught.value) == f"crm: GET {BATCH_PATH} answered HTTP {status}"


@pytest.mark.parametrize("status", [400, 404, 414])
async def test_client_errors_are_protocol_errors(status):
    source = rest(_answering(JSONResponse({"error": "bad"}, status)))

    with pytest.raises(SourceProtocolError, match=f"answered HTTP {status}"):
        await source.fetch(request("SO-1"))


async def test_extra_records_nobody_asked_for_are_dropped():
    source = rest(_answering(JSONResponse([order(1), order(2), order(99), {"no": "id"}, "junk"])))

    result = await source.fetch(request("SO-1", "SO-2"))

    assert set(result.records) == {"SO-1", "SO-2"}
    assert result.invalid == {}


async def test_wrong_field_types_make_only_that_record_invalid():
    answer = [order(1, amount=1.5e300), order(2, amount="abc"), order(3, lines="three"), order(4)]
    source = rest(_answering(JSONResponse(answer)))

    result = await source.fetch(request("SO-1", "SO-2", "SO-3", "SO-4", fields=("amount", "lines")))

    assert set(result.records) == {"SO-1", "SO-4"}  # 1.5e300 is an exact decimal number
    assert result.invalid == {
        "SO-2": "amount: expected Decimal, got 'abc'",
        "SO-3": "lines: expected Int, got 'three'",
    }


async def test_a_missing_required_field_is_invalid():
    source = rest(_answering(JSONResponse([{"id": "SO-1"}])))

    result = await source.fetch(request("SO-1"))

    assert result == FetchResult(invalid={"SO-1": "amount: missing"})


async def test_duplicate_ids_are_invalid():
    source = rest(_answering(JSONResponse([order(1), order(1, amount="2.00"), order(2)])))

    result = await source.fetch(request("SO-1", "SO-2"))

    assert set(result.records) == {"SO-2"}
    assert result.invalid == {"SO-1": "id: the system returned 'SO-1' twice"}


async def test_an_integer_key_matches_its_id():
    source = rest(_answering(JSONResponse([{"id": 7, "amount": "7.00"}, {"id": True, "amount": "1"}])))

    result = await source.fetch(request("7", "True"))

    assert result == FetchResult({"7": {"id": "7", "amount": Decimal("7.00")}})


async def test_an_id_with_a_comma_is_absent_not_split():
    system = RestSystem({"SO-1": order(1), "A": {"id": "A", "amount": "1"}})
    source = rest(system)

    result = await source.fetch(request("SO-1", "A,B"))

    assert set(result.records) == {"SO-1"}
    assert batch_ids(system.calls[0]) == ["SO-1"]


# --- options ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "record_type", "secrets", "message"),
    [
        ({}, SALES_ORDER, {}, "base_url is missing"),
        ({"base_url": "ftp://crm"}, SALES_ORDER, {}, "base_url must be an http(s) URL, got 'ftp://crm'"),
        ({"base_url": BASE, "colour": 1}, SALES_ORDER, {}, "unknown option(s) ['colour'] for a rest system"),
        ({"base_url": BASE, "auth": "basic"}, SALES_ORDER, {}, "auth must be one of api_key, oauth2_client_credentials, got 'basic'"),
        ({"base_url": BASE, "auth": "api_key"}, SALES_ORDER, {}, "auth = 'api_key' needs the secret 'api_key'"),
        ({"base_url": BASE, "auth": "api_key", "api_key_header": "X Key"}, SALES_ORDER, {"api_key": "k"}, "api_key_header must be an HTTP header name"),
        ({"base_url": BASE, "auth": "oauth2_client_credentials", "client_id": "x"}, SALES_ORDER, {"client_secret": "s"}, "needs token_url"),
        ({"base_url": BASE, **oauth_options()}, SALES_ORDER, {}, "needs the secret 'client_secret'"),
        ({"base_url": BASE, "max_concurrency": 0}, SALES_ORDER, {}, "max_concurrency must be a positive integer, got 0"),
        ({"base_url": BASE, "http_timeout": "5"}, SALES_ORDER, {}, "http_timeout must be a positive number"),
        ({"base_url": BASE}, _with(SALES_ORDER, item_path="/x/{id}"), {}, "types.SalesOrder: give exactly one of batch_path"),
        ({"base_url": BASE}, _with(USAGE_RECORD, item_path="/usage/records"), {}, "item_path must contain {id}"),
        ({"base_url": BASE}, _with(SALES_ORDER, batch_path="crm/orders"), {}, "batch_path must be a path starting with /"),
        ({"base_url": BASE}, _with(SALES_ORDER, max_batch=-1), {}, "max_batch must be a positive integer, got -1"),
        ({"base_url": BASE}, _with(SALES_ORDER, table="orders"), {}, "types.SalesOrder: unknown option(s) ['table']"),
    ],
)
def test_bad_options_are_value_errors(options, record_type, secrets, message):
    with pytest.raises(ValueError) as caught:
        RestSource("crm", options, [record_type], secrets)

    assert message in str(caught.value)


def test_credentials_in_the_base_url_are_refused_without_echoing_them():
    with pytest.raises(ValueError) as caught:
        RestSource("crm", {"base_url": "https://bob:hunter22@crm.example"}, [SALES_ORDER], {})

    assert "must not carry credentials" in str(caught.value)
    assert "hunter22" not in str(caught.value)
