"""Source kinds by name: the built-in ones, and plug-ins found through entry points.

A package adds a kind without editing ledgergate by declaring, in its `pyproject.toml`:

    [project.entry-points."ledgergate.sources"]
    ticketing = "acme_ledgergate.ticketing:TicketingSource"

after which `kind = "ticketing"` works in a sources config. The class is a `Source` subclass
with the constructor described there. A plug-in cannot replace a built-in kind.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points

from .base import Source

ENTRY_POINT_GROUP = "ledgergate.sources"

# Imported only when a config asks for them, so that a deployment without, say, SQL
# sources never imports a database driver.
BUILTIN_KINDS: Mapping[str, str] = {
    "graphql": "sources.graphql:GraphQLSource",
    "mock": "sources.mock:MockSource",
    "rest": "sources.rest:RestSource",
    "sql": "sources.sql:SqlSource",
}


class SourceKindError(LookupError):
    """A kind that is not known, or whose class cannot be loaded."""

    def __str__(self) -> str:
        return str(self.args[0])


class SourceRegistry:
    """Kind name → `Source` class. `plugins` defaults to the installed entry points of
    `ENTRY_POINT_GROUP`, read when first needed."""

    def __init__(
        self,
        builtins: Mapping[str, str] = BUILTIN_KINDS,
        plugins: Iterable[EntryPoint] | None = None,
    ):
        self.builtins = dict(builtins)
        self._plugins = None if plugins is None else list(plugins)

    @property
    def plugins(self) -> dict[str, EntryPoint]:
        if self._plugins is None:
            self._plugins = list(entry_points(group=ENTRY_POINT_GROUP))
        return {ep.name: ep for ep in self._plugins if ep.name not in self.builtins}

    def kinds(self) -> list[str]:
        return sorted({*self.builtins, *self.plugins})

    def __contains__(self, kind: object) -> bool:
        return kind in self.builtins or kind in self.plugins

    def unknown(self, kind: object) -> str:
        return f"unknown kind {kind!r}; known kinds: {', '.join(self.kinds())}"

    def source_class(self, kind: str) -> type[Source]:
        if kind in self.builtins:
            where = self.builtins[kind]
            load = lambda: _import(where)  # noqa: E731
        elif (plugin := self.plugins.get(kind)) is not None:
            where = f"entry point {plugin.value!r}"
            load = plugin.load
        else:
            raise SourceKindError(self.unknown(kind))
        try:
            cls = load()
        except Exception as error:  # an ImportError, or whatever the plug-in's import raised
            problem = f"kind {kind!r} cannot be loaded from {where}: {error}"
            raise SourceKindError(problem) from error
        if not (isinstance(cls, type) and issubclass(cls, Source)):
            raise SourceKindError(f"kind {kind!r} ({where}) is not a Source subclass: {cls!r}")
        return cls


def _import(dotted: str) -> object:
    module, _, attribute = dotted.partition(":")
    return getattr(importlib.import_module(module), attribute)


REGISTRY = SourceRegistry()


def source_class(kind: str) -> type[Source]:
    """The class of `kind`, from the built-ins or the installed plug-ins."""
    return REGISTRY.source_class(kind)


def known_kinds() -> list[str]:
    return REGISTRY.kinds()
