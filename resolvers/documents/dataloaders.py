"""Per-request loaders of sales orders' parts: one statement per batch of orders."""

from __future__ import annotations

from ledger.documents import reads
from ledger.documents.sales_orders import TOPIC

from ..ledger.dataloaders import LedgerLoader, _grouped


class OrderLinesLoader(LedgerLoader):
    async def load_batch(self, session, keys):
        return _grouped(await reads.lines_by_orders(session, keys), "order_id", keys)


class OrderEntriesLoader(LedgerLoader):
    async def load_batch(self, session, keys):
        return _grouped(await reads.entries_by_orders(session, keys), "order_id", keys)


class OrderDeliveriesLoader(LedgerLoader):
    """Keyed by order number: the outbox messages about each order."""

    async def load_batch(self, session, keys):
        return _grouped(await reads.messages_by_records(session, TOPIC, keys), "record_key", keys)


class OrderNotesLoader(LedgerLoader):
    async def load_batch(self, session, keys):
        return _grouped(await reads.notes_by_orders(session, keys), "order_id", keys)
