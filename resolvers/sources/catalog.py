"""What the gateway knows of its source systems: the connectors, their record types and
the GraphQL type built for each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sources.base import RecordType, Source


@dataclass
class SourceCatalog:
    """Configured systems by name and record types by (system, record type name).

    Attributes:
        graphql_types: the Strawberry class built for each record type (`types.py`).
    """

    sources: Mapping[str, Source] = field(default_factory=dict)
    record_types: Mapping[tuple[str, str], RecordType] = field(default_factory=dict)
    graphql_types: dict[tuple[str, str], type] = field(default_factory=dict)

    @classmethod
    def of(cls, sources: Mapping[str, Source], record_types: Sequence[RecordType]) -> SourceCatalog:
        return cls(sources, {(t.system, t.name): t for t in record_types})

    async def aclose(self) -> None:
        for source in self.sources.values():
            await source.aclose()


EMPTY_CATALOG = SourceCatalog()
