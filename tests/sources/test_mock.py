"""MockSource: an in-memory system that keeps the contract, and injects faults on demand."""

import asyncio
from decimal import Decimal

import pytest

from sources.base import FetchRequest
from sources.errors import SourceProtocolError, SourceUnavailable
from sources.mock import MockSource
from tests.record_types import sales_order

SALES_ORDER = sales_order()

ROWS = [
    {"id": "SO-1", "amount": "100.00", "customer_id": "C1"},
    {"id": "SO-2", "amount": "abc", "customer_id": "C2"},
    {"id": "SO-3", "amount": "300.00", "customer_id": "C3"},
]


def request(*ids, fields=("amount",)):
    return FetchRequest(SALES_ORDER, ids, fields)


async def test_fetch_returns_the_requested_records_coerced_and_sorts_out_garbage():
    crm = MockSource("crm", {"SalesOrder": ROWS})

    result = await crm.fetch(request("SO-1", "SO-2", "SO-9"))

    assert result.records == {"SO-1": {"id": "SO-1", "amount": Decimal("100.00")}}
    assert result.invalid == {"SO-2": "amount: expected Decimal, got 'abc'"}
    assert crm.calls == [request("SO-1", "SO-2", "SO-9")]


async def test_remote_names_map_to_the_declared_fields():
    crm = MockSource("crm", {"SalesOrder": ROWS})

    result = await crm.fetch(request("SO-3", fields=("customerId",)))

    assert result.records == {"SO-3": {"id": "SO-3", "customerId": "C3"}}


async def test_a_record_type_without_records_returns_nothing():
    result = await MockSource("crm").fetch(request("SO-1"))

    assert (result.records, result.invalid) == ({}, {})


async def test_handler_replaces_the_records_and_its_garbage_is_sorted_like_a_real_kind():
    async def wrong_ids_and_types(req):
        return [
            {"id": "SO-7", "amount": "1.00"},  # nobody asked for SO-7
            {"id": "SO-1", "amount": 1.5},  # a float is never a Decimal
            "not a record",
        ]

    crm = MockSource("crm", handler=wrong_ids_and_types)

    result = await crm.fetch(request("SO-1"))

    assert result.records == {}
    assert result.invalid == {"SO-1": "amount: expected Decimal, got 1.5"}


async def test_a_handler_may_be_synchronous():
    crm = MockSource("crm", handler=lambda req: [{"id": i, "amount": "5"} for i in req.ids])

    result = await crm.fetch(request("SO-1", "SO-2"))

    assert sorted(result.records) == ["SO-1", "SO-2"]


@pytest.mark.parametrize("answer", ["<html>502 Bad Gateway</html>", {"id": "SO-1"}, None])
async def test_anything_but_a_list_of_records_is_a_protocol_error(answer):
    crm = MockSource("crm", handler=lambda req: answer)

    with pytest.raises(SourceProtocolError, match="^crm: expected a list of records"):
        await crm.fetch(request("SO-1"))


async def test_handler_errors_and_delays_reach_the_caller_and_the_call_is_counted():
    async def down(req):
        await asyncio.sleep(0)
        raise SourceUnavailable("crm", "connection refused")

    crm = MockSource("crm", handler=down)

    with pytest.raises(SourceUnavailable, match="crm: connection refused"):
        await crm.fetch(request("SO-1"))
    assert len(crm.calls) == 1


async def test_from_config_takes_records_from_options_and_rejects_the_rest():
    crm = MockSource.from_config("crm", {"records": {"SalesOrder": ROWS[:1]}}, [SALES_ORDER], {})

    assert (await crm.fetch(request("SO-1"))).records["SO-1"]["amount"] == Decimal("100.00")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['base_url'\] for a mock system; known: records"):
        MockSource.from_config("crm", {"base_url": "http://x"}, [SALES_ORDER], {})
    with pytest.raises(ValueError, match=r"records of undeclared record type\(s\) \['Invoice'\]"):
        MockSource.from_config("crm", {"records": {"Invoice": []}}, [SALES_ORDER], {})
    with pytest.raises(ValueError, match="records must map each record type to a list of tables"):
        MockSource.from_config("crm", {"records": {"SalesOrder": "SO-1"}}, [SALES_ORDER], {})


async def test_aclose_is_recorded():
    crm = MockSource("crm")

    await crm.aclose()

    assert crm.closed
