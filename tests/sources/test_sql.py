"""The SQL kind against a real database: a SQLite file always, and PostgreSQL too when
LEDGERGATE_TEST_DATABASE_URL is set (a database of its own per test, as tests/conftest.py
makes them)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from decimal import Decimal

import pytest
from sqlalchemy import BigInteger, Float, String, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sources.base import FetchRequest, FetchResult, FieldSpec, RecordType
from sources.errors import SourceUnavailable
from sources.sql import CHUNK, SqlSource, async_url

from .apps.loopback import closed_port

PG_URL = os.environ.get("LEDGERGATE_TEST_DATABASE_URL")
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


class Base(DeclarativeBase):
    pass


class ReceiptRow(Base):
    __tablename__ = "receipts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    total: Mapped[str] = mapped_column(String(24))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    line_count: Mapped[int]
    paid: Mapped[bool]
    business_date: Mapped[dt.date]
    closed_at: Mapped[dt.datetime]
    customer_id: Mapped[str | None] = mapped_column(String(16))
    order: Mapped[str] = mapped_column(String(16))  # a reserved word, quoted by SQLAlchemy
    rate: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(16))


class CounterRow(Base):
    __tablename__ = "counters"

    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    label: Mapped[str] = mapped_column(String(16))


class DuplicateRow(Base):
    """No key constraint: a view or a log table may repeat an id."""

    __tablename__ = "receipt_log"

    seq: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[str] = mapped_column(String(32))
    total: Mapped[str] = mapped_column(String(24))


RECEIPT = RecordType(
    system="pos",
    name="Receipt",
    graphql_name="PosReceipt",
    key="id",
    fields=(
        FieldSpec("id", "ID", nullable=False),
        FieldSpec("total", "Decimal", nullable=False),
        FieldSpec("totalMinor", "Int", source_name="total_minor"),
        FieldSpec("lineCount", "Int", source_name="line_count"),
        FieldSpec("paid", "Boolean"),
        FieldSpec("businessDate", "Date", source_name="business_date"),
        FieldSpec("closedAt", "DateTime", source_name="closed_at"),
        FieldSpec("customerId", "String", source_name="customer_id"),
        FieldSpec("orderCode", "String", source_name="order"),
        FieldSpec("rate", "Decimal"),
        FieldSpec("noteAsInt", "Int", source_name="note"),
    ),
    options={"table": "receipts"},
)
COUNTER = RecordType(
    system="pos",
    name="Counter",
    graphql_name="PosCounter",
    key="number",
    fields=(FieldSpec("number", "Int", nullable=False), FieldSpec("label", "String")),
    options={"table": "counters"},
)
LOGGED = RecordType(
    system="pos",
    name="Logged",
    graphql_name="PosLogged",
    key="id",
    fields=(FieldSpec("id", "ID", source_name="receipt_id"), FieldSpec("total", "Decimal")),
    options={"table": "receipt_log", "key_column": "receipt_id"},
)


def receipt(n: int, **overrides) -> dict:
    row = {
        "id": f"R-{n}",
        "total": f"{n}.05",
        "total_minor": n * 100 + 5,
        "line_count": n % 7,
        "paid": n % 2 == 0,
        "business_date": dt.date(2026, 3, 1 + n % 28),
        "closed_at": dt.datetime(2026, 3, 1 + n % 28, 18, 30),
        "customer_id": None if n % 3 else f"C{n}",
        "order": f"ORD{n}",
        "rate": 0.25,
        "note": "n/a",
    }
    row.update(overrides)
    return row


@dataclass
class Database:
    url: str
    backend: str
    schema: str  # what a schema-qualified table name starts with here


@pytest.fixture(params=BACKENDS)
async def database(request, tmp_path) -> AsyncIterator[Database]:
    """An empty database of the POS tables, with 250 receipts, 3 counters and a log."""
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'pos.db'}", None
        found = Database(url, "sqlite", "main")
    else:
        name = f"lg_src_{uuid.uuid4().hex[:12]}"
        admin = create_async_engine(async_url(PG_URL), isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        drop = name
        found = Database(url, "postgresql", "public")
    engine = create_async_engine(async_url(url))
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        await conn.execute(insert(ReceiptRow), [receipt(n) for n in range(1, 251)])
        await conn.execute(
            insert(CounterRow), [{"number": n, "label": f"counter {n}"} for n in (1, 7, 42)]
        )
        await conn.execute(
            insert(DuplicateRow),
            [
                {"receipt_id": "R-1", "total": "1.05"},
                {"receipt_id": "R-1", "total": "9.99"},
                {"receipt_id": "R-2", "total": "2.05"},
            ],
        )
    await engine.dispose()
    yield found
    if drop is not None:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{drop}" WITH (FORCE)'))
        await admin.dispose()


class Statements:
    """Every statement the source's engine sends, as the driver sees it."""

    def __init__(self, source: SqlSource):
        self.seen: list[str] = []
        event.listen(source.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_args):
        self.seen.append(statement)


def sql(database: Database, *record_types: RecordType, **options) -> SqlSource:
    return SqlSource("pos", {"url": database.url, **options}, record_types or [RECEIPT], {})


def request(*ids: str, fields=("total",), record_type=RECEIPT) -> FetchRequest:
    return FetchRequest(record_type, ids, fields)


# --- batches ------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 10, 100, 250])
async def test_a_batch_is_one_select(database, count):
    source = sql(database)
    statements = Statements(source)
    ids = tuple(f"R-{n}" for n in range(1, count + 1))

    result = await source.fetch(request(*ids))

    assert len(statements.seen) == 1
    assert statements.seen[0].lstrip().upper().startswith("SELECT")
    assert sorted(result.records) == sorted(ids)
    assert result.records[f"R-{count}"] == {"id": f"R-{count}", "total": Decimal(f"{count}.05")}
    await source.aclose()


async def test_more_than_a_chunk_of_ids_is_one_select_per_chunk(database):
    source = sql(database)
    statements = Statements(source)
    ids = tuple(f"R-{n}" for n in range(1, 2 * CHUNK + 2))  # 250 exist

    result = await source.fetch(request(*ids))

    assert len(statements.seen) == 3
    assert len(result.records) == 250
    await source.aclose()


async def test_only_the_selected_fields_columns_are_read(database):
    source = sql(database)
    statements = Statements(source)

    await source.fetch(request("R-3", fields=("customerId", "orderCode")))

    statement = statements.seen[0]
    for column in ("id", "customer_id", "order"):
        assert column in statement
    for column in ("total", "line_count", "paid", "business_date", "closed_at", "rate", "note"):
        assert column not in statement
    await source.aclose()


async def test_every_field_type_is_converted(database):
    source = sql(database)
    fields = ("total", "totalMinor", "lineCount", "paid", "businessDate", "closedAt", "customerId", "orderCode")

    result = await source.fetch(request("R-3", "R-4", fields=fields))

    assert result == FetchResult(
        {
            "R-3": {
                "id": "R-3",
                "total": Decimal("3.05"),
                "totalMinor": 305,
                "lineCount": 3,
                "paid": False,
                "businessDate": dt.date(2026, 3, 4),
                "closedAt": dt.datetime(2026, 3, 4, 18, 30),
                "customerId": "C3",
                "orderCode": "ORD3",
            },
            "R-4": {
                "id": "R-4",
                "total": Decimal("4.05"),
                "totalMinor": 405,
                "lineCount": 4,
                "paid": True,
                "businessDate": dt.date(2026, 3, 5),
                "closedAt": dt.datetime(2026, 3, 5, 18, 30),
                "customerId": None,
                "orderCode": "ORD4",
            },
        }
    )
    await source.aclose()


async def test_a_schema_qualified_table(database):
    qualified = replace(RECEIPT, options={"table": f"{database.schema}.receipts"})
    source = sql(database, qualified)

    result = await source.fetch(request("R-1", record_type=qualified))

    assert result.records == {"R-1": {"id": "R-1", "total": Decimal("1.05")}}
    await source.aclose()


# --- garbage ------------------------------------------------------------------------------


async def test_unknown_ids_are_absent(database):
    source = sql(database)

    result = await source.fetch(request("R-1", "R-999", "nope'; DROP TABLE receipts; --"))

    assert result == FetchResult({"R-1": {"id": "R-1", "total": Decimal("1.05")}})
    assert (await source.fetch(request("R-2"))).records  # the table is still there
    await source.aclose()


async def test_wrong_types_make_the_record_invalid(database):
    source = sql(database)

    result = await source.fetch(request("R-1", fields=("rate",)))
    as_int = await source.fetch(request("R-1", fields=("noteAsInt",)))

    assert result == FetchResult(invalid={"R-1": "rate: expected Decimal, got 0.25"})  # a float
    assert as_int == FetchResult(invalid={"R-1": "noteAsInt: expected Int, got 'n/a'"})
    await source.aclose()


async def test_an_integer_key_column(database):
    source = sql(database, COUNTER)

    result = await source.fetch(request("7", "42", "8", "not-a-number", fields=("label",), record_type=COUNTER))

    assert result == FetchResult(
        {"7": {"number": 7, "label": "counter 7"}, "42": {"number": 42, "label": "counter 42"}}
    )
    await source.aclose()


async def test_a_key_column_other_than_the_key_fields_name_and_duplicate_ids(database):
    source = sql(database, LOGGED)

    result = await source.fetch(request("R-1", "R-2", record_type=LOGGED))

    assert result.records == {"R-2": {"id": "R-2", "total": Decimal("2.05")}}
    assert result.invalid == {"R-1": "id: the system returned 'R-1' twice"}
    await source.aclose()


async def test_a_missing_table_is_unavailable(database):
    missing = replace(RECEIPT, options={"table": "no_such_table"})
    source = sql(database, missing)

    with pytest.raises(SourceUnavailable, match="no_such_table") as caught:
        await source.fetch(request("R-1", record_type=missing))

    assert "[SQL:" not in str(caught.value)
    await source.aclose()


async def test_an_unreachable_postgresql_is_unavailable_without_its_password():
    url = f"postgresql://ledgergate:pw-do-not-leak-9f3@127.0.0.1:{closed_port()}/pos"
    source = SqlSource("pos", {"url": url}, [RECEIPT], {})

    with pytest.raises(SourceUnavailable) as caught:
        await source.fetch(request("R-1"))

    assert type(caught.value) is SourceUnavailable
    assert str(caught.value).startswith("pos: ")
    assert "pw-do-not-leak-9f3" not in str(caught.value)
    await source.aclose()


async def test_the_password_may_come_from_the_secrets():
    url = f"postgresql://ledgergate@127.0.0.1:{closed_port()}/pos"
    source = SqlSource("pos", {"url": url}, [RECEIPT], {"password": "pw-from-secrets-4c1"})

    assert source.engine.url.password == "pw-from-secrets-4c1"
    with pytest.raises(SourceUnavailable) as caught:
        await source.fetch(request("R-1"))
    assert "pw-from-secrets-4c1" not in str(caught.value)
    await source.aclose()


# --- options ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("sqlite:///pos.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///pos.db", "sqlite+aiosqlite"),
        ("postgresql://u@db.example/pos", "postgresql+asyncpg"),
        ("postgres://u@db.example/pos", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@db.example/pos", "postgresql+asyncpg"),
    ],
)
def test_plain_urls_get_the_async_drivers(url, driver):
    source = SqlSource("pos", {"url": url}, [RECEIPT], {})

    assert source.engine.url.drivername == driver


def _typed(**options) -> RecordType:
    return replace(RECEIPT, options=options)


@pytest.mark.parametrize(
    ("options", "record_type", "message"),
    [
        ({}, RECEIPT, "url is missing"),
        ({"url": "not a url"}, RECEIPT, "url is not a SQLAlchemy database URL"),
        ({"url": "sqlite:///x.db", "pool": 3}, RECEIPT, "unknown option(s) ['pool'] for a sql system"),
        ({"url": "mysql+pymysql://u:pw-9@h/db"}, RECEIPT, "url mysql+pymysql://u:***@h/db cannot be used"),
        ({"url": "sqlite:///x.db"}, _typed(), "types.Receipt: table is missing"),
        ({"url": "sqlite:///x.db"}, _typed(table="receipts; drop table x"), "table 'receipts; drop table x' must be a plain identifier"),
        ({"url": "sqlite:///x.db"}, _typed(table="a.b.c"), "must be a plain identifier or schema.table"),
        ({"url": "sqlite:///x.db"}, _typed(table='"receipts"'), "must be a plain identifier"),
        ({"url": "sqlite:///x.db"}, _typed(table="receipts", key_column="id--"), "types.Receipt: key_column 'id--' must be a plain identifier"),
        ({"url": "sqlite:///x.db"}, _typed(table="receipts", batch_path="/x"), "types.Receipt: unknown option(s) ['batch_path']"),
        ({"url": "sqlite:///x.db"}, replace(RECEIPT, fields=(FieldSpec("id", "ID"), FieldSpec("total", source_name="total)"))), "types.Receipt: fields.total: column 'total)' must be a plain identifier"),
    ],
)
def test_bad_options_are_value_errors(options, record_type, message):
    with pytest.raises(ValueError) as caught:
        SqlSource("pos", options, [record_type], {})

    assert message in str(caught.value)
    assert "pw-9" not in str(caught.value)
