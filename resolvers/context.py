"""Per-request state handed to every resolver as `info.context`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.store import LedgerDatabase

from .errors import user_input_error
from .principal import Principal
from .sources.catalog import EMPTY_CATALOG, SourceCatalog

L = TypeVar("L")


@dataclass(frozen=True)
class Limits:
    default_page_size: int = 100
    max_page_size: int = 10_000


class RequestContext:
    """The caller, its entity-confined database access and its dataloaders.

    Loaders are created on first use, so a request that needs none pays for none; they
    live for one request only (they cache, and they bind to the running event loop).
    Each loader batch opens its own short session: GraphQL resolves siblings
    concurrently and one AsyncSession must never serve two tasks at once.
    """

    def __init__(
        self,
        db: LedgerDatabase,
        principal: Principal,
        limits: Limits | None = None,
        sources: SourceCatalog = EMPTY_CATALOG,
    ):
        self.db = db
        self.principal = principal
        self.limits = limits or Limits()
        self.sources = sources
        self._loaders: dict[object, object] = {}

    @property
    def entity(self):
        return self.principal.entity

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self.db.session(self.principal.entity.id)

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
        if first is None:
            return self.limits.default_page_size
        if not 1 <= first <= self.limits.max_page_size:
            raise user_input_error(
                f"first must be between 1 and {self.limits.max_page_size}, got {first}",
                argument="first",
            )
        return first
