"""Resolving source records from their (system, record type, id), through the request's loaders."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from strawberry.types import Info

from ..errors import NOT_FOUND, CodedError
from ..scopes import check_scope, source_read_scope, source_sensitive_scope
from .dataloaders import SourceRecordLoader
from .selection import selected_record_fields
from .types import make_record

SourceKey = tuple[str, str, str]


async def resolve_source_record(info: Info, system: str, record_type: str, record_id: str, where: str):
    """The live record, typed per its record type; errors null only this field."""
    [record] = await resolve_source_records(info, [(system, record_type, record_id)], where)
    if isinstance(record, Exception):
        raise record
    return record


async def resolve_source_records(info: Info, keys: Sequence[SourceKey], where: str) -> list:
    """Each key's record, or the error that nulls its field (`resolvers.batch`): FORBIDDEN
    without the system's read scope (`where` names the field), NOT_FOUND for a system or
    record type that is not configured, else what its system's loader answers. One loader
    per record type and selected fields serves every key of it."""
    answers: list = [None] * len(keys)
    by_type: dict[tuple[str, str], list[int]] = {}
    for index, (system, record_type, record_id) in enumerate(keys):
        try:
            if system in info.context.sources.sources:  # else NOT_FOUND, as for any unknown system
                check_scope(info, source_read_scope(system), where)
            if (system, record_type) not in info.context.sources.record_types:
                raise CodedError(
                    f"{system}/{record_type}/{record_id}: no source system {system!r} with record "
                    f"type {record_type!r} is configured",
                    NOT_FOUND,
                    system=system,
                )
        except CodedError as error:
            answers[index] = error
        else:
            by_type.setdefault((system, record_type), []).append(index)
    await asyncio.gather(*(_fetch(info, key, indices, keys, answers) for key, indices in by_type.items()))
    return answers


async def _fetch(info: Info, key: tuple[str, str], indices: list[int], keys: Sequence[SourceKey], answers: list) -> None:
    catalog = info.context.sources
    system, record_type = key
    spec = catalog.record_types[key]
    declared = {f.name for f in spec.fields}
    fields = tuple(sorted({spec.key} | (selected_record_fields(info, spec.graphql_name) & declared)))
    loader = info.context.keyed_loader(
        ("source-record", system, record_type, fields),
        lambda: SourceRecordLoader(catalog.sources[system], spec, fields, info.context.entity.code),
    )
    found = await asyncio.gather(*(loader.load(keys[i][2]) for i in indices), return_exceptions=True)
    # The response will carry these fields of these records: the audit log must say so
    # (`sensitive_read`). Without the scope they come back null with FORBIDDEN, which the
    # gateway records as `access_denied` instead.
    audited = loader.sensitive_fields and source_sensitive_scope(system) in info.context.principal.scopes
    graphql_type = catalog.graphql_types[key]
    # Many links point at one record (483 links to 112 records in bench.lineage): each
    # record's object is made once and shared by its links (it is never altered).
    made: dict[str, object] = {}
    for index, record in zip(indices, found, strict=True):
        if isinstance(record, BaseException):
            if not isinstance(record, Exception):
                raise record
            answers[index] = record
            continue
        record_id = keys[index][2]
        if audited:
            info.context.audit.sensitive_read(system, record_type, loader.sensitive_fields, record_id)
        answer = made.get(record_id)
        if answer is None:
            try:
                answer = made[record_id] = make_record(graphql_type, spec, record)
            except Exception as error:  # noqa: BLE001 - this record's own error, as its field's
                answer = error  # not shared: each link's field gets its own
        answers[index] = answer
