"""Recomputing an entity's hash chain to find the first entry that was altered."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .hashing import chain_hash
from .history import CodeBook, entry_contents
from .model import GENESIS_HASH, Entity, JournalEntry
from .posting import entry_number
from .tenancy import ENTITY_KEY

CHUNK = 2000


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries_checked: int
    first_broken_entry: str | None


async def verify_chain(session: AsyncSession) -> Verification:
    """Walk the chain in posting order; stop at the first link that does not hold.

    A link breaks when an entry's content no longer hashes to its stored hash, when its
    stored previous hash is not its predecessor's hash, or when a sequence number is
    missing (a deleted entry: reported by the number it had). The entity's head must
    match the last entry, which catches deletion at the end of the chain.
    """
    entity = await session.get(Entity, session.info[ENTITY_KEY])
    codes = await CodeBook.load(session)
    prev, expected_seq, checked = GENESIS_HASH, 1, 0
    last_seq = 0
    while True:
        entries = list(
            await session.scalars(
                select(JournalEntry)
                .where(JournalEntry.seq >= expected_seq)
                .order_by(JournalEntry.seq)
                .limit(CHUNK)
            )
        )
        if not entries:
            break
        contents = await entry_contents(session, entity, entries, codes)
        for entry in entries:
            if entry.seq != expected_seq:
                return Verification(False, checked, entry_number(expected_seq))
            checked += 1
            if entry.prev_hash != prev or chain_hash(prev, contents[entry.id]) != entry.hash:
                return Verification(False, checked, entry.number)
            prev, expected_seq, last_seq = entry.hash, expected_seq + 1, entry.seq
            codes.entries[entry.id] = entry.number
    if entity.head_seq != last_seq or entity.head_hash != prev:
        return Verification(False, checked, entry_number(last_seq + 1))
    return Verification(True, checked, None)
