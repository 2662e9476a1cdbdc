"""GraphQL types of source records: one interface, and one typed class per configured
record type, built at start from configuration (no Python needed to add a system)."""

from __future__ import annotations

import datetime as dt
import decimal
import keyword
from typing import Any

import strawberry
from strawberry.types import Info

from sources.base import RecordType

from ..ids import parse_cursor
from ..ledger.types import JournalLine, line_connection
from ..pagination import Connection
from ..scopes import requires, source_read_scope, source_sensitive_scope
from .dataloaders import LinesBySourceLoader

PYTHON_TYPES: dict[str, Any] = {
    "ID": strawberry.ID,
    "String": str,
    "Int": int,
    "Boolean": bool,
    "Decimal": decimal.Decimal,
    "Date": dt.date,
    "DateTime": dt.datetime,
}

INTERFACE_FIELDS = {"system", "recordType", "recordId", "url", "ledgerLines"}


@strawberry.interface(description="A record in the source system that owns it.")
class SourceRecord:
    system: str
    record_type: str
    record_id: str
    url: str | None

    @strawberry.field(description="Every ledger line linked to this record, in date order.")
    async def ledger_lines(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[JournalLine]:
        size = info.context.page_size(first)
        position = parse_cursor(after, dt.date, int) if after else None
        key = ((self.system, self.record_type, self.record_id), size, position)
        rows, has_next = await info.context.loader(LinesBySourceLoader).load(key)
        return line_connection(rows, has_next)


def _attribute(name: str) -> str:
    # GraphQL names are kept as declared; the Python attribute only has to be legal.
    safe = f"f_{name}"
    return safe if not keyword.iskeyword(safe) else safe + "_"


def build_record_type(record_type: RecordType) -> type:
    """A Strawberry class for `record_type`, implementing SourceRecord."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": __name__}
    sensitive = requires(source_sensitive_scope(record_type.system))
    for spec in record_type.fields:
        python_type = PYTHON_TYPES[spec.type]
        # A sensitive field is nullable whatever its spec says: a caller without the
        # sensitive scope gets null there (with FORBIDDEN), and the rest of the record.
        nullable = spec.nullable or spec.sensitive
        annotations[_attribute(spec.name)] = python_type | None if nullable else python_type
        namespace[_attribute(spec.name)] = strawberry.federation.field(
            name=spec.name,
            description="Personal or compensation data." if spec.sensitive else None,
            requires_scopes=sensitive if spec.sensitive else None,
        )
    cls = type(record_type.graphql_name, (SourceRecord,), namespace)
    return strawberry.federation.type(
        cls,
        name=record_type.graphql_name,
        requires_scopes=requires(source_read_scope(record_type.system)),
        description=f"{record_type.name}: a record of the {record_type.system} system.",
    )


def make_record(graphql_type: type, record_type: RecordType, record: dict) -> Any:
    """An instance of the built class for one fetched record (absent fields are None)."""
    record_id = str(record[record_type.key])
    values = {_attribute(spec.name): record.get(spec.name) for spec in record_type.fields}
    return graphql_type(
        system=record_type.system,
        record_type=record_type.name,
        record_id=record_id,
        url=record_type.url(record_id),
        **values,
    )
