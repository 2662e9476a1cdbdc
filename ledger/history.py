"""Reading posted entries back as the content their hash covers."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .hashing import EntryContent, LineContent, SourceContent
from .model import (
    DIMENSION_COLUMNS,
    Account,
    DimensionValue,
    Entity,
    Journal,
    JournalEntry,
    JournalLine,
    SourceLink,
)

# What the hash covers, read as Core rows (a verification reads the whole chain; ORM
# objects cost ~8 µs a row more). Entries: these columns, or `model.JournalEntry` objects.
ENTRY_COLUMNS = (
    JournalEntry.id, JournalEntry.seq, JournalEntry.number, JournalEntry.journal_id, JournalEntry.date,
    JournalEntry.description, JournalEntry.posted_at, JournalEntry.reverses_id,
)
_DIMENSIONS = [(kind.value, getattr(JournalLine, col)) for kind, col in DIMENSION_COLUMNS.items()]
_LINE_VALUES = (
    JournalLine.id, JournalLine.entry_id, JournalLine.line_no, JournalLine.account_id, JournalLine.currency,
    JournalLine.debit, JournalLine.credit, JournalLine.quantity, JournalLine.memo, JournalLine.txn_currency,
    JournalLine.txn_debit, JournalLine.txn_credit, JournalLine.rate,
)
_LINE_COLUMNS = (*_LINE_VALUES, *(column for _, column in _DIMENSIONS))
_DIMENSION_POSITIONS = [(kind, len(_LINE_VALUES) + i) for i, (kind, _) in enumerate(_DIMENSIONS)]


@dataclass
class CodeBook:
    """id → code for the entity's accounts, dimension values and journals."""

    accounts: dict[int, str]
    dimensions: dict[int, str]
    journals: dict[int, str]
    entries: dict[int, str]

    @classmethod
    async def load(cls, session: AsyncSession) -> "CodeBook":
        accounts = dict((await session.execute(select(Account.id, Account.code))).all())
        dimensions = dict(
            (await session.execute(select(DimensionValue.id, DimensionValue.code))).all()
        )
        journals = dict((await session.execute(select(Journal.id, Journal.code))).all())
        return cls(accounts, dimensions, journals, {})


async def entry_contents(
    session: AsyncSession, entity: Entity, entries: Sequence, codes: CodeBook
) -> dict[int, EntryContent]:
    """Hash content of `entries`, in three statements whatever their number."""
    ids = [e.id for e in entries]
    lines_by_entry: dict[int, list] = defaultdict(list)
    line_rows = (
        await session.execute(
            select(*_LINE_COLUMNS)
            .where(JournalLine.entry_id.in_(ids))
            .order_by(JournalLine.entry_id, JournalLine.line_no)
        )
    ).all()
    sources_by_line: dict[int, list[SourceContent]] = defaultdict(list)
    sources_by_entry: dict[int, list[SourceContent]] = defaultdict(list)
    link_rows = (
        await session.execute(
            select(SourceLink.entry_id, SourceLink.line_id, SourceLink.system, SourceLink.record_type,
                   SourceLink.record_id, SourceLink.url)
            .where(SourceLink.entry_id.in_(ids))
            .order_by(SourceLink.entry_id, SourceLink.line_id, SourceLink.position)
        )
    ).all()
    for link in link_rows:
        content = SourceContent(link.system, link.record_type, link.record_id, link.url)
        if link.line_id is None:
            sources_by_entry[link.entry_id].append(content)
        else:
            sources_by_line[link.line_id].append(content)
    for line in line_rows:
        dimensions = {
            kind: codes.dimensions.get(line[position], "?")
            for kind, position in _DIMENSION_POSITIONS
            if line[position] is not None
        }
        lines_by_entry[line.entry_id].append(
            LineContent(
                line_no=line.line_no,
                account=codes.accounts.get(line.account_id, "?"),
                currency=line.currency,
                debit=line.debit,
                credit=line.credit,
                quantity=line.quantity,
                memo=line.memo,
                dimensions=dimensions,
                sources=tuple(sources_by_line.get(line.id, ())),
                txn=None if line.txn_currency is None else (
                    line.txn_currency, line.txn_debit, line.txn_credit, line.rate
                ),
            )
        )
    reversed_numbers = await _numbers(session, {e.reverses_id for e in entries if e.reverses_id}, codes)
    return {
        e.id: EntryContent(
            entity=entity.code,
            seq=e.seq,
            number=e.number,
            journal=codes.journals.get(e.journal_id, "?"),
            date=e.date.isoformat(),
            description=e.description,
            posted_at=e.posted_at,
            reverses=reversed_numbers.get(e.reverses_id) if e.reverses_id else None,
            sources=tuple(sources_by_entry.get(e.id, ())),
            lines=tuple(lines_by_entry.get(e.id, ())),
        )
        for e in entries
    }


async def _numbers(session: AsyncSession, ids: set[int], codes: CodeBook) -> dict[int, str]:
    missing = [i for i in ids if i not in codes.entries]
    if missing:
        rows = await session.execute(
            select(JournalEntry.id, JournalEntry.number).where(JournalEntry.id.in_(missing))
        )
        codes.entries.update(rows.all())
    return {i: codes.entries[i] for i in ids if i in codes.entries}
