"""Reversal: the only correction of a posted entry, linked to it both ways."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .drafts import EntryDraft, LineDraft, SourceRef, TxnAmount
from .errors import Conflict, InvalidEntry, NotFound, Violation
from .hashing import EntryContent, LineContent, SourceContent, fingerprint
from .history import CodeBook, entry_contents
from .model import Account, JournalEntry, YearEndClose
from .money import currency_scale, from_minor
from .posting import BeforeCommit, lock_entity
from .posting_plan import Posting, check_key, replays, resolve_refs
from .posting_write import write_postings
from .validators import validate_entry


async def reverse_entry(
    session: AsyncSession, number: str, date: dt.date, idempotency_key: str, *,
    client: str = "", before_commit: BeforeCommit | None = None,
) -> int:
    """Post the mirror image of entry `number` on `date`, linked to it both ways.
    `before_commit(session, [id], {})` runs in the same transaction, before it commits."""
    entity = await lock_entity(session)
    check_key(idempotency_key)
    request_hash = fingerprint({"operation": "reverse", "number": number, "date": date.isoformat()})
    replayed, _ = await replays(session, [(0, idempotency_key, request_hash)], client)
    if replayed:
        if before_commit is not None:
            await before_commit(session, [replayed[0]], {})
        await session.commit()
        return replayed[0]
    original = await session.scalar(select(JournalEntry).where(JournalEntry.number == number))
    if original is None:
        raise NotFound(f"no journal entry {number!r}")
    reversal = await session.scalar(
        select(JournalEntry.number).where(JournalEntry.reverses_id == original.id)
    )
    if reversal is not None:
        raise Conflict(f"journal entry {number} was already reversed by {reversal}")
    closing = await session.scalar(
        select(YearEndClose.fiscal_year).where(YearEndClose.entry_id == original.id)
    )
    if closing is not None:
        raise Conflict(
            f"journal entry {number} is the year-end close of fiscal {closing}: reopening a "
            "period of that year reverses it"
        )
    if date < original.date:
        raise InvalidEntry(
            [Violation("date", f"a reversal cannot be dated before {number} ({original.date.isoformat()})")]
        )
    entry_id = await post_mirror(
        session, entity, original, date, Posting(None, idempotency_key, client), request_hash
    )
    if before_commit is not None:
        await before_commit(session, [entry_id], {})
    await session.commit()
    return entry_id


async def post_mirror(
    session: AsyncSession, entity, original: JournalEntry, date: dt.date,
    posting: Posting | None = None, request_hash: str | None = None, *,
    allow_closed_period: bool = False,
) -> int:
    """Write the mirror image of `original` on `date` in the caller's transaction (under
    the entity's write lock, which the caller holds); returns its id. The year-end close
    reverses its entry this way into the year's closed last period (`allow_closed_period`)."""
    codes = await CodeBook.load(session)
    content = (await entry_contents(session, entity, [original], codes))[original.id]
    accounts = {line.account for line in content.lines}
    scales = dict(
        (
            await session.execute(
                select(Account.code, Account.quantity_scale).where(Account.code.in_(accounts))
            )
        ).all()
    )
    draft = _mirror(content, date, original.id, currency_scale(entity.base_currency), scales)
    refs = (
        await resolve_refs(
            session, entity, [draft], allow_inactive=True, max_lines=max(len(draft.lines), 1),
            allow_closed_period=allow_closed_period,
        )
    )[0]
    violations = validate_entry(draft, refs)
    if violations:
        raise InvalidEntry(violations)
    posting = Posting(draft, posting.idempotency_key, posting.client) if posting else Posting(draft)
    [entry_id] = await write_postings(
        session, entity, [posting], [refs], [request_hash], {original.id: original.number}
    )
    return entry_id


def _mirror(
    content: EntryContent,
    date: dt.date,
    original_id: int,
    money_scale: int,
    quantity_scales: dict[str, int],
) -> EntryDraft:
    def ref(s: SourceContent) -> SourceRef:
        return SourceRef(s.system, s.record_type, s.record_id, s.url)

    def mirrored(line: LineContent) -> LineDraft:
        debit = credit = quantity = None
        if line.quantity is not None:
            quantity = from_minor(-line.quantity, quantity_scales[line.account])
        elif line.debit:
            credit = from_minor(line.debit, money_scale)
        else:
            debit = from_minor(line.credit, money_scale)
        txn = None
        if line.txn is not None:
            # The mirror keeps the original's rate and amounts: no new rounding.
            currency, txn_debit, txn_credit, rate = line.txn
            scale = currency_scale(currency)
            txn = TxnAmount(
                currency,
                from_minor(txn_credit, scale) if txn_credit else None,
                from_minor(txn_debit, scale) if txn_debit else None,
                Decimal(rate),
            )
        return LineDraft(
            account=line.account,
            debit=debit,
            credit=credit,
            quantity=quantity,
            memo=line.memo,
            dimensions=tuple(sorted(line.dimensions.items())),
            sources=tuple(ref(s) for s in line.sources),
            txn=txn,
        )

    return EntryDraft(
        journal=content.journal,
        date=date,
        description=f"Reversal of {content.number}",
        source=ref(content.sources[0]) if content.sources else None,
        reverses_id=original_id,
        lines=tuple(mirrored(line) for line in content.lines),
    )
