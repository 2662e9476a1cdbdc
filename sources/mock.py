"""An in-memory source system for tests and demos, in the manner of httpx's `MockTransport`.

    crm = MockSource("crm", {"SalesOrder": [{"id": "SO-1", "amount": "120.00"}]})
    await crm.fetch(FetchRequest(sales_order, ids=("SO-1",), fields=("amount",)))
    crm.calls      # every FetchRequest it received, in order

Records are raw dicts keyed by remote names, exactly as a real system would send them; they
go through `collect`, so wrong types, unknown ids and duplicates are sorted out the way every
real kind sorts them. A `handler(request)` replaces the stored records to inject faults: it
may sleep, raise a `sources.errors` exception, or return garbage.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from .base import FetchRequest, FetchResult, RecordType, Source, collect
from .errors import SourceProtocolError
from .options import refuse_unknown

Handler = Callable[[FetchRequest], Awaitable[Iterable[Any]] | Iterable[Any]]


class MockSource(Source):
    """A source system whose records live in memory.

    Attributes:
        records: raw records per record type name.
        handler: when set, called with each request instead of reading `records`; its return
            value (awaited if need be) is what "the system sent": anything but a list of
            records is a `SourceProtocolError`, as in a real kind; whatever it raises
            escapes `fetch` unchanged.
        calls: every request received, faulty ones included.
        closed: whether `aclose` was called.
    """

    def __init__(
        self,
        name: str,
        records: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
        *,
        handler: Handler | None = None,
    ):
        self.name = name
        self.records = {type_name: list(rows) for type_name, rows in (records or {}).items()}
        self.handler = handler
        self.calls: list[FetchRequest] = []
        self.closed = False

    @classmethod
    def from_config(
        cls,
        name: str,
        options: Mapping[str, Any],
        record_types: Sequence[RecordType],
        secrets: Mapping[str, str],
    ) -> MockSource:
        """The `mock` kind of a sources config: `[[systems.NAME.records.TYPE]]` tables."""
        refuse_unknown(options, {"records"}, "mock")
        records = options.get("records", {})
        if not isinstance(records, Mapping) or not all(
            isinstance(rows, list) and all(isinstance(row, Mapping) for row in rows)
            for rows in records.values()
        ):
            raise ValueError("records must map each record type to a list of tables")
        if unknown := sorted(set(records) - {t.name for t in record_types}):
            raise ValueError(f"records of undeclared record type(s) {unknown}")
        return cls(name, records)

    async def fetch(self, request: FetchRequest) -> FetchResult:
        self.calls.append(request)
        if self.handler is not None:
            raw = self.handler(request)
            if inspect.isawaitable(raw):
                raw = await raw
        else:
            raw = self.records.get(request.record_type.name, ())
        if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Iterable):
            # What a real kind does with an HTML page or a lone object instead of a list.
            raise SourceProtocolError(self.name, f"expected a list of records, got {raw!r:.60}")
        return collect(request, raw)

    async def aclose(self) -> None:
        self.closed = True
