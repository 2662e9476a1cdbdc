"""Writing a planned posting: the rows of entries, lines, source links and keys, and the
entity's chain head (`ledger.hashing`), in the caller's transaction.

Rows go in through the transaction's connection, not the ORM: the ORM's statement path
costs more than the insert itself. Every row carries its entity_id; confinement applies
to reads, which stay on the session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Date, Table, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from .drafts import LineDraft, SourceRef
from .hashing import EntryContent, LineContent, SourceContent, chain_hash
from .model import (
    DIMENSION_COLUMNS,
    AccountType,
    DimensionKind,
    Entity,
    IdempotencyKey,
    JournalEntry,
    JournalLine,
    SourceLink,
)
from .money import currency_scale, to_minor
from .posting_plan import Plan, Posting
from .validators import PostingRefs


class PostedEntry(NamedTuple):
    """An entry as its posting wrote it, in the shape `reads.entries_by_ids` reads it back."""

    id: int
    seq: int
    number: str
    journal: str
    date: dt.date
    description: str | None
    reverses_id: int | None
    reversed_by_id: int | None
    posted_at: str
    hash: str


def entry_number(seq: int) -> str:
    return f"JE-{seq:07d}"


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _source_content(ref: SourceRef) -> SourceContent:
    return SourceContent(ref.system, ref.record_type, ref.record_id, ref.url)


def _line_values(line: LineDraft, refs: PostingRefs) -> dict:
    account = refs.accounts[line.account]
    # Statistical lines carry the entity's currency too, with zero money, so every line
    # has one and reports group uniformly.
    values = {
        "account_id": account.id,
        "memo": line.memo,
        "currency": refs.currency,
        "debit": 0,
        "credit": 0,
        "quantity": None,
        # Every row gets every column: executemany batches only rows with the same keys.
        **dict.fromkeys(DIMENSION_COLUMNS.values()),
        **dict.fromkeys(TXN_COLUMNS),
    }
    if account.type == AccountType.STATISTICAL.value:
        values["quantity"] = to_minor(line.quantity, account.quantity_scale)
    else:
        if line.debit is not None:
            values["debit"] = to_minor(line.debit, refs.currency_scale)
        else:
            values["credit"] = to_minor(line.credit, refs.currency_scale)
    for kind, code in line.dimensions:
        values[DIMENSION_COLUMNS[DimensionKind(kind)]] = refs.dimensions[(kind, code)].id
    if line.txn is not None:
        txn_scale = currency_scale(line.txn.currency)
        values.update(
            txn_currency=line.txn.currency,
            txn_debit=to_minor(line.txn.debit, txn_scale) if line.txn.debit is not None else 0,
            txn_credit=to_minor(line.txn.credit, txn_scale) if line.txn.credit is not None else 0,
            rate=rate_text(line.txn.rate),
        )
    return values


TXN_COLUMNS = ("txn_currency", "txn_debit", "txn_credit", "rate")

# A write of this many lines or more takes the bulk path (`write_postings`): below it, the
# extra statements that draw ids ahead cost more than they save (a single posting of a
# few lines is five statements either way, each about 0.5 ms through the async drivers).
BULK_MIN_LINES = 200


def rate_text(rate) -> str:
    """A rate as stored and hashed: its plain decimal digits, no exponent, no trailing 0."""
    return format(rate.normalize(), "f")


async def write_postings(
    session: AsyncSession,
    entity: Entity,
    postings: Sequence[Posting],
    refs: Sequence[PostingRefs],
    request_hashes: Sequence[str | None],
    reversed_numbers: dict[int, str],
    written: list[PostedEntry] | None = None,
    *, bulk: bool | None = None,
) -> list[int]:
    """Insert entries, lines, links and keys in bulk; advance the entity's chain head.
    `written`, if given, receives each entry as written. `bulk`: the rows go in by the
    driver's bulk path (`insert_rows`) with ids drawn ahead (`draw_ids`) — by default when
    the write has `BULK_MIN_LINES` lines or more; either way the same rows are written."""
    entity_id = entity.id
    posted_at = _utc_now()
    seq, prev = entity.head_seq, entity.head_hash
    entry_rows, line_plans = [], []
    for posting, ref in zip(postings, refs):
        draft = posting.draft
        seq += 1
        lines = [_line_values(line, ref) for line in draft.lines]
        content = EntryContent(
            entity=entity.code,
            seq=seq,
            number=entry_number(seq),
            journal=draft.journal,
            date=draft.date.isoformat(),
            description=draft.description,
            posted_at=posted_at,
            reverses=reversed_numbers.get(draft.reverses_id) if draft.reverses_id else None,
            sources=(_source_content(draft.source),) if draft.source else (),
            lines=tuple(
                LineContent(
                    line_no=n,
                    account=line.account,
                    currency=values["currency"],
                    debit=values["debit"],
                    credit=values["credit"],
                    quantity=values["quantity"],
                    memo=line.memo,
                    dimensions=dict(line.dimensions),
                    sources=tuple(_source_content(s) for s in line.sources),
                    txn=_txn(values),
                )
                for n, (line, values) in enumerate(zip(draft.lines, lines), start=1)
            ),
        )
        digest = chain_hash(prev, content)
        entry_rows.append(
            {
                "entity_id": entity_id,
                "seq": seq,
                "number": content.number,
                "journal_id": ref.journal.id,
                "date": draft.date,
                "description": draft.description,
                "reverses_id": draft.reverses_id,
                "posted_at": posted_at,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        line_plans.append(lines)
        prev = digest

    connection = await session.connection()
    line_count = sum(len(lines) for lines in line_plans)
    if bulk is None:
        bulk = line_count >= BULK_MIN_LINES
    line_sources = [line.sources for posting in postings for line in posting.draft.lines]
    line_rows = []
    if bulk:
        entry_ids = await draw_ids(connection, JournalEntry.__table__, len(entry_rows))
        line_ids: list[int | None] = await draw_ids(connection, JournalLine.__table__, line_count)
        for entry_id, row in zip(entry_ids, entry_rows):
            row["id"] = entry_id
        _add_line_rows(line_rows, entity_id, entry_ids, postings, line_plans)
        for line_id, row in zip(line_ids, line_rows):
            row["id"] = line_id
        await insert_rows(connection, JournalEntry.__table__, entry_rows)
        await insert_rows(connection, JournalLine.__table__, line_rows)
    else:
        # Core executemany (multi-row INSERT … RETURNING where the ids are needed): for a
        # small write, fewer statements than drawing the ids first.
        entry_ids = await _insert_ids(connection, JournalEntry.__table__, entry_rows, ("seq",))
        _add_line_rows(line_rows, entity_id, entry_ids, postings, line_plans)
        line_ids = [None] * len(line_rows)
        if any(line_sources):
            line_ids = list(await _insert_ids(
                connection, JournalLine.__table__, line_rows, ("entry_id", "line_no")
            ))
        else:
            await connection.execute(insert(JournalLine.__table__), line_rows)
    if written is not None:
        written.extend(
            PostedEntry(entry_id, row["seq"], row["number"], posting.draft.journal, row["date"],
                        row["description"], row["reverses_id"], None, row["posted_at"], row["hash"])
            for entry_id, row, posting in zip(entry_ids, entry_rows, postings)
        )
    link_rows = []
    for entry_id, posting in zip(entry_ids, postings):
        if posting.draft.source:
            link_rows.append(_link_row(entity_id, entry_id, None, 0, posting.draft.source))
    for line_id, line_row, sources in zip(line_ids, line_rows, line_sources):
        for position, ref in enumerate(sources):
            link_rows.append(_link_row(entity_id, line_row["entry_id"], line_id, position, ref))
    if link_rows:
        await _insert(connection, SourceLink.__table__, link_rows, bulk)
    key_rows = [
        {"entity_id": entity_id, "client_id": p.client, "key": p.idempotency_key,
         "request_hash": h, "entry_id": eid}
        for p, h, eid in zip(postings, request_hashes, entry_ids)
        if p.idempotency_key is not None
    ]
    if key_rows:
        await _insert(connection, IdempotencyKey.__table__, key_rows, bulk)
    await connection.execute(
        update(Entity.__table__).where(Entity.id == entity_id).values(head_seq=seq, head_hash=prev)
    )
    # The session's Entity learns its new head without a second UPDATE at flush.
    set_committed_value(entity, "head_seq", seq)
    set_committed_value(entity, "head_hash", prev)
    return entry_ids


def _add_line_rows(line_rows: list[dict], entity_id: int, entry_ids: Sequence[int],
                   postings: Sequence[Posting], line_plans: list[list[dict]]) -> None:
    for entry_id, posting, lines in zip(entry_ids, postings, line_plans):
        date = posting.draft.date
        for n, values in enumerate(lines, start=1):
            line_rows.append(
                {**values, "entity_id": entity_id, "entry_id": entry_id, "line_no": n, "date": date}
            )


async def _insert(connection: AsyncConnection, table: Table, rows: list[dict], bulk: bool) -> None:
    if bulk:
        await insert_rows(connection, table, rows)
    else:
        await connection.execute(insert(table), rows)


async def draw_ids(connection: AsyncConnection, table: Table, count: int) -> list[int]:
    """`count` new ids for rows of `table`, to be inserted by this transaction with them.

    PostgreSQL: drawn from the id column's sequence, as an insert would draw them (other
    transactions draw theirs from it too, so they may not be consecutive). SQLite: the
    ones after the table's greatest id, which is what SQLite itself gives a row (the
    tables have no AUTOINCREMENT). Safe because the caller holds SQLite's one write lock
    (taken by `posting.lock_entity`'s UPDATE, held to the commit): no other connection can
    insert into any table until this transaction ends.
    """
    if count == 0:
        return []
    if connection.dialect.name == "postgresql":
        rows = await connection.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                 "FROM generate_series(1, :count)"),
            {"table": table.name, "count": count},
        )
        return sorted(rows.scalars())
    if connection.dialect.name == "sqlite":
        top = await connection.scalar(select(func.coalesce(func.max(table.c.id), 0)))
        return list(range(top + 1, top + 1 + count))
    raise NotImplementedError(f"drawing ids ahead on {connection.dialect.name}")


async def insert_rows(connection: AsyncConnection, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts with the same keys, ids included) through the driver itself, in
    the connection's transaction: asyncpg's COPY on PostgreSQL, sqlite3's executemany on
    SQLite. SQLAlchemy's per-row parameter processing and statement building is what a
    bulk write spent most of its insert time on; these take the values as they are, so
    they must be what the columns store (a date column gets a `datetime.date`, written
    as SQLAlchemy writes it: ISO text on SQLite)."""
    if not rows:
        return
    columns = list(rows[0])
    driver = (await connection.get_raw_connection()).driver_connection
    if connection.dialect.name == "postgresql":
        await driver.copy_records_to_table(
            table.name, schema_name=table.schema, columns=columns,
            records=[tuple(row[c] for c in columns) for row in rows],
        )
        return
    if connection.dialect.name == "sqlite":
        dates = {c for c in columns if isinstance(table.c[c].type, Date)}
        await driver.executemany(
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            [tuple(row[c].isoformat() if c in dates and row[c] is not None else row[c]
                   for c in columns) for row in rows],
        )
        return
    await connection.execute(insert(table), rows)


async def _insert_ids(connection, table, rows: list[dict], key: tuple[str, ...]) -> list[int]:
    """Insert `rows` (SQLAlchemy pages them into multi-row INSERT … RETURNING) and return
    their ids in order. Rows are matched to ids by their natural `key`, since no database
    promises RETURNING's order (asking SQLAlchemy to sort made SQLite insert row by row).
    Measured at 10,000 rows: as fast as a plain executemany and a read back by key."""
    result = await connection.execute(
        insert(table).returning(table.c.id, *(table.c[k] for k in key)), rows
    )
    ids = {tuple(row[1:]): row[0] for row in result}
    return [ids[tuple(row[k] for k in key)] for row in rows]


def _txn(values: dict) -> tuple | None:
    if values.get("txn_currency") is None:
        return None
    return (values["txn_currency"], values["txn_debit"], values["txn_credit"], values["rate"])


def _link_row(entity_id: int, entry_id: int, line_id: int | None, position: int, ref: SourceRef) -> dict:
    return {
        "entity_id": entity_id,
        "entry_id": entry_id,
        "line_id": line_id,
        "position": position,
        "system": ref.system,
        "record_type": ref.record_type,
        "record_id": ref.record_id,
        "url": ref.url,
    }


async def write_plan(session: AsyncSession, entity: Entity, plan: Plan) -> None:
    """Write the plan's fresh postings and record their ids (and rows) in the plan."""
    if plan.fresh:
        written: list[PostedEntry] = []
        ids = await write_postings(
            session, entity, plan.priced, plan.refs, [plan.hashes[i] for i in plan.fresh], {},
            written,
        )
        plan.ids.update(zip(plan.fresh, ids))
        plan.written.update(zip(plan.fresh, written))
    for index, earlier in plan.repeats.items():
        if earlier in plan.ids:
            plan.ids[index] = plan.ids[earlier]
        if earlier in plan.written:
            plan.written[index] = plan.written[earlier]

