"""What the gateway knows of its source systems: the connectors, their record types and
the GraphQL type built for each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sources.base import RecordType, Source
from sources.push import PushSettings


@dataclass
class SourceCatalog:
    """Configured systems by name and record types by (system, record type name).

    Attributes:
        graphql_types: the Strawberry class built for each record type (`types.py`).
    """

    sources: Mapping[str, Source] = field(default_factory=dict)
    record_types: Mapping[tuple[str, str], RecordType] = field(default_factory=dict)
    graphql_types: dict[tuple[str, str], type] = field(default_factory=dict)
    # system → topic → path: where the outbox delivers (`[systems.NAME.deliveries]`).
    deliveries: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # system → (its push settings, its push secret): the systems that push signed events.
    pushes: Mapping[str, tuple[PushSettings, bytes]] = field(default_factory=dict)

    def delivers(self, system: str | None, topic: str) -> bool:
        """Whether `system` takes the outbox's messages of `topic`."""
        return system is not None and topic in self.deliveries.get(system, {})

    @classmethod
    def of(cls, sources: Mapping[str, Source], record_types: Sequence[RecordType],
           deliveries: Mapping[str, Mapping[str, str]] | None = None,
           pushes: Mapping[str, tuple[PushSettings, bytes]] | None = None) -> SourceCatalog:
        """Refuses a record type that does not say which entity its records belong to: it
        could not be confined to the caller's entity (`sources.base.Ownership`)."""
        for t in record_types:
            if t.ownership is None:
                raise ValueError(
                    f"record type {t.system}/{t.name} declares no ownership, so its records "
                    "cannot be confined to the caller's entity; give it an Ownership "
                    "(shared=True only if every entity may read every record)"
                )
        return cls(sources, {(t.system, t.name): t for t in record_types},
                   deliveries=deliveries or {}, pushes=pushes or {})

    async def aclose(self) -> None:
        for source in self.sources.values():
            await source.aclose()


EMPTY_CATALOG = SourceCatalog()
