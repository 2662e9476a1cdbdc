"""Posting and reversing entries: validation, numbering, the hash chain, idempotency.

Every write runs in one transaction that first takes the entity's write lock (an UPDATE
of its `entities` row: a row lock on PostgreSQL, the database write lock on SQLite), so
numbering and the chain stay linear and two requests with one idempotency key serialise:
the second sees the first's key and replays its result.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .currency import foreign, load_rates, price_lines
from .drafts import EntryDraft, LineDraft, SourceRef, request_document
from .errors import Conflict, InvalidEntry, NotFound, Violation
from .hashing import EntryContent, LineContent, SourceContent, chain_hash, fingerprint
from .model import (
    DIMENSION_COLUMNS,
    Account,
    AccountType,
    DimensionKind,
    DimensionValue,
    Entity,
    IdempotencyKey,
    Journal,
    JournalEntry,
    JournalLine,
    Period,
    SourceLink,
)
from .money import currency_scale, to_minor
from .tenancy import ENTITY_KEY
from .validators import MAX_LINES, PostingRefs, validate_entry

MAX_KEY_LENGTH = 200
# Printable ASCII, with no space at either end: a key is an identifier clients generate (a
# UUID, an order number), and invisible, look-alike or padded characters would let two keys
# that read the same be different ones.
_KEY = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,%d}[\x21-\x7e])?" % (MAX_KEY_LENGTH - 2))
KEY_RULE = (
    f"1 to {MAX_KEY_LENGTH} printable ASCII characters (space to ~), not beginning or "
    "ending with a space"
)

# Called with the session and the entry ids just before a write commits, so that what it
# writes (the audit row, `ledger.audit`) commits or rolls back with the entries.
BeforeCommit = Callable[[AsyncSession, Sequence[int]], Awaitable[None]]


@dataclass(frozen=True)
class Posting:
    """A draft to post, with the idempotency key it came with (None for internal loads).

    Keys are scoped to the integration client that sent them (`client`), as payment APIs
    scope theirs to the account: another client's identical key is a different key.
    """

    draft: EntryDraft
    idempotency_key: str | None = None
    client: str = ""


def entry_number(seq: int) -> str:
    return f"JE-{seq:07d}"


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def lock_entity(session: AsyncSession) -> Entity:
    """Take the entity's write lock for this transaction and return its fresh head."""
    entity_id = session.info[ENTITY_KEY]
    await session.execute(
        update(Entity).where(Entity.id == entity_id).values(head_seq=Entity.head_seq)
    )
    entity = await session.get(Entity, entity_id, populate_existing=True)
    if entity is None:
        raise NotFound(f"entity {entity_id} does not exist")
    return entity


def check_key(key: str) -> None:
    if not isinstance(key, str) or _KEY.fullmatch(key) is None:
        raise InvalidEntry([Violation("idempotencyKey", f"must be {KEY_RULE}")])


def _chunks(items: Sequence, size: int = 5000):
    # IN lists stay well below the drivers' bind-parameter limits.
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def replays(
    session: AsyncSession, keyed: Sequence[tuple[int, str, str]], client: str = ""
) -> tuple[dict[int, int], dict[int, int]]:
    """Which postings repeat a key of `client`: (index → stored entry id, index → earlier index).

    A key used before with another request, or twice in one batch with different
    requests, is a Conflict. Only `client`'s own keys are looked at.
    """
    keys = sorted({key for _, key, _ in keyed})
    stored = {}
    for chunk in _chunks(keys):
        rows = await session.execute(
            select(IdempotencyKey.key, IdempotencyKey.request_hash, IdempotencyKey.entry_id).where(
                IdempotencyKey.client_id == client, IdempotencyKey.key.in_(chunk)
            )
        )
        stored.update({row.key: row for row in rows})
    replayed: dict[int, int] = {}
    repeats: dict[int, int] = {}
    first_seen: dict[str, tuple[str, int]] = {}
    for index, key, request_hash in keyed:
        earlier = stored.get(key)
        seen = first_seen.setdefault(key, (request_hash, index))
        if (earlier and earlier.request_hash != request_hash) or seen[0] != request_hash:
            raise Conflict(f"idempotency key {key!r} was already used with a different request")
        if earlier:
            replayed[index] = earlier.entry_id
        elif seen[1] != index:
            repeats[index] = seen[1]
    return replayed, repeats


async def _by_codes(session: AsyncSession, model, column, codes: set[str]) -> list:
    found = []
    for chunk in _chunks(sorted(codes)):
        found += await session.scalars(select(model).where(column.in_(chunk)))
    return found


async def resolve_refs(
    session: AsyncSession, entity: Entity, drafts: Sequence[EntryDraft], *, allow_inactive=False,
    max_lines: int = MAX_LINES, allow_closed_period: bool = False,
) -> list[PostingRefs]:
    """Look up every code the drafts use: a few statements per 5,000 distinct codes."""
    account_codes = {line.account for d in drafts for line in d.lines}
    journal_codes = {d.journal for d in drafts}
    dim_kinds = {k for d in drafts for line in d.lines for k, _ in line.dimensions}
    dim_codes = {c for d in drafts for line in d.lines for _, c in line.dimensions}
    accounts = {a.code: a for a in await _by_codes(session, Account, Account.code, account_codes)}
    journals = {j.code: j for j in await _by_codes(session, Journal, Journal.code, journal_codes)}
    dimensions = {
        (v.kind, v.code): v
        for v in await _by_codes(session, DimensionValue, DimensionValue.code, dim_codes)
        if v.kind in dim_kinds
    }
    periods = list(await session.scalars(select(Period).order_by(Period.start_date)))
    scale = currency_scale(entity.base_currency)
    rates = await load_rates(session, *foreign(drafts, entity.base_currency))

    def period_of(day: dt.date) -> Period | None:
        return next((p for p in periods if p.start_date <= day <= p.end_date), None)

    return [
        PostingRefs(
            currency=entity.base_currency,
            currency_scale=scale,
            journal=journals.get(d.journal),
            period=period_of(d.date),
            accounts=accounts,
            dimensions=dimensions,
            allow_inactive=allow_inactive,
            max_lines=max_lines,
            allow_closed_period=allow_closed_period,
            rates=rates,
        )
        for d in drafts
    ]


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
) -> list[int]:
    """Insert entries, lines, links and keys in bulk; advance the entity's chain head."""
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

    # Core table inserts run as one executemany (the ORM bulk path issued a statement per
    # row here); ids are read back by natural key, since RETURNING over a large
    # executemany is spliced batch by batch and grew quadratically on SQLite.
    await session.execute(insert(JournalEntry.__table__), entry_rows)
    by_seq = dict(
        (await session.execute(
            select(JournalEntry.seq, JournalEntry.id).where(JournalEntry.seq > entity.head_seq)
        )).all()
    )
    entry_ids = [by_seq[row["seq"]] for row in entry_rows]
    line_rows, line_sources = [], []
    for entry_id, posting, lines in zip(entry_ids, postings, line_plans):
        draft = posting.draft
        for n, (line, values) in enumerate(zip(draft.lines, lines), start=1):
            line_rows.append(
                {**values, "entity_id": entity_id, "entry_id": entry_id, "line_no": n, "date": draft.date}
            )
            line_sources.append(line.sources)
    await session.execute(insert(JournalLine.__table__), line_rows)
    line_ids: list[int | None] = [None] * len(line_rows)
    if any(line_sources):
        by_position = {}
        for chunk in _chunks(entry_ids):
            rows = await session.execute(
                select(JournalLine.entry_id, JournalLine.line_no, JournalLine.id).where(
                    JournalLine.entry_id.in_(chunk)
                )
            )
            by_position.update({(r.entry_id, r.line_no): r.id for r in rows})
        line_ids = [by_position[(r["entry_id"], r["line_no"])] for r in line_rows]
    link_rows = []
    for entry_id, posting in zip(entry_ids, postings):
        if posting.draft.source:
            link_rows.append(_link_row(entity_id, entry_id, None, 0, posting.draft.source))
    for line_id, line_row, sources in zip(line_ids, line_rows, line_sources):
        for position, ref in enumerate(sources):
            link_rows.append(_link_row(entity_id, line_row["entry_id"], line_id, position, ref))
    if link_rows:
        await session.execute(insert(SourceLink.__table__), link_rows)
    key_rows = [
        {"entity_id": entity_id, "client_id": p.client, "key": p.idempotency_key,
         "request_hash": h, "entry_id": eid}
        for p, h, eid in zip(postings, request_hashes, entry_ids)
        if p.idempotency_key is not None
    ]
    if key_rows:
        await session.execute(insert(IdempotencyKey.__table__), key_rows)
    await session.execute(
        update(Entity).where(Entity.id == entity_id).values(head_seq=seq, head_hash=prev)
    )
    entity.head_seq, entity.head_hash = seq, prev
    return entry_ids


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


async def post_entries(
    session: AsyncSession, postings: Sequence[Posting], *,
    before_commit: BeforeCommit | None = None, max_lines: int = MAX_LINES,
    found: Sequence[Sequence[Violation] | Exception] = (),
) -> list[int]:
    """Validate and post entries in one transaction; all or nothing.

    Returns the entry ids in request order. A posting whose key was seen before with the
    same request returns the original entry; with a different request it raises Conflict.
    Any broken rule raises InvalidEntry listing every violation of every entry, and
    nothing is written.
    `before_commit(session, ids)` runs in the same transaction, before it commits.
    An entry of more than `max_lines` lines is refused. `found[i]` is what the caller found
    of posting i beforehand (its source links, say): violations, reported with the ledger's
    own, or an error that stops it (a source that could not answer); either way ignored when
    the posting replays a key, so a retry of a posted request gets its entry back.
    """
    entity = await lock_entity(session)
    hashes: list[str | None] = [None] * len(postings)
    keyed: dict[str, list[tuple[int, str, str]]] = {}
    for index, posting in enumerate(postings):
        if posting.idempotency_key is not None:
            check_key(posting.idempotency_key)
            hashes[index] = fingerprint({"operation": "post", **request_document(posting.draft)})
            keyed.setdefault(posting.client, []).append(
                (index, posting.idempotency_key, hashes[index])
            )
    replayed: dict[int, int] = {}
    repeats: dict[int, int] = {}
    for client, client_keyed in keyed.items():
        client_replayed, client_repeats = await replays(session, client_keyed, client)
        replayed.update(client_replayed)
        repeats.update(client_repeats)
    fresh = [i for i in range(len(postings)) if i not in replayed and i not in repeats]
    results: dict[int, int] = dict(replayed)
    if fresh:
        todo = [postings[i] for i in fresh]
        refs = await resolve_refs(session, entity, [p.draft for p in todo], max_lines=max_lines)
        violations = []
        priced = []
        # The refs share one accounts table.
        statistical = {
            code for code, a in refs[0].accounts.items() if a.type == AccountType.STATISTICAL.value
        }
        for index, posting, ref in zip(fresh, todo, refs):
            prefix = f"entries[{index}]." if len(postings) > 1 else ""
            known = found[index] if index < len(found) else ()
            if isinstance(known, Exception):
                raise known
            draft, currency_violations = price_lines(
                posting.draft, ref.currency, ref.currency_scale, ref.rates, statistical
            )
            priced.append(replace(posting, draft=draft))
            violations += [
                Violation(prefix + v.path, v.message)
                for v in [*currency_violations, *validate_entry(draft, ref), *known]
            ]
        if violations:
            raise InvalidEntry(violations)
        todo = priced
        ids = await write_postings(session, entity, todo, refs, [hashes[i] for i in fresh], {})
        results.update(zip(fresh, ids))
    for index, earlier in repeats.items():
        results[index] = results[earlier]
    ids = [results[i] for i in range(len(postings))]
    if before_commit is not None:
        await before_commit(session, ids)
    await session.commit()
    return ids


async def post_entry(
    session: AsyncSession, draft: EntryDraft, idempotency_key: str, *,
    client: str = "", before_commit: BeforeCommit | None = None, max_lines: int = MAX_LINES,
    found: Sequence[Violation] | Exception = (),
) -> int:
    return (
        await post_entries(
            session, [Posting(draft, idempotency_key, client)],
            before_commit=before_commit, max_lines=max_lines, found=[found],
        )
    )[0]
