"""Per-client rate limits: GCRA (the generic cell rate algorithm, a token bucket kept as one
number per key), in this process's memory.

What is limited (`RateLimits`, built from `[rate_limit]`, `gateway.config.RateLimitSettings`):

- `/graphql`, per integration client (`Principal.client_id`), once the bearer token has
  been verified and before the query is parsed or executed: `requests_per_second` on
  average, up to `burst` at once. A request with a bad token is refused (401) before it
  reaches the limiter, so it consumes no one's budget. A principal without a client (only
  one injected through `create_app(principals=...)`, as a benchmark does) is not limited.
- `/oauth/token`, against guessing secrets at speed (and against making the gateway run
  scrypt at speed): every POST counts against its remote address
  (`token_requests_per_minute_per_address`; IPv6 per /64, which one host usually holds
  whole), and, once its form is read and before the secret is checked, against the
  client id it presents *from that address* (`token_requests_per_minute`), whether that
  client exists or not, whether the attempt then succeeds or not, and against a much
  higher ceiling for the client id from every address together
  (`token_requests_per_minute_per_client`). Someone who knows a client id and guesses its
  secret from one address locks out that address, not the client: its own address keeps
  its own budget (limiting the pair, not the client id alone, is what stops the lockout).
  A minute's worth may come at once.
  Anything presented that cannot be a client id (`identities.CLIENT_ID_PATTERN`), or no
  id at all, shares one key, so made-up ids cannot grow the table with long keys.

- `/graphql` requests refused for their bearer token (401), per remote address, at the
  per-address token rate: each is an audit row (`ledger.audit`), and no client's budget
  applies before authentication, so past the limit they are answered 429 and logged, not
  audited one by one: a flood of bad tokens cannot turn into a flood of database writes.

A refused request consumes nothing more; `Retry-After` is how long until the same request
would be admitted, in whole seconds rounded up (at least 1).

Why GCRA written here rather than the `limits` library (alisaifee/limits, evaluated at
5.8): its in-memory storage reads `time.time()` itself (tests could only control time by
patching the library), keeps one entry per admitted request for its moving window
(`burst` entries per client) and sweeps expired keys in a task that visits every key,
and it has no token bucket: rate plus burst would be two windows. GCRA keeps one float per
key, decides in O(1) with exact arithmetic (times are counted in units of 1/rate, so
with a whole-second clock every quantity is a whole number) and gives the exact wait. Its
strength, storage shared by several processes, needs Redis, Memcached or MongoDB (it has no
PostgreSQL storage), which a ledgergate deployment does not have.

Several processes (uvicorn workers, or gateways behind a balancer, on one database): each
keeps its own tables, so every limit holds per process. With P processes a client may get
up to P × `requests_per_second` (bursts of P × `burst`), and an address or client id up to
P times each per-minute budget; a client whose requests all reach one process (one
keep-alive connection) gets exactly its limit. That is safe for what the limits are for:
each process's CPU and pool stay guarded against one client exactly as before, the scrypt
work each process can be made to do per minute is unchanged, and a 256-bit client secret
stays out of reach of guessing at P times the rate. What it is not is a global quota: to
hold a client to N across P processes, set N / P (or limit at a shared proxy in front).

Memory stays bounded: a key whose theoretical arrival time has passed is in the same state
as a key never seen, so dropping it loses nothing; the table is kept in least-recently-used
order and holds at most `max_keys` keys, the least recently used going first. Only more
than `max_keys` distinct keys active within one burst window could evict a live one (it
would then start afresh, with a full burst).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from .auth.identities import CLIENT_ID_PATTERN

DEFAULT_MAX_KEYS = 100_000
# The key of every presented client id that cannot be one (and of none presented).
NOT_A_CLIENT_ID = "?"


@dataclass(frozen=True)
class Rate:
    """`count` requests every `period` seconds on average, up to `burst` at once."""

    count: int
    period: int
    burst: int


class Limiter:
    """GCRA over string keys.

    Time is counted in units of 1/`count` seconds (a moment `t` in seconds is `t * count`),
    so that the emission interval, `period / count` seconds, is the whole number `period`
    and no rounding creeps in. Per key the table holds the theoretical arrival time (TAT)
    in those units: a request at `now` is admitted when `TAT - now <= period * (burst - 1)`,
    and then moves TAT one interval on from max(TAT, now).
    """

    def __init__(self, rate: Rate, *, max_keys: int = DEFAULT_MAX_KEYS):
        if min(rate.count, rate.period, rate.burst) < 1:
            raise ValueError(f"a rate needs a positive count, period and burst, got {rate}")
        self.rate = rate
        self.max_keys = max_keys
        self._interval = rate.period
        self._tolerance = rate.period * (rate.burst - 1)
        self._tat: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._tat)

    def acquire(self, key: str, now: float) -> int | None:
        """Admit one request for `key` at `now` (seconds): None, its budget consumed; or the
        whole seconds (≥ 1) until it would be admitted, nothing consumed."""
        scaled = now * self.rate.count
        # Popped and put back: dict order is then least recently used first.
        tat = max(self._tat.pop(key, scaled), scaled)
        wait = tat - self._tolerance - scaled
        if wait > 0:
            self._tat[key] = tat
            return max(1, math.ceil(wait / self.rate.count))
        self._tat[key] = tat + self._interval
        if len(self._tat) > self.max_keys:
            del self._tat[next(iter(self._tat))]
        return None


class RateLimited(Exception):
    """A request over its limit: `retry_after` whole seconds, and what the limit is."""

    def __init__(self, message: str, retry_after: int, limit: dict[str, int]):
        super().__init__(message)
        self.retry_after = retry_after
        self.limit = limit


class RateLimits:
    """The gateway's limiters (see the module's docstring).

    `clock` is read for every decision (`time.monotonic`: immune to the wall clock being
    set); tests replace it to move time without sleeping.
    """

    def __init__(
        self,
        *,
        requests_per_second: int,
        burst: int,
        token_requests_per_minute: int,
        token_requests_per_minute_per_address: int,
        token_requests_per_minute_per_client: int = 600,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = DEFAULT_MAX_KEYS,
    ):
        self.clock = clock
        self.graphql = Limiter(Rate(requests_per_second, 1, burst), max_keys=max_keys)
        # Keyed by "client id@address": a client's attempts from one address.
        self.token_client = Limiter(
            Rate(token_requests_per_minute, 60, token_requests_per_minute), max_keys=max_keys
        )
        ceiling = token_requests_per_minute_per_client
        self.token_client_ceiling = Limiter(Rate(ceiling, 60, ceiling), max_keys=max_keys)
        self.token_address = Limiter(
            Rate(token_requests_per_minute_per_address, 60, token_requests_per_minute_per_address),
            max_keys=max_keys,
        )
        # Refused bearer tokens on /graphql, per address, at the same rate as token requests:
        # each refusal is an audit row, and no client budget applies before authentication.
        self.refusals = Limiter(
            Rate(token_requests_per_minute_per_address, 60, token_requests_per_minute_per_address),
            max_keys=max_keys,
        )

    @classmethod
    def from_settings(cls, settings) -> RateLimits | None:
        """From `RateLimitSettings`; None when the limits are off."""
        if not settings.enabled:
            return None
        return cls(
            requests_per_second=settings.requests_per_second,
            burst=settings.burst,
            token_requests_per_minute=settings.token_requests_per_minute,
            token_requests_per_minute_per_address=settings.token_requests_per_minute_per_address,
            token_requests_per_minute_per_client=settings.token_requests_per_minute_per_client,
        )

    def graphql_request(self, client_id: str | None) -> None:
        """Admit one /graphql request of `client_id` (None: not limited), or RateLimited."""
        if client_id is None:
            return
        wait = self.graphql.acquire(client_id, self.clock())
        if wait is not None:
            rate = self.graphql.rate
            raise RateLimited(
                f"Rate limit exceeded: this client may send {rate.count} requests per second "
                f"(bursts of {rate.burst}); retry after {wait} s",
                wait,
                {"requestsPerSecond": rate.count, "burst": rate.burst},
            )

    def token_attempt_from(self, address: str | None) -> None:
        """Admit one token request from `address` (the peer's IP), or RateLimited."""
        self._per_minute(self.token_address, address_key(address),
                         "too many token requests from this address")

    def refused_token_from(self, address: str | None) -> None:
        """Count one /graphql request refused for its token from `address`; past the limit,
        RateLimited (answered 429, and no longer written to the audit log one by one)."""
        self._per_minute(self.refusals, address_key(address),
                         "too many requests with a missing or refused access token from this address")

    def token_attempt_for(self, client_id: str, address: str | None = None) -> None:
        """Admit one token request presenting `client_id` from `address`, or RateLimited."""
        key = client_id if CLIENT_ID_PATTERN.fullmatch(client_id) else NOT_A_CLIENT_ID
        self._per_minute(self.token_client, f"{key}@{address_key(address)}",
                         "too many token requests for this client from this address")
        self._per_minute(self.token_client_ceiling, key,
                         "too many token requests for this client from all addresses")

    def _per_minute(self, limiter: Limiter, key: str, what: str) -> None:
        wait = limiter.acquire(key, self.clock())
        if wait is not None:
            count = limiter.rate.count
            raise RateLimited(
                f"{what} (at most {count} a minute); retry after {wait} s",
                wait,
                {"requestsPerMinute": count},
            )


def address_key(address: str | None) -> str:
    """The key of a peer address: an IPv4 address itself, an IPv6 address its /64 network
    (one host or site usually holds a whole /64, and could otherwise rotate through it)."""
    if not address:
        return "?"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # not an IP (a Unix socket's peer, a test transport's name)
        return address[:64]
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is the IPv4 peer a.b.c.d
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, 64), strict=False))
