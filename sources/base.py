"""The connector contract: plain data in, plain data out.

A `Source` is one configured source system (a CRM, a point of sale, …). The gateway asks it
for records of one `RecordType` by id, in batches, naming the fields the client selected:

    result = await source.fetch(FetchRequest(record_type, ids=("SO-1", "SO-2"), fields=("id", "amount")))
    result.records["SO-1"]   # {"id": "SO-1", "amount": Decimal("120.00")}
    result.invalid           # {"SO-2": "amount: expected Decimal, got 'abc'"}

Contract, for every kind (SQL, REST, GraphQL, MockSource, plug-ins):
- `fetch` returns records keyed by the id the *record itself* carries in its key field;
  a record whose key is not one of the requested ids is dropped, never attached elsewhere.
- Ids the system does not know are simply absent from both `records` and `invalid`.
- Each returned record has exactly the requested `fields`, with values converted to the
  field's declared type (`coerce_record`); a record that cannot be converted goes into
  `invalid` with the reason, so one bad record does not sink its batch.
- Whole-batch failures raise `sources.errors` exceptions (unavailable, timeout, protocol);
  nothing else escapes (`map_exceptions` in each kind converts driver errors).
- `fetch` may be called concurrently; a kind needs no retry, timeout or circuit logic of its
  own: `sources.resilience.ResilientSource` wraps every configured source with those.
"""

from __future__ import annotations

import datetime as dt
import decimal
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]

# The scalar types a record field may declare, and how a raw value becomes one.
FIELD_TYPES = ("ID", "String", "Int", "Boolean", "Decimal", "Date", "DateTime")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a record type.

    Attributes:
        name: the field's name in ledgergate's schema (camelCase, as GraphQL shows it).
        type: one of FIELD_TYPES.
        source_name: the name in the source system (column, JSON key) if it differs.
        nullable: whether the source may leave it empty.
        sensitive: personal or compensation data, guarded by a stricter scope.
    """

    name: str
    type: str = "String"
    source_name: str | None = None
    nullable: bool = True
    sensitive: bool = False

    @property
    def remote_name(self) -> str:
        return self.source_name or self.name


@dataclass(frozen=True)
class Ownership:
    """Which entity a record type's records belong to: how the gateway confines them to the
    caller's entity. Exactly one is set:

    Attributes:
        field: a field of the record that holds the owning entity's code (`company`).
        entity: the code of the one entity every record belongs to (a per-entity system).
        shared: served to every entity on purpose (a price list of the holding, say).
    """

    field: str | None = None
    entity: str | None = None
    shared: bool = False

    def __post_init__(self) -> None:
        if (self.field is not None) + (self.entity is not None) + self.shared != 1:
            raise ValueError("an ownership names exactly one of a field, an entity, or shared")

    def describe(self) -> str:
        if self.field is not None:
            return f"owner = {self.field!r}"
        return f"entity = {self.entity!r}" if self.entity is not None else "shared"


@dataclass(frozen=True)
class RecordType:
    """A kind of record one system serves (`crm` / `SalesOrder`).

    Attributes:
        system: the configured system name, as in source links.
        name: the record type, as in source links (`SalesOrder`).
        graphql_name: the GraphQL type ledgergate builds for it (`CrmSalesOrder`).
        key: the field holding the record id.
        fields: every field the type exposes, the key included.
        url_template: deep link with `{id}`, e.g. `http://127.0.0.1:8101/crm/sales-orders/{id}`.
        options: what the kind needs to find the records (a REST path, a table, a
            remote type name); validated by the kind.
        ownership: which entity its records belong to; None (undeclared) means the
            gateway refuses to serve the type (`resolvers.sources.catalog`).
        verify_links: a posting that links to a record of this type is refused unless
            the record exists and belongs to the posting entity, asked at posting time.
    """

    system: str
    name: str
    graphql_name: str
    key: str
    fields: tuple[FieldSpec, ...]
    url_template: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    ownership: Ownership | None = None
    verify_links: bool = False

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def url(self, record_id: str) -> str | None:
        return self.url_template.replace("{id}", record_id) if self.url_template else None


@dataclass(frozen=True)
class FetchRequest:
    """Records of one type by id, with the fields the client selected (key always included)."""

    record_type: RecordType
    ids: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass
class FetchResult:
    """Attributes:
        records: the records found, by their own id.
        invalid: ids the system answered with a record that cannot be used, and why.
        failed: ids whose chunk of a larger request failed while other chunks succeeded
            (`resilience.ResilientSource`), and the error; a request that fails whole raises.
    """

    records: dict[str, Record] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)
    failed: dict[str, Exception] = field(default_factory=dict)


class Source(ABC):
    """One source system. Subclass per kind; register the kind under the `ledgergate.sources`
    entry-point group (`sources.registry`) to plug in a new kind without editing ledgergate.

    A kind's constructor takes `(name: str, options: Mapping[str, Any], record_types:
    Sequence[RecordType], secrets: Mapping[str, str])` and raises `SourceConfigError`-ready
    `ValueError`s for bad options.
    """

    name: str
    # Whether the kind implements `deliver` (the write side: the outbox's messages).
    can_deliver: bool = False

    @abstractmethod
    async def fetch(self, request: FetchRequest) -> FetchResult: ...

    async def deliver(self, path: str, idempotency_key: str, payload: Mapping[str, Any]) -> None:
        """Send one message to the system at `path`, with `idempotency_key` (the same on
        every attempt, so the system applies it once). Returns once the system took it;
        raises `SourceUnavailable` or `SourceTimeout` for a failure worth retrying, and
        `DeliveryRefused` for one that is not."""
        raise NotImplementedError(f"{type(self).__name__} cannot deliver messages")

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections; called once at shutdown."""


class CoercionError(ValueError):
    pass


def coerce_value(spec: FieldSpec, value: Any) -> Any:
    """A raw source value as the declared type; floats never become Decimals silently."""
    if value is None:
        if spec.nullable:
            return None
        raise CoercionError(f"{spec.name}: missing")
    kind = spec.type
    if kind in ("ID", "String"):
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
    elif kind == "Int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind == "Boolean":
        if isinstance(value, bool):
            return value
    elif kind == "Decimal":
        if isinstance(value, decimal.Decimal):
            return value
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            try:
                parsed = decimal.Decimal(value)
            except decimal.InvalidOperation:
                pass
            else:
                if parsed.is_finite():
                    return parsed
    elif kind == "Date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
    elif kind == "DateTime":
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value)
            except ValueError:
                pass
    raise CoercionError(f"{spec.name}: expected {kind}, got {value!r:.60}")


def coerce_record(record_type: RecordType, raw: Mapping[str, Any], fields: tuple[str, ...]) -> Record:
    """Pick and convert `fields` (ledgergate names) from a raw record keyed by remote names."""
    out: Record = {}
    for name in fields:
        spec = record_type.field(name)
        out[name] = coerce_value(spec, raw.get(spec.remote_name))
    return out


def collect(request: FetchRequest, raw_records) -> FetchResult:
    """The shared tail of every kind: key by the records' own ids, coerce, sort out garbage."""
    result = FetchResult()
    wanted = set(request.ids)
    key = request.record_type.field(request.record_type.key)
    fields = tuple(dict.fromkeys((request.record_type.key, *request.fields)))
    for raw in raw_records:
        if not isinstance(raw, Mapping):
            continue
        record_id = raw.get(key.remote_name)
        if isinstance(record_id, int) and not isinstance(record_id, bool):
            record_id = str(record_id)
        if not isinstance(record_id, str) or record_id not in wanted:
            continue  # an id nobody asked for: never attach it to anything
        if record_id in result.records or record_id in result.invalid:
            # Two different answers for one id: trust neither.
            result.records.pop(record_id, None)
            result.invalid[record_id] = f"{key.name}: the system returned {record_id!r} twice"
            continue
        try:
            result.records[record_id] = coerce_record(request.record_type, raw, fields)
        except (CoercionError, KeyError) as error:
            result.invalid[record_id] = str(error)
    return result
