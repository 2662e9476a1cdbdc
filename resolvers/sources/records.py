"""Resolving a source record from its (system, record type, id), through the request's loaders."""

from __future__ import annotations

from strawberry.types import Info

from ..errors import NOT_FOUND, CodedError
from ..scopes import source_sensitive_scope
from .dataloaders import SourceRecordLoader
from .selection import selected_record_fields
from .types import make_record


async def resolve_source_record(info: Info, system: str, record_type: str, record_id: str):
    """The live record, typed per its record type; errors null only this field."""
    catalog = info.context.sources
    spec = catalog.record_types.get((system, record_type))
    if spec is None:
        raise CodedError(
            f"{system}/{record_type}/{record_id}: no source system {system!r} with record "
            f"type {record_type!r} is configured",
            NOT_FOUND,
            system=system,
        )
    declared = {f.name for f in spec.fields}
    fields = tuple(sorted({spec.key} | (selected_record_fields(info, spec.graphql_name) & declared)))
    loader = info.context.keyed_loader(
        ("source-record", system, record_type, fields),
        lambda: SourceRecordLoader(catalog.sources[system], spec, fields, info.context.entity.code),
    )
    record = await loader.load(record_id)
    if loader.sensitive_fields and source_sensitive_scope(system) in info.context.principal.scopes:
        # The response will carry these fields of this record: the audit log must say so
        # (`sensitive_read`). Without the scope they come back null with FORBIDDEN, which
        # the gateway records as `access_denied` instead.
        info.context.audit.sensitive_read(system, record_type, loader.sensitive_fields, record_id)
    return make_record(catalog.graphql_types[(system, record_type)], spec, record)
