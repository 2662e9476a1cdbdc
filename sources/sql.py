"""SQL source systems: any database SQLAlchemy reaches with an async driver.

    [systems.pos]
    kind = "sql"
    url = "sqlite:///var/demo-pos.db"    # or postgresql://user@host/db; the password, if any,
    credentials = "pos"                  #   may come from secrets["password"] instead
    [systems.pos.types.Receipt]
    table = "receipts"                   # or "schema.table"
    key_column = "id"                    # default: the key field's column
    [systems.pos.types.Receipt.fields]
    id = "ID!"
    total = { type = "Decimal", source = "total" }   # field -> column via `source`

A fetch is one `SELECT <the selected fields' columns> FROM table WHERE key IN (...)` per
5,000 ids, on one pooled connection. Table and column names must be plain identifiers; they
are quoted by SQLAlchemy, never formatted into SQL. A key declared `Int` is bound as an
integer (PostgreSQL compares an integer column with integers only), any other key as text.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, String, column, select, table
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, InvalidRequestError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql.expression import ColumnElement, TableClause

from .base import FetchRequest, FetchResult, RecordType, Source, collect
from .errors import SourceTimeout, SourceUnavailable
from .options import refuse_unknown

CHUNK = 5_000
SYSTEM_OPTIONS = frozenset({"url"})
TYPE_OPTIONS = frozenset({"table", "key_column"})
# Plain URLs get the async drivers ledgergate ships with.
ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@contextlib.contextmanager
def map_exceptions(system: str, *, secrets: Iterable[str] = ()) -> Iterator[None]:
    """Driver and SQLAlchemy errors as `sources.errors`, with `secrets` blanked out. The
    message is the driver's own first line, without the statement and its parameters."""
    try:
        yield
    except TimeoutError as error:  # the driver's own, e.g. asyncpg's connect timeout
        raise SourceTimeout(system, _describe(error, secrets)) from None
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        raise SourceUnavailable(system, _describe(cause, secrets)) from None
    except OSError as error:  # refused, unreachable: raised by the driver before any DBAPI
        raise SourceUnavailable(system, _describe(error, secrets)) from None


def _describe(error: BaseException, secrets: Iterable[str]) -> str:
    lines = str(error).strip().splitlines()
    message = f"{type(error).__name__}: {lines[0] if lines else 'no detail'}"[:300]
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message


@dataclass(frozen=True)
class RecordTable:
    """Where the records of one type are: a table and its key column."""

    table: TableClause
    key_column: str

    @classmethod
    def of(cls, record_type: RecordType) -> RecordTable:
        options = record_type.options
        where = f"types.{record_type.name}"
        refuse_unknown(options, TYPE_OPTIONS, "sql", where)
        name = options.get("table")
        if not (isinstance(name, str) and name):
            raise ValueError(f"{where}: table is missing (a table name, or schema.table)")
        parts = name.split(".")
        if len(parts) > 2 or not all(_IDENTIFIER.match(p) for p in parts):
            raise ValueError(
                f"{where}: table {name!r} must be a plain identifier or schema.table "
                "(letters, digits and _)"
            )
        key_column = options.get("key_column", record_type.field(record_type.key).remote_name)
        names = [("key_column", key_column)]
        names += [(f"fields.{spec.name}: column", spec.remote_name) for spec in record_type.fields]
        for what, value in names:
            if not (isinstance(value, str) and _IDENTIFIER.match(value)):
                raise ValueError(
                    f"{where}: {what} {value!r} must be a plain identifier (letters, digits and _)"
                )
        schema, table_name = parts if len(parts) == 2 else (None, parts[0])
        return cls(table(table_name, schema=schema), key_column)


class SqlSource(Source):
    """A SQL database; see the module docstring for its options.

    Attributes:
        record_types: the types it serves, as configured.
        engine: the `AsyncEngine`; connections are taken from its pool per fetch.
    """

    def __init__(
        self,
        name: str,
        options: Mapping[str, Any],
        record_types: Sequence[RecordType],
        secrets: Mapping[str, str],
    ):
        self.name = name
        self.record_types = tuple(record_types)
        refuse_unknown(options, SYSTEM_OPTIONS, "sql")
        url = async_url(options.get("url"), secrets.get("password"))
        self._secrets = tuple(s for s in (url.password,) if isinstance(s, str))
        self._mappings = {t.name: RecordTable.of(t) for t in self.record_types}
        shown = url.render_as_string(hide_password=True)
        try:
            self.engine: AsyncEngine = create_async_engine(url)
        except (ArgumentError, InvalidRequestError, ImportError) as error:
            raise ValueError(f"url {shown} cannot be used: {error}") from None

    async def fetch(self, request: FetchRequest) -> FetchResult:
        record_type = request.record_type
        where = self._mappings.get(record_type.name) or RecordTable.of(record_type)
        key_spec = record_type.field(record_type.key)
        key_type = Integer if key_spec.type == "Int" else String
        ids = _keys(request.ids, integers=key_type is Integer)
        if not ids:
            return FetchResult()
        key = column(where.key_column, key_type)
        selected: dict[str, ColumnElement[Any]] = {key_spec.remote_name: key.label(key_spec.remote_name)}
        for name in request.fields:
            remote = record_type.field(name).remote_name
            selected.setdefault(remote, column(remote))
        query = select(*selected.values()).select_from(where.table)
        flags = [
            spec.remote_name
            for spec in map(record_type.field, request.fields)
            if spec.type == "Boolean"
        ]
        rows: list[Mapping[str, Any]] = []
        with map_exceptions(self.name, secrets=self._secrets):
            async with self.engine.connect() as conn:
                for start in range(0, len(ids), CHUNK):
                    chunk = ids[start : start + CHUNK]
                    result = await conn.execute(query.where(key.in_(chunk)))
                    rows.extend(_as_booleans(row, flags) for row in result.mappings())
        return collect(request, rows)

    async def aclose(self) -> None:
        await self.engine.dispose()


def async_url(value: object, password: str | None = None) -> URL:
    """`value` as a URL with an async driver (`sqlite:///` gets aiosqlite, `postgresql://`
    asyncpg), with `password` set when given."""
    if not (isinstance(value, str) and value):
        raise ValueError("url is missing: a SQLAlchemy database URL, e.g. sqlite:///pos.db")
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError("url is not a SQLAlchemy database URL (dialect+driver://...)") from None
    url = url.set(drivername=ASYNC_DRIVERS.get(url.drivername, url.drivername))
    if password:
        url = url.set(password=password)
    return url


def _as_booleans(row: Mapping[str, Any], flags: Sequence[str]) -> Mapping[str, Any]:
    """SQLite (like MySQL) keeps a boolean as 0 or 1: read those as False and True."""
    if not flags:
        return row
    raw = dict(row)
    for name in flags:
        value = raw.get(name)
        if type(value) is int and value in (0, 1):
            raw[name] = bool(value)
    return raw


def _keys(ids: Sequence[str], *, integers: bool) -> list[Any]:
    unique = [i for i in dict.fromkeys(ids) if i]
    if not integers:
        return unique
    # An id that is not a number cannot be in an integer column: it is simply absent.
    return [int(i) for i in unique if re.fullmatch(r"-?[0-9]{1,18}", i)]
