"""Per-request state handed to every resolver as `info.context`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.audit import AuditTrail
from ledger.posting_plan import MAX_BATCH_ENTRIES, MAX_BATCH_LINES
from ledger.store import LedgerDatabase

from .errors import limit_exceeded, unavailable, user_input_error
from .principal import Principal
from .sources.catalog import EMPTY_CATALOG, SourceCatalog

L = TypeVar("L")


# The expensive fields and what one of each adds to a query's estimated cost (`Limits`).
# `sourceRecord` is one call to another system per field (records behind `SourceLink.record`
# are fetched in one batch per system and level, and `Account.balance` in one aggregate per
# batch, so they cost as fields); the audit log and the
# verification read the database well beyond the rows they return.
DEFAULT_FIELD_COSTS: tuple[tuple[str, int], ...] = (
    ("Query.verifyLedger", 250_000),
    ("Query.trialBalance", 50_000),
    ("Query.auditEvents", 10_000),
    ("Query.sourceRecord", 1_000),
)


@dataclass(frozen=True)
class Limits:
    """Page sizes, and the limits a query must keep to before it runs (`resolvers.limits`).

    The defaults leave room above every query the README, GraphiQL and the benchmarks
    send (tests/gateway/test_query_limits.py measures them on the demo's schema):
    GraphiQL's introspection query is the deepest, 15 fields (README queries: 12 at most),
    and costs about 52,000; the big-page benchmark (`lines(first: 10000)`, 8 fields) costs
    100,006 and the lineage benchmark (100 entries → lines → sources → records) about
    197,000, the most: a budget of 1,000,000 is 5 times that. At most 3 aliases and 181
    tokens.

    `field_costs` weighs the fields whose value costs far more than one field: each
    occurrence of `Type.field` adds its weight to the estimate (on top of its 1), times the
    list and page sizes around it, as any field. A full `verifyLedger` walks the whole hash
    chain, a trial balance aggregates the year: a fourth of the first, or a twentieth of the
    second, is over the budget, so thirty aliased `verifyLedger` are refused before anything runs,
    while a dashboard of a few trial balances and pages passes.
    """

    default_page_size: int = 100  # `first` when omitted
    max_page_size: int = 10_000  # largest `first` (LIMIT_EXCEEDED over it)
    max_depth: int = 20  # fields nested in fields: `{ entity { code } }` is 2
    max_aliases: int = 30  # aliased fields, fragments counted where spread
    max_tokens: int = 5_000  # lexical tokens of the document (and as many comments)
    max_cost: int = 1_000_000  # estimated field values of the response (see resolvers.limits)
    default_list_size: int = 10  # items the cost estimate assumes for a plain list
    field_costs: tuple[tuple[str, int], ...] = field(default=DEFAULT_FIELD_COSTS)  # Type.field → weight
    max_entry_lines: int = 10_000  # lines of one posted entry (BAD_USER_INPUT over it)
    max_batch_entries: int = MAX_BATCH_ENTRIES  # entries of one postJournalEntries (BAD_USER_INPUT over it)
    max_batch_lines: int = MAX_BATCH_LINES  # lines of all entries of one postJournalEntries


class RequestContext:
    """The caller, its entity-confined database access and its dataloaders.

    Loaders are created on first use, so a request that needs none pays for none; they
    live for one request only (they cache, and they bind to the running event loop).
    Each loader batch opens its own short session: GraphQL resolves siblings
    concurrently and one AsyncSession must never serve two tasks at once.

    `connections` bounds how many sessions (so pooled connections) the request holds at
    once: its resolvers and loaders wait for one of its own, never for more of the pool, so
    one request cannot starve the others. A request that waits `connection_timeout`
    seconds for a share, or the pool's own timeout for a connection, fails UNAVAILABLE.

    `audit` collects what the request must leave in the audit log (`ledger.audit`): the
    gateway writes it when the request ends; a mutation writes its own row in its
    transaction.
    """

    def __init__(
        self,
        db: LedgerDatabase,
        principal: Principal,
        limits: Limits | None = None,
        sources: SourceCatalog = EMPTY_CATALOG,
        request_id: str = "-",
        connections: int = 2,
        connection_timeout: float = 5.0,
    ):
        self.db = db
        self._share = asyncio.Semaphore(connections)
        self._share_timeout = connection_timeout
        self.principal = principal
        self.limits = limits or Limits()
        self.sources = sources
        self.request_id = request_id
        self._audit: AuditTrail | None = None
        self._loaders: dict[object, object] = {}

    @property
    def audit(self) -> AuditTrail:
        """The request's audit trail, made on first use: most requests record nothing."""
        if self._audit is None:
            principal = self.principal
            self._audit = AuditTrail(
                self.request_id,
                client_id=principal.client_id,
                username=principal.username,
                entity_id=principal.entity.id,
            )
        return self._audit

    @property
    def audit_started(self) -> bool:
        return self._audit is not None

    @property
    def entity(self):
        return self.principal.entity

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self._shared_session()

    @asynccontextmanager
    async def _shared_session(self) -> AsyncIterator[AsyncSession]:
        if self._share.locked():
            try:
                await asyncio.wait_for(self._share.acquire(), self._share_timeout)
            except TimeoutError:
                raise unavailable() from None
        else:
            # A free share is taken without waiting: no timeout to arm, and no task for
            # wait_for to run the acquisition in (one per session otherwise).
            await self._share.acquire()
        try:
            async with self.db.session(self.principal.entity.id) as session:
                yield session
        finally:
            self._share.release()

    def loader(self, loader_class: Callable[[RequestContext], L]) -> L:
        found = self._loaders.get(loader_class)  # type: ignore[arg-type]
        if found is None:
            found = self._loaders[loader_class] = loader_class(self)  # type: ignore[index]
        return found  # type: ignore[return-value]

    def keyed_loader(self, key: object, factory: Callable[[], L]) -> L:
        """A loader for one key (a source record type with its selected fields, say)."""
        found = self._loaders.get(key)
        if found is None:
            found = self._loaders[key] = factory()
        return found  # type: ignore[return-value]

    def page_size(self, first: int | None) -> int:
        # Pages over the maximum are refused before execution (`resolvers.limits`); this
        # is the same check where the resolver runs.
        if first is None:
            return self.limits.default_page_size
        if first > self.limits.max_page_size:
            raise limit_exceeded("page_size", first, self.limits.max_page_size)
        if first < 1:
            raise user_input_error(
                f"first must be between 1 and {self.limits.max_page_size}, got {first}",
                argument="first",
            )
        return first
