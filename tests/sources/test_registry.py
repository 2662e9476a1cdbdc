"""Source kinds by name: built-ins imported lazily, plug-ins through entry points."""

from importlib.metadata import EntryPoint

import pytest

from sources.base import FetchRequest, FetchResult, Source
from sources.mock import MockSource
from sources.registry import (
    BUILTIN_KINDS,
    ENTRY_POINT_GROUP,
    REGISTRY,
    SourceKindError,
    SourceRegistry,
    known_kinds,
    source_class,
)


class TicketingSource(Source):
    """A plug-in kind, as a third-party package would ship it."""

    def __init__(self, name, options, record_types, secrets):
        self.name = name

    async def fetch(self, request: FetchRequest) -> FetchResult:
        return FetchResult()


NOT_A_SOURCE = object()


def plugin(name, target):
    return EntryPoint(name=name, value=f"{__name__}:{target}", group=ENTRY_POINT_GROUP)


def test_the_built_in_kinds_are_known():
    assert set(BUILTIN_KINDS) == {"graphql", "mock", "rest", "sql"}
    assert set(BUILTIN_KINDS) <= set(known_kinds())
    assert all(kind in REGISTRY for kind in ("graphql", "mock", "rest", "sql"))


def test_mock_is_a_built_in_kind():
    assert source_class("mock") is MockSource


def test_an_unknown_kind_names_the_known_ones():
    registry = SourceRegistry(plugins=[])

    with pytest.raises(SourceKindError) as caught:
        registry.source_class("soap")

    assert str(caught.value) == "unknown kind 'soap'; known kinds: graphql, mock, rest, sql"


def test_a_plug_in_kind_comes_from_its_entry_point():
    registry = SourceRegistry(plugins=[plugin("ticketing", "TicketingSource")])

    assert registry.kinds() == ["graphql", "mock", "rest", "sql", "ticketing"]
    assert "ticketing" in registry
    assert registry.source_class("ticketing") is TicketingSource


def test_a_plug_in_cannot_replace_a_built_in_kind():
    registry = SourceRegistry(plugins=[plugin("mock", "TicketingSource")])

    assert registry.source_class("mock") is MockSource
    assert registry.kinds() == ["graphql", "mock", "rest", "sql"]


def test_a_plug_in_that_is_not_a_source_is_refused():
    registry = SourceRegistry(plugins=[plugin("odd", "NOT_A_SOURCE")])

    with pytest.raises(SourceKindError, match=r"^kind 'odd' \(entry point '.*:NOT_A_SOURCE'\) is not a Source subclass"):
        registry.source_class("odd")


def test_a_kind_whose_module_cannot_be_imported_says_so():
    registry = SourceRegistry(builtins={"ftp": "sources.no_such_module:FtpSource"}, plugins=[])

    with pytest.raises(SourceKindError) as caught:
        registry.source_class("ftp")

    assert str(caught.value) == (
        "kind 'ftp' cannot be loaded from sources.no_such_module:FtpSource: "
        "No module named 'sources.no_such_module'"
    )


def test_installed_entry_points_are_read_from_the_ledgergate_group(monkeypatch):
    import sources.registry as registry_module

    seen = []

    def entry_points(*, group):
        seen.append(group)
        return [plugin("ticketing", "TicketingSource")]

    monkeypatch.setattr(registry_module, "entry_points", entry_points)
    registry = SourceRegistry()

    assert registry.source_class("ticketing") is TicketingSource
    assert seen == ["ledgergate.sources"]
