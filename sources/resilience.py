"""The protection every configured source gets, so that no kind needs its own: a timeout per
call, bounded retries with backoff, a circuit breaker, a concurrency limit, chunking by batch
size and the sharing of identical requests already in flight.

    source = ResilientSource(RestSource(...), Policy(timeout=2.0, retries=2))

What is retried: a `SourceUnavailable` (refused, 5xx) and a `SourceTimeout`. What is not:
a `SourceProtocolError` (a system that answered garbage will most likely answer the same
garbage again, and retrying would only multiply the wait) and a `CircuitOpen`. Anything that
is not a `SourceError` is a bug in the kind: it escapes at once and is never retried.
"""

from __future__ import annotations

import asyncio
import enum
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from .base import FetchRequest, FetchResult, RecordType, Source
from .errors import (
    CircuitOpen,
    SourceError,
    SourceProtocolError,
    SourceTimeout,
    SourceUnavailable,
)


@dataclass(frozen=True)
class Policy:
    """How one source system is called. Every duration is in seconds.

    Attributes:
        timeout: how long one call may take before it fails with `SourceTimeout`.
        retries: further calls after a failed first one (so at most `retries + 1` calls).
        backoff_base / backoff_max: before retry n (from 0) wait up to
            `min(backoff_max, backoff_base * 2**n)`.
        jitter: wait a uniformly random part of that ("full jitter"), so that the gateway's
            many requests do not retry in step.
        deadline: how long one fetch may take in all (waiting for a call slot, every call and
            every wait); by default the worst case of the settings above (`budget`).
        breaker_threshold: consecutive failed calls that open the circuit.
        breaker_reset: how long an open circuit fails fast before one probe call is let through.
        max_concurrency: calls in flight to the system at once.
        max_batch_size: ids per call; a larger request is split into chunks.
    """

    timeout: float = 2.0
    retries: int = 2
    backoff_base: float = 0.1
    backoff_max: float = 1.0
    jitter: bool = True
    deadline: float | None = None
    breaker_threshold: int = 5
    breaker_reset: float = 30.0
    max_concurrency: int = 10
    max_batch_size: int = 100

    def __post_init__(self) -> None:
        for name in ("timeout", "breaker_reset"):
            _check_number(name, getattr(self, name), positive=True)
        for name in ("backoff_base", "backoff_max"):
            _check_number(name, getattr(self, name), positive=False)
        if self.deadline is not None:
            _check_number("deadline", self.deadline, positive=True)
        _check_int("retries", self.retries, minimum=0)
        for name in ("breaker_threshold", "max_concurrency", "max_batch_size"):
            _check_int(name, getattr(self, name), minimum=1)
        if not isinstance(self.jitter, bool):
            raise ValueError(f"jitter must be true or false, got {self.jitter!r}")
        if self.backoff_max < self.backoff_base:
            raise ValueError(
                f"backoff_max ({self.backoff_max:g}) must not be less than "
                f"backoff_base ({self.backoff_base:g})"
            )

    @classmethod
    def names(cls) -> list[str]:
        return sorted(f.name for f in fields(cls))

    @property
    def budget(self) -> float:
        """The longest one fetch may take: `deadline`, or every call timing out with the
        longest waits between them."""
        if self.deadline is not None:
            return self.deadline
        return self.timeout * (self.retries + 1) + self.backoff_max * self.retries

    def backoff(self, retry: int, rng: random.Random) -> float:
        """The wait before retry number `retry` (0 for the first retry)."""
        cap = min(self.backoff_max, self.backoff_base * 2**retry)
        return rng.uniform(0, cap) if self.jitter else cap


def _check_number(name: str, value: object, *, positive: bool) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (positive and value == 0):
        which = "a positive" if positive else "a non-negative"
        raise ValueError(f"{name} must be {which} number of seconds, got {value!r}")


def _check_int(name: str, value: object, *, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, got {value!r}")


class CircuitState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Closed: calls go through, consecutive failures are counted. Open (after `threshold`
    of them): every call fails fast with `CircuitOpen` for `reset` seconds. Half-open (after
    that): exactly one probe call goes through; its success closes the circuit, its failure
    opens it for another `reset` seconds.

    A failure is a call that raised, garbage included; an answer with some unusable records
    is a success (the system is up)."""

    def __init__(self, system: str, threshold: int, reset: float, clock: Callable[[], float]):
        self.system = system
        self.threshold = threshold
        self.reset = reset
        self.clock = clock
        self.failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> CircuitState:
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self._probing or self.clock() - self._opened_at >= self.reset:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN

    def check(self) -> None:
        """Fail fast while open, without taking the probe."""
        if self.state is CircuitState.OPEN:
            raise self._refusal()

    def admit(self) -> bool:
        """Let one call through or raise `CircuitOpen`; True when the call is the probe."""
        state = self.state
        if state is CircuitState.CLOSED:
            return False
        if state is CircuitState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        raise self._refusal()

    def succeeded(self) -> None:
        self.failures = 0
        self._opened_at = None
        self._probing = False

    def failed(self, probe: bool) -> None:
        self.failures += 1
        if probe:
            self._probing = False
            self._opened_at = self.clock()
        elif self._opened_at is None and self.failures >= self.threshold:
            self._opened_at = self.clock()

    def abandoned(self, probe: bool) -> None:
        """A call cancelled before it could tell anything: let another probe try."""
        if probe:
            self._probing = False

    def _refusal(self) -> CircuitOpen:
        if self._probing:
            return CircuitOpen(self.system, "circuit half-open, a probe call is in flight")
        assert self._opened_at is not None
        wait = max(0.0, self.reset - (self.clock() - self._opened_at))
        return CircuitOpen(
            self.system,
            f"circuit open after {self.failures} consecutive failures; next probe in {wait:.1f} s",
        )


class _InFlight:
    def __init__(self, task: asyncio.Task[FetchResult]):
        self.task = task
        self.waiters = 0


class ResilientSource(Source):
    """`inner` behind a `Policy`; a `Source` itself, so callers cannot tell the difference
    except that it fails sooner and more politely.

    A request is split into chunks of at most `max_batch_size` ids (one inner call each, run
    concurrently up to `max_concurrency`); if every chunk fails, the fetch raises the first
    chunk's error, and if only some do, their ids are in `FetchResult.failed`. A chunk identical to one already in flight (same record type, ids and fields) waits
    for that one's answer instead of calling again; its work is cancelled only when every
    caller waiting for it has gone.

    `clock`, `sleep` and `rng` drive the deadline, the circuit and the backoff, so tests can
    run them on fake time; the per-call timeout is measured by the event loop.

    Attributes:
        breaker: the circuit breaker (`circuit` is its state, for tests and metrics).
        record_types: what the inner source serves, as configured or discovered.
    """

    def __init__(
        self,
        inner: Source,
        policy: Policy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
        record_types: Sequence[RecordType] | None = None,
    ):
        self.inner = inner
        self.name = inner.name
        self.policy = policy or Policy()
        self.record_types = tuple(
            record_types if record_types is not None else getattr(inner, "record_types", ())
        )
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(self.policy.max_concurrency)
        self._in_flight: dict[tuple, _InFlight] = {}
        self.breaker = CircuitBreaker(
            self.name, self.policy.breaker_threshold, self.policy.breaker_reset, clock
        )

    @property
    def circuit(self) -> CircuitState:
        return self.breaker.state

    @property
    def can_deliver(self) -> bool:  # type: ignore[override]
        return self.inner.can_deliver

    async def deliver(self, path: str, idempotency_key: str, payload: Mapping[str, Any]) -> None:
        """One attempt, bounded by the policy's timeout. No retries and no circuit here: the
        outbox retries on its own schedule (minutes and hours, not the seconds a read can
        wait), and a delivery must not open the circuit that reads depend on."""
        scope = asyncio.timeout(self.policy.timeout)
        try:
            async with scope:
                await self.inner.deliver(path, idempotency_key, payload)
        except TimeoutError:
            if not scope.expired():
                raise
            raise SourceTimeout(self.name, f"no answer within {self.policy.timeout:g} s") from None

    async def fetch(self, request: FetchRequest) -> FetchResult:
        ids = tuple(dict.fromkeys(request.ids))
        if not ids:
            return FetchResult()
        self.breaker.check()
        size = self.policy.max_batch_size
        chunks = [
            FetchRequest(request.record_type, ids[start : start + size], request.fields)
            for start in range(0, len(ids), size)
        ]
        if len(chunks) == 1:
            answers: list = [await self._shared(chunks[0])]
        elif self.breaker.state is CircuitState.HALF_OPEN:
            # Only one call may probe a recovering system: let the first chunk be that call,
            # and the rest follow once it has shown the system is back.
            try:
                first: FetchResult | BaseException = await self._shared(chunks[0])
            except SourceError as error:
                first = error
            rest = await asyncio.gather(
                *(self._shared(chunk) for chunk in chunks[1:]), return_exceptions=True
            )
            answers = [first, *rest]
        else:
            answers = await asyncio.gather(
                *(self._shared(chunk) for chunk in chunks), return_exceptions=True
            )
        failures = [a for a in answers if isinstance(a, BaseException)]
        if failures and (len(failures) == len(answers) or not all(
            isinstance(f, SourceError) for f in failures
        )):
            raise failures[0]  # nothing to give back, or a bug in the kind: surface it
        merged = FetchResult()
        for chunk, answer in zip(chunks, answers, strict=True):
            if isinstance(answer, BaseException):
                # One chunk failed, others did not: only its ids go without their records.
                merged.failed.update(dict.fromkeys(chunk.ids, answer))
                continue
            merged.records.update(answer.records)
            merged.invalid.update(answer.invalid)
        return merged

    async def aclose(self) -> None:
        tasks = [entry.task for entry in self._in_flight.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.inner.aclose()

    async def _shared(self, request: FetchRequest) -> FetchResult:
        key = (request.record_type.system, request.record_type.name, request.ids, request.fields)
        entry = self._in_flight.get(key)
        if entry is None:
            entry = _InFlight(asyncio.create_task(self._call(request)))
            self._in_flight[key] = entry
            entry.task.add_done_callback(lambda task: self._landed(key, task))
        entry.waiters += 1
        try:
            return await asyncio.shield(entry.task)
        finally:
            entry.waiters -= 1
            if entry.waiters == 0 and not entry.task.done():
                entry.task.cancel()

    def _landed(self, key: tuple, task: asyncio.Task) -> None:
        if (entry := self._in_flight.get(key)) is not None and entry.task is task:
            del self._in_flight[key]
        if not task.cancelled():
            task.exception()  # seen: every waiter may have gone before it landed

    async def _call(self, request: FetchRequest) -> FetchResult:
        # From when the system is asked, not from when the client's request began: a
        # healthy system must never be timed out for the gateway's own slowness.
        deadline = self._clock() + self.policy.budget
        last: SourceUnavailable | SourceTimeout | None = None
        for attempt in range(self.policy.retries + 1):
            if last is not None:
                delay = self.policy.backoff(attempt - 1, self._rng)
                if self._clock() + delay >= deadline:
                    break  # no time left for another call
                await self._sleep(delay)
            try:
                return await self._attempt(request, deadline)
            except CircuitOpen:
                if last is not None:
                    raise last from None  # the circuit opened on our own failures: say why
                raise
            except SourceProtocolError:
                raise
            except (SourceUnavailable, SourceTimeout) as error:
                last = error
        assert last is not None
        raise last

    async def _attempt(self, request: FetchRequest, deadline: float) -> FetchResult:
        self.breaker.check()  # before queueing for a slot, so an open circuit fails fast
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise SourceTimeout(self.name, f"no answer within {self.policy.budget:g} s")
        try:
            async with asyncio.timeout(remaining):
                await self._slots.acquire()
        except TimeoutError:
            raise SourceTimeout(
                self.name,
                f"no free call slot within {self.policy.budget:g} s "
                f"(max_concurrency {self.policy.max_concurrency})",
            ) from None
        try:
            probe = self.breaker.admit()
            try:
                result = await self._timed(request, deadline)
            except asyncio.CancelledError:
                self.breaker.abandoned(probe)
                raise
            except Exception:
                self.breaker.failed(probe)
                raise
            self.breaker.succeeded()
            return result
        finally:
            self._slots.release()

    async def _timed(self, request: FetchRequest, deadline: float) -> FetchResult:
        limit = min(self.policy.timeout, deadline - self._clock())
        scope = asyncio.timeout(limit)
        try:
            async with scope:
                return await self.inner.fetch(request)
        except TimeoutError:
            if not scope.expired():
                raise  # the kind's own TimeoutError, not ours: a bug to surface
            if limit < self.policy.timeout and self.policy.budget != self.policy.timeout:
                # Cut short by a deadline the operator would not recognise as the timeout.
                raise SourceTimeout(
                    self.name, f"no answer within the {self.policy.budget:g} s deadline"
                ) from None
            raise SourceTimeout(self.name, f"no answer within {self.policy.timeout:g} s") from None
