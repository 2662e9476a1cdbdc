"""ResilientSource on fake time: retries, backoff, timeout, circuit breaker, concurrency,
chunking and the sharing of identical requests in flight."""

import asyncio
import random
from decimal import Decimal

import pytest

from sources.base import FetchRequest, FieldSpec, RecordType
from sources.errors import CircuitOpen, SourceProtocolError, SourceTimeout, SourceUnavailable
from sources.mock import MockSource
from sources.resilience import CircuitState, Policy, ResilientSource

ORDER = RecordType(
    system="crm",
    name="SalesOrder",
    graphql_name="CrmSalesOrder",
    key="id",
    fields=(FieldSpec("id", "ID", nullable=False), FieldSpec("amount", "Decimal")),
)
ROWS = [{"id": f"SO-{n}", "amount": f"{n}.00"} for n in range(1, 11)]


def request(*ids, fields=("amount",)):
    return FetchRequest(ORDER, ids, fields)


class FakeTime:
    """A clock that moves only when the source sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class Midpoint:
    """An rng whose "random" pick is the middle of the range, to see the jitter's bounds."""

    def uniform(self, low, high):
        return (low + high) / 2


@pytest.fixture
def time_():
    return FakeTime()


def resilient(inner, time_, rng=None, **policy):
    return ResilientSource(
        inner, Policy(**policy), clock=time_.clock, sleep=time_.sleep, rng=rng or random.Random(7)
    )


def failing(*errors, then=ROWS):
    """A handler raising each of `errors` in turn, then answering from `then`."""
    queue = list(errors)

    async def handler(req):
        if queue:
            raise queue.pop(0)
        return then

    return handler


def down(message="connection refused"):
    async def handler(req):
        raise SourceUnavailable("crm", message)

    return handler


async def test_an_unavailable_source_is_retried_until_it_answers(time_):
    crm = MockSource("crm", handler=failing(SourceUnavailable("crm", "503"), SourceUnavailable("crm", "503")))
    source = resilient(crm, time_, retries=2)

    result = await source.fetch(request("SO-1"))

    assert list(result.records) == ["SO-1"]
    assert len(crm.calls) == 3
    assert len(time_.sleeps) == 2


async def test_retries_are_bounded_and_the_last_error_is_raised(time_):
    crm = MockSource("crm", handler=down())
    source = resilient(crm, time_, retries=2)

    with pytest.raises(SourceUnavailable, match="^crm: connection refused$"):
        await source.fetch(request("SO-1"))
    assert len(crm.calls) == 3


async def test_garbage_is_not_retried(time_):
    crm = MockSource("crm", handler=lambda req: "<html>oops</html>")
    source = resilient(crm, time_, retries=3)

    with pytest.raises(SourceProtocolError):
        await source.fetch(request("SO-1"))
    assert len(crm.calls) == 1
    assert time_.sleeps == []


async def test_a_bug_in_the_kind_escapes_at_once(time_):
    crm = MockSource("crm", handler=failing(RuntimeError("kind bug")))
    source = resilient(crm, time_, retries=3)

    with pytest.raises(RuntimeError, match="kind bug"):
        await source.fetch(request("SO-1"))
    assert len(crm.calls) == 1


async def test_backoff_doubles_up_to_its_maximum_without_jitter(time_):
    source = resilient(MockSource("crm", handler=down()), time_, retries=5, jitter=False,
                       backoff_base=0.1, backoff_max=1.0, breaker_threshold=20)

    with pytest.raises(SourceUnavailable):
        await source.fetch(request("SO-1"))

    assert time_.sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0])


async def test_full_jitter_picks_between_zero_and_the_backoff(time_):
    source = resilient(MockSource("crm", handler=down()), time_, rng=Midpoint(), retries=4,
                       backoff_base=0.1, backoff_max=0.5)

    with pytest.raises(SourceUnavailable):
        await source.fetch(request("SO-1"))

    assert time_.sleeps == pytest.approx([0.05, 0.1, 0.2, 0.25])


async def test_jittered_waits_stay_within_their_bounds(time_):
    source = resilient(MockSource("crm", handler=down()), time_, rng=random.Random(1), retries=8,
                       backoff_base=0.1, backoff_max=2.0, breaker_threshold=20)

    with pytest.raises(SourceUnavailable):
        await source.fetch(request("SO-1"))

    assert len(time_.sleeps) == 8
    for n, wait in enumerate(time_.sleeps):
        assert 0 <= wait <= min(2.0, 0.1 * 2**n)
    assert len(set(time_.sleeps)) == 8  # random, not a fixed schedule


async def test_the_deadline_bounds_retries_and_waits(time_):
    crm = MockSource("crm", handler=down())
    source = resilient(crm, time_, retries=10, jitter=False, backoff_base=0.4, backoff_max=0.4,
                       deadline=1.0, breaker_threshold=20)

    with pytest.raises(SourceUnavailable):
        await source.fetch(request("SO-1"))

    assert len(crm.calls) == 3  # at 0.0, 0.4 and 0.8; a fourth would start past 1.0
    assert time_.now <= 1.0


def test_the_default_budget_is_the_worst_case_of_the_policy():
    assert Policy(timeout=2.0, retries=2, backoff_max=0.5).budget == 2.0 * 3 + 0.5 * 2
    assert Policy(timeout=2.0, retries=2, deadline=2.5).budget == 2.5


async def test_a_slow_call_times_out(time_):
    async def hangs(req):
        await asyncio.Event().wait()

    crm = MockSource("crm", handler=hangs)
    source = resilient(crm, time_, timeout=0.02, retries=0)

    with pytest.raises(SourceTimeout, match=r"^crm: no answer within 0\.02 s$") as caught:
        await source.fetch(request("SO-1"))
    assert caught.value.code == "SOURCE_TIMEOUT"
    assert len(crm.calls) == 1


async def test_a_slow_call_is_cut_at_the_deadline(time_):
    async def hangs(req):
        await asyncio.Event().wait()

    source = resilient(MockSource("crm", handler=hangs), time_, timeout=1.0, deadline=0.02)

    with pytest.raises(SourceTimeout, match=r"^crm: no answer within the 0\.02 s deadline$"):
        await source.fetch(request("SO-1"))


async def test_a_timed_out_call_is_retried(time_):
    calls = 0

    async def slow_once(req):
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.Event().wait()
        return ROWS

    source = resilient(MockSource("crm", handler=slow_once), time_, timeout=0.02, retries=1)

    result = await source.fetch(request("SO-2"))

    assert list(result.records) == ["SO-2"]
    assert calls == 2


async def test_the_circuit_opens_after_consecutive_failures_and_fails_fast(time_):
    crm = MockSource("crm", handler=down())
    source = resilient(crm, time_, retries=0, breaker_threshold=3, breaker_reset=10.0)

    for _ in range(3):
        assert source.circuit is CircuitState.CLOSED
        with pytest.raises(SourceUnavailable, match="connection refused"):
            await source.fetch(request("SO-1"))

    assert source.circuit is CircuitState.OPEN
    time_.now += 4.0
    with pytest.raises(CircuitOpen) as caught:
        await source.fetch(request("SO-1"))
    assert str(caught.value) == "crm: circuit open after 3 consecutive failures; next probe in 6.0 s"
    assert caught.value.code == "SOURCE_UNAVAILABLE"
    assert len(crm.calls) == 3  # failing fast: the system was not called


async def test_garbage_counts_as_a_failure_but_unusable_records_do_not(time_):
    crm = MockSource("crm", handler=lambda req: [{"id": "SO-1", "amount": "lots"}])
    source = resilient(crm, time_, breaker_threshold=2)
    for _ in range(3):
        assert list((await source.fetch(request("SO-1"))).invalid) == ["SO-1"]
    assert source.circuit is CircuitState.CLOSED

    crm.handler = lambda req: "<html>"
    for _ in range(2):
        with pytest.raises(SourceProtocolError):
            await source.fetch(request("SO-1"))

    assert source.circuit is CircuitState.OPEN


async def test_a_success_resets_the_count_of_consecutive_failures(time_):
    crm = MockSource("crm", handler=failing(*[SourceUnavailable("crm", "503")] * 2))
    source = resilient(crm, time_, retries=0, breaker_threshold=3)

    for _ in range(2):
        with pytest.raises(SourceUnavailable):
            await source.fetch(request("SO-1"))
    await source.fetch(request("SO-1"))
    crm.handler = down()
    for _ in range(2):
        with pytest.raises(SourceUnavailable, match="connection refused"):
            await source.fetch(request("SO-1"))

    assert source.circuit is CircuitState.CLOSED


async def test_after_the_reset_period_one_successful_probe_closes_the_circuit(time_):
    crm = MockSource("crm", handler=down())
    source = resilient(crm, time_, retries=0, breaker_threshold=2, breaker_reset=10.0)
    for _ in range(2):
        with pytest.raises(SourceUnavailable):
            await source.fetch(request("SO-1"))

    time_.now += 10.0
    assert source.circuit is CircuitState.HALF_OPEN
    crm.handler = None
    crm.records = {"SalesOrder": ROWS}
    result = await source.fetch(request("SO-1"))

    assert list(result.records) == ["SO-1"]
    assert source.circuit is CircuitState.CLOSED
    assert len(crm.calls) == 3


async def test_a_failed_probe_opens_the_circuit_again(time_):
    crm = MockSource("crm", handler=down())
    source = resilient(crm, time_, retries=0, breaker_threshold=2, breaker_reset=10.0)
    for _ in range(2):
        with pytest.raises(SourceUnavailable):
            await source.fetch(request("SO-1"))

    time_.now += 10.0
    with pytest.raises(SourceUnavailable, match="connection refused"):
        await source.fetch(request("SO-1"))

    assert source.circuit is CircuitState.OPEN
    with pytest.raises(CircuitOpen, match="next probe in 10.0 s"):
        await source.fetch(request("SO-1"))
    assert len(crm.calls) == 3


async def test_a_half_open_circuit_lets_exactly_one_probe_through(time_):
    crm = MockSource("crm", handler=down())
    source = resilient(crm, time_, retries=0, breaker_threshold=1, breaker_reset=5.0)
    with pytest.raises(SourceUnavailable):
        await source.fetch(request("SO-1"))
    time_.now += 5.0
    release = asyncio.Event()

    async def slow_recovery(req):
        await release.wait()
        return ROWS

    crm.handler = slow_recovery
    probe = asyncio.create_task(source.fetch(request("SO-1")))
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpen, match="^crm: circuit half-open, a probe call is in flight$"):
        await source.fetch(request("SO-2"))
    release.set()

    assert list((await probe).records) == ["SO-1"]
    assert source.circuit is CircuitState.CLOSED
    assert len(crm.calls) == 2


async def test_a_chunked_request_on_a_half_open_circuit_probes_with_one_chunk_then_sends_the_rest(time_):
    crm = MockSource("crm", handler=down())
    source = resilient(crm, time_, retries=0, breaker_threshold=1, breaker_reset=5.0, max_batch_size=2)
    with pytest.raises(SourceUnavailable):
        await source.fetch(request("SO-1"))
    time_.now += 5.0
    crm.handler = None
    crm.records = {"SalesOrder": ROWS}

    result = await source.fetch(request("SO-1", "SO-2", "SO-3", "SO-4", "SO-5"))

    assert sorted(result.records) == ["SO-1", "SO-2", "SO-3", "SO-4", "SO-5"]
    assert result.failed == {}
    assert [call.ids for call in crm.calls[1:]] == [("SO-1", "SO-2"), ("SO-3", "SO-4"), ("SO-5",)]
    assert source.circuit is CircuitState.CLOSED


async def test_a_failed_probe_chunk_fails_the_rest_fast(time_):
    crm = MockSource("crm", handler=down())
    source = resilient(crm, time_, retries=0, breaker_threshold=1, breaker_reset=5.0, max_batch_size=2)
    with pytest.raises(SourceUnavailable):
        await source.fetch(request("SO-1"))
    time_.now += 5.0

    with pytest.raises(SourceUnavailable, match="connection refused"):
        await source.fetch(request("SO-1", "SO-2", "SO-3", "SO-4"))

    assert len(crm.calls) == 2  # the first failure and the probe: the other chunk never went
    assert source.circuit is CircuitState.OPEN


async def test_a_cancelled_probe_lets_the_next_call_probe(time_):
    crm = MockSource("crm", handler=down())
    source = resilient(crm, time_, retries=0, breaker_threshold=1, breaker_reset=5.0)
    with pytest.raises(SourceUnavailable):
        await source.fetch(request("SO-1"))
    time_.now += 5.0

    async def hangs(req):
        await asyncio.Event().wait()

    crm.handler = hangs
    probe = asyncio.create_task(source.fetch(request("SO-1")))
    await asyncio.sleep(0)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    crm.handler, crm.records = None, {"SalesOrder": ROWS}

    assert list((await source.fetch(request("SO-2"))).records) == ["SO-2"]
    assert source.circuit is CircuitState.CLOSED


async def test_retries_stop_when_the_circuit_opens_and_the_real_error_is_raised(time_):
    crm = MockSource("crm", handler=down())
    source = resilient(crm, time_, retries=5, breaker_threshold=2)

    with pytest.raises(SourceUnavailable, match="connection refused") as caught:
        await source.fetch(request("SO-1"))

    assert not isinstance(caught.value, CircuitOpen)
    assert len(crm.calls) == 2
    assert source.circuit is CircuitState.OPEN


async def test_calls_in_flight_never_exceed_the_concurrency_limit(time_):
    in_flight = peak = 0

    async def counted(req):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(3):
            await asyncio.sleep(0)
        in_flight -= 1
        return ROWS

    crm = MockSource("crm", handler=counted)
    source = resilient(crm, time_, max_concurrency=2, max_batch_size=1)

    result = await source.fetch(request(*(f"SO-{n}" for n in range(1, 7))))

    assert len(result.records) == 6
    assert len(crm.calls) == 6
    assert peak == 2


async def test_a_large_request_is_split_into_chunks_of_the_batch_size(time_):
    crm = MockSource("crm", {"SalesOrder": ROWS})
    source = resilient(crm, time_, max_batch_size=2)

    result = await source.fetch(request("SO-1", "SO-2", "SO-3", "SO-2", "SO-4", "SO-5"))

    assert sorted(result.records) == ["SO-1", "SO-2", "SO-3", "SO-4", "SO-5"]
    assert [call.ids for call in crm.calls] == [("SO-1", "SO-2"), ("SO-3", "SO-4"), ("SO-5",)]
    assert {call.fields for call in crm.calls} == {("amount",)}


async def test_one_failing_chunk_withholds_only_its_own_ids(time_):
    async def second_chunk_down(req):
        if "SO-3" in req.ids:
            raise SourceUnavailable("crm", "503 on the second chunk")
        return ROWS

    source = resilient(MockSource("crm", handler=second_chunk_down), time_, retries=0, max_batch_size=2)

    result = await source.fetch(request("SO-1", "SO-2", "SO-3"))

    assert sorted(result.records) == ["SO-1", "SO-2"]
    assert list(result.failed) == ["SO-3"]
    assert str(result.failed["SO-3"]) == "crm: 503 on the second chunk"


async def test_every_chunk_failing_fails_the_fetch_with_the_first_error(time_):
    async def down(req):
        raise SourceUnavailable("crm", f"503 for {req.ids[0]}")

    source = resilient(MockSource("crm", handler=down), time_, retries=0, max_batch_size=2)

    with pytest.raises(SourceUnavailable, match="503 for SO-1"):
        await source.fetch(request("SO-1", "SO-2", "SO-3"))


async def test_an_empty_request_calls_nobody(time_):
    crm = MockSource("crm", {"SalesOrder": ROWS})

    result = await resilient(crm, time_).fetch(request())

    assert (result.records, crm.calls) == ({}, [])


async def test_identical_requests_in_flight_share_one_call(time_):
    release = asyncio.Event()

    async def slow(req):
        await release.wait()
        return ROWS

    crm = MockSource("crm", handler=slow)
    source = resilient(crm, time_)
    first = asyncio.create_task(source.fetch(request("SO-1", "SO-2")))
    second = asyncio.create_task(source.fetch(request("SO-1", "SO-2")))
    await asyncio.sleep(0)
    release.set()

    a, b = await asyncio.gather(first, second)

    assert len(crm.calls) == 1
    assert a.records == b.records and sorted(a.records) == ["SO-1", "SO-2"]
    a.records.clear()
    assert sorted(b.records) == ["SO-1", "SO-2"]  # each caller has its own result

    await source.fetch(request("SO-1", "SO-2"))
    assert len(crm.calls) == 2  # sharing, not caching


async def test_requests_for_different_fields_or_ids_never_share(time_):
    release = asyncio.Event()

    async def slow(req):
        await release.wait()
        return ROWS

    crm = MockSource("crm", handler=slow)
    source = resilient(crm, time_)
    tasks = [
        asyncio.create_task(source.fetch(req))
        for req in (request("SO-1"), request("SO-1", fields=("id",)), request("SO-2"))
    ]
    await asyncio.sleep(0)
    release.set()

    amount, key_only, other = await asyncio.gather(*tasks)

    assert len(crm.calls) == 3
    assert amount.records == {"SO-1": {"id": "SO-1", "amount": Decimal("1.00")}}
    assert key_only.records == {"SO-1": {"id": "SO-1"}}
    assert list(other.records) == ["SO-2"]


async def test_a_shared_call_survives_one_caller_leaving_and_stops_when_all_have(time_):
    release = asyncio.Event()
    cancelled = []

    async def slow(req):
        try:
            await release.wait()
        except asyncio.CancelledError:
            cancelled.append(req.ids)
            raise
        return ROWS

    source = resilient(MockSource("crm", handler=slow), time_)
    leaving = asyncio.create_task(source.fetch(request("SO-1")))
    staying = asyncio.create_task(source.fetch(request("SO-1")))
    await asyncio.sleep(0)
    leaving.cancel()
    await asyncio.sleep(0)
    release.set()
    assert list((await staying).records) == ["SO-1"]
    assert cancelled == []

    release.clear()
    alone = asyncio.create_task(source.fetch(request("SO-2")))
    await asyncio.sleep(0)
    alone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await alone
    await asyncio.sleep(0)
    assert cancelled == [("SO-2",)]


async def test_aclose_closes_the_inner_source(time_):
    crm = MockSource("crm")

    await resilient(crm, time_).aclose()

    assert crm.closed


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"timeout": 0}, "timeout must be a positive number of seconds, got 0"),
        ({"timeout": "2s"}, "timeout must be a positive number of seconds, got '2s'"),
        ({"retries": -1}, "retries must be an integer of at least 0, got -1"),
        ({"retries": 1.5}, "retries must be an integer of at least 0, got 1.5"),
        ({"backoff_base": -0.1}, "backoff_base must be a non-negative number of seconds, got -0.1"),
        ({"backoff_base": 2.0, "backoff_max": 1.0},
         "backoff_max (1) must not be less than backoff_base (2)"),
        ({"jitter": "yes"}, "jitter must be true or false, got 'yes'"),
        ({"deadline": 0}, "deadline must be a positive number of seconds, got 0"),
        ({"breaker_threshold": 0}, "breaker_threshold must be an integer of at least 1, got 0"),
        ({"breaker_reset": True}, "breaker_reset must be a positive number of seconds, got True"),
        ({"max_concurrency": 0}, "max_concurrency must be an integer of at least 1, got 0"),
        ({"max_batch_size": 0}, "max_batch_size must be an integer of at least 1, got 0"),
    ],
)
def test_policy_values_are_validated(policy, message):
    with pytest.raises(ValueError) as caught:
        Policy(**policy)
    assert str(caught.value) == message
