"""Recomputing an entity's hash chain to find the first entry that was altered.

A verification starts at the entity's checkpoint (`VerificationCheckpoint`: the last entry
an earlier verification found intact) unless asked for a full recheck from genesis. From a
checkpoint it proves: the checkpoint entry still has the hash it had when verified, every
newer entry's content hashes to its stored hash, and each links to its predecessor's up to
the entity's head. It does not re-read the entries before the checkpoint: tampering there
(other than with the checkpoint entry itself) is found by a full recheck
(`ledgergate ledger verify --full`). An intact walk advances the checkpoint.
"""

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .hashing import chain_hash
from .history import ENTRY_COLUMNS, CodeBook, entry_contents
from .model import GENESIS_HASH, Entity, JournalEntry, VerificationCheckpoint
from .posting_write import entry_number
from .tenancy import ENTITY_KEY

CHUNK = 2000


@dataclass(frozen=True)
class Verification:
    """`from_seq`: the first entry walked (1: from genesis); `checkpoint_at`: when the
    checkpoint it started from was verified (None: from genesis)."""

    ok: bool
    entries_checked: int
    first_broken_entry: str | None
    full: bool = True
    from_seq: int = 1
    checkpoint_at: str | None = None


async def verify_chain(session: AsyncSession, *, full: bool = False) -> Verification:
    """Walk the chain in posting order from the checkpoint (`full`: from genesis); stop at
    the first link that does not hold, and advance the checkpoint when all hold.

    A link breaks when an entry's content no longer hashes to its stored hash, when its
    stored previous hash is not its predecessor's hash, or when a sequence number is
    missing (a deleted entry: reported by the number it had). The entity's head must
    match the last entry, which catches deletion at the end of the chain.
    """
    entity = await session.get(Entity, session.info[ENTITY_KEY])
    checkpoint = await session.scalar(select(VerificationCheckpoint))
    prev, expected_seq, checked, checkpoint_at = GENESIS_HASH, 1, 0, None
    if checkpoint is not None and not full:
        anchor = await session.scalar(select(JournalEntry.hash).where(JournalEntry.seq == checkpoint.seq))
        if anchor != checkpoint.hash:
            return Verification(False, 1, entry_number(checkpoint.seq), False, checkpoint.seq,
                                checkpoint.verified_at)
        prev, expected_seq, checkpoint_at = checkpoint.hash, checkpoint.seq + 1, checkpoint.verified_at
    start = expected_seq
    full = start == 1  # no checkpoint yet: from genesis too
    last_seq = expected_seq - 1
    codes = await CodeBook.load(session)
    while True:
        # Core rows, not ORM objects (~8 µs a row more): the walk reads the whole chain.
        entries = (
            await session.execute(
                select(*ENTRY_COLUMNS, JournalEntry.prev_hash, JournalEntry.hash)
                .where(JournalEntry.seq >= expected_seq)
                .order_by(JournalEntry.seq)
                .limit(CHUNK)
            )
        ).all()
        if not entries:
            break
        contents = await entry_contents(session, entity, entries, codes)
        for entry in entries:
            if entry.seq != expected_seq:
                return Verification(False, checked, entry_number(expected_seq), full, start, checkpoint_at)
            checked += 1
            if entry.prev_hash != prev or chain_hash(prev, contents[entry.id]) != entry.hash:
                return Verification(False, checked, entry.number, full, start, checkpoint_at)
            prev, expected_seq, last_seq = entry.hash, expected_seq + 1, entry.seq
            codes.entries[entry.id] = entry.number
    if entity.head_seq != last_seq or entity.head_hash != prev:
        return Verification(False, checked, entry_number(last_seq + 1), full, start, checkpoint_at)
    if last_seq > 0:
        await _advance(session, checkpoint, last_seq, prev)
    return Verification(True, checked, None, full, start, checkpoint_at)


async def _advance(session: AsyncSession, checkpoint, seq: int, hash_: str) -> None:
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if checkpoint is None:
        session.add(VerificationCheckpoint(entity_id=session.info[ENTITY_KEY], seq=seq, hash=hash_, verified_at=now))
    else:
        # Only forward: a slower verification that walked fewer entries leaves a later
        # checkpoint where it is.
        await session.execute(
            update(VerificationCheckpoint)
            .where(VerificationCheckpoint.seq <= seq)
            .values(seq=seq, hash=hash_, verified_at=now)
        )
    try:
        await session.commit()
    except IntegrityError:  # a concurrent verification made the checkpoint first: it holds
        await session.rollback()
