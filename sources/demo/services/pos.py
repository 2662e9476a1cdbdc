"""The demo point of sale: a SQL database of receipts and their lines, plus deep links.

`build_pos_database` writes the POS's tables (`pos_tables`: ``items``, ``receipts``,
``receipt_lines``) with SQLAlchemy Core inserts, to any SQLAlchemy URL or a SQLite file path.

`create_pos_app` serves the same records read-only over HTTP at the deep links the ledger
carries: ``/pos/receipts/{id}`` and ``/pos/items/{id}`` (plus ``?ids=`` batches), to clients
with its ``X-API-Key`` and, on a deep link, to a person signed in (`sign_in`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from starlette.applications import Starlette

from ..records import POS, DemoRecords, PosItem, Receipt, ReceiptLine
from .api_key import ApiKey
from .encoding import money
from .people import DemoPerson
from .pos_tables import ItemRow, PosBase, ReceiptLineRow, ReceiptRow
from .routes import Collection, collection_routes
from .sign_in import signed_in_app

CHUNK = 5000


def pos_database_url(url_or_path: str | os.PathLike[str]) -> URL:
    """A SQLAlchemy URL as given, or a SQLite file path made into one."""
    text = os.fspath(url_or_path)
    if "://" in text:
        url = make_url(text)
        # The build is synchronous: an async SQLite driver named in the URL is swapped for sqlite3.
        return url.set(drivername="sqlite") if url.get_backend_name() == "sqlite" else url
    return URL.create("sqlite", database=str(Path(text).resolve()))


def build_pos_database(url_or_path: str | os.PathLike[str], records: DemoRecords) -> str:
    """(Re)create the POS tables and fill them from `records`; returns the database URL.

    Existing POS tables are dropped first, so a rebuild never mixes two worlds. A SQLite file
    is written under a temporary name and moved into place when complete, so a reader never
    sees half a database.
    """
    url = pos_database_url(url_or_path)
    target = url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        final = Path(url.database)
        final.parent.mkdir(parents=True, exist_ok=True)
        building = final.with_name(final.name + ".building")
        building.unlink(missing_ok=True)
        target = url.set(database=str(building))
    engine = create_engine(target)
    try:
        with engine.begin() as conn:
            PosBase.metadata.drop_all(conn)
            PosBase.metadata.create_all(conn)
            conn.execute(ItemRow.__table__.insert(), [_item_row(i) for i in records.pos_items])
            for chunk in _chunks(records.receipts):
                conn.execute(ReceiptRow.__table__.insert(), [_receipt_row(r) for r in chunk])
                conn.execute(
                    ReceiptLineRow.__table__.insert(),
                    [_line_row(r, line) for r in chunk for line in r.lines],
                )
    finally:
        engine.dispose()
    if target is not url:
        os.replace(target.database, url.database)
    return url.render_as_string(hide_password=False)


def _chunks(all_receipts: tuple[Receipt, ...]) -> Iterator[tuple[Receipt, ...]]:
    for start in range(0, len(all_receipts), CHUNK):
        yield all_receipts[start : start + CHUNK]


def _item_row(item: PosItem) -> dict:
    return {
        "id": item.id,
        "company": item.company,
        "name": item.name,
        "category": item.category,
        "tax_rate": str(item.tax_rate),
        "currency": item.currency,
    }


def _receipt_row(r: Receipt) -> dict:
    net, tax, total = r.net_minor, r.tax_minor, r.total_minor
    return {
        "id": r.id,
        "company": r.company,
        "location_id": r.location_id,
        "outlet": r.outlet,
        "business_date": r.business_date.isoformat(),
        "closed_at": r.closed_at.isoformat(),
        "payment_method": r.payment_method,
        "customer_id": r.customer_id,
        "currency": r.currency,
        "line_count": len(r.lines),
        "room_nights": r.room_nights,
        "net_minor": net,
        "tax_minor": tax,
        "total_minor": total,
        "net": money(net, r.currency),
        "tax": money(tax, r.currency),
        "total": money(total, r.currency),
    }


def _line_row(r: Receipt, line: ReceiptLine) -> dict:
    c = r.currency
    return {
        "receipt_id": line.receipt_id,
        "line_no": line.line_no,
        "item_id": line.item_id,
        "description": line.description,
        "quantity": line.quantity,
        "tax_rate": str(line.tax_rate),
        "unit_price_minor": line.unit_price_minor,
        "net_minor": line.net_minor,
        "tax_minor": line.tax_minor,
        "total_minor": line.total_minor,
        "unit_price": money(line.unit_price_minor, c),
        "net": money(line.net_minor, c),
        "tax": money(line.tax_minor, c),
        "total": money(line.total_minor, c),
    }


def pos_collections(records: DemoRecords) -> list[Collection]:
    return [
        Collection(POS, "Receipt", records.receipts),
        Collection(POS, "PosItem", records.pos_items),
    ]


def create_pos_app(
    records: DemoRecords, *, api_key: str, people: Iterable[DemoPerson] = ()
) -> Starlette:
    collections = pos_collections(records)
    return signed_in_app(
        POS, collection_routes(collections), collections, machine=ApiKey(api_key), people=people
    )
