"""Engines and entity-scoped sessions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .changes import LISTENERS_KEY, Announcements
from .reference_cache import REFERENCE_CACHE_KEY, ReferenceCache
from .tenancy import ENTITY_KEY, LedgerSession

if TYPE_CHECKING:
    from .group_commit import GroupCommit


def normalize_url(url: str) -> str:
    """Accept plain `sqlite:///x.db` / `postgresql://…` and pick the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


@dataclass(frozen=True)
class PoolSettings:
    """The connection pool of one engine. `timeout`: seconds a checkout may wait before
    SQLAlchemy's `TimeoutError`, which the gateway answers UNAVAILABLE (retry), not INTERNAL."""

    size: int = 10
    max_overflow: int = 20
    timeout: float = 5.0


def create_engine(url: str, *, echo: bool = False, pool: PoolSettings | None = None) -> AsyncEngine:
    url = normalize_url(url)
    pool = pool or PoolSettings()
    sizing = {"pool_size": pool.size, "max_overflow": pool.max_overflow, "pool_timeout": pool.timeout}
    if url.startswith("sqlite"):
        if ":memory:" in url or url.rstrip("/").endswith("sqlite+aiosqlite:"):
            sizing = {}  # one shared in-memory connection (StaticPool): no sizing applies
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, **sizing)
        _tune_sqlite(engine)
        return engine
    return create_async_engine(url, echo=echo, **sizing)


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the single writer; foreign keys are off by default.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


class LedgerDatabase:
    """One database: its engine and a factory of sessions confined to an entity."""

    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self._pools: list[LedgerDatabase] = []  # made by with_own_pool
        self._listeners: list[tuple[str, object]] = []
        self._sessions = async_sessionmaker(
            engine, sync_session_class=LedgerSession, expire_on_commit=False
        )
        # Reference data for postings, per entity (`ledger.reference_cache`): kept per
        # process, checked against the database's version at every posting.
        self.references = ReferenceCache()
        self._group_commit: GroupCommit | None = None
        # Committed changes, for this process's subscribers on SQLite (`ledger.changes`).
        self.announcements = Announcements()

    @classmethod
    def from_url(cls, url: str, *, echo: bool = False, pool: PoolSettings | None = None) -> LedgerDatabase:
        return cls(create_engine(url, echo=echo, pool=pool))

    def with_own_pool(self, pool: PoolSettings) -> LedgerDatabase:
        """The same database through an engine (and pool) of its own: work that must never
        queue behind another's connections (authentication) uses one. Dispose it apart."""
        url = self.engine.url.render_as_string(hide_password=False)
        sibling = LedgerDatabase(create_engine(url, echo=self.engine.echo, pool=pool))
        sibling.announcements = self.announcements
        for name, listener in self._listeners:
            sibling.listen(name, listener)
        self._pools.append(sibling)
        return sibling

    def listen(self, name: str, listener) -> None:
        """An engine event (`before_cursor_execute`, say) on this database's every engine,
        those `with_own_pool` makes later included: one database, however many pools."""
        self._listeners.append((name, listener))
        event.listen(self.engine.sync_engine, name, listener)
        for sibling in self._pools:
            sibling.listen(name, listener)

    @property
    def group_commit(self) -> GroupCommit:
        """This process's group commit of single postings (`ledger.group_commit`)."""
        if self._group_commit is None:
            from .group_commit import GroupCommit  # it posts through this module's sessions

            self._group_commit = GroupCommit(self)
        return self._group_commit

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self, entity_id: int | None) -> AsyncIterator[AsyncSession]:
        """A session confined to `entity_id` (None: only `ALL_ENTITIES` statements run)."""
        info = {ENTITY_KEY: entity_id, REFERENCE_CACHE_KEY: self.references,
                LISTENERS_KEY: self.announcements}
        async with self._sessions(info=info) as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
