"""Hash-chain verification at volume (issue 10, item 2):
`python -m bench.verify [--scale 31] [--url URL]`.

Builds (once) the demo ledger at `--scale` (31: about 1,020,000 journal lines) into
`var/bench-verify-<scale>.db`, or uses the PostgreSQL database `--url` (built there first
if it has no entities), migrates it, then per entity:

1. a full verification from genesis (`verify_chain(full=True)`, what
   `ledgergate ledger verify --full` runs): seconds and lines per second;
2. the incremental one (`verify_chain()`, what `verifyLedger` runs) from a checkpoint put
   100 entries before the head, as if those had been posted since the last verification.

The baseline is the same database's plain `SELECT count(*)` of the entity's lines, so a
machine's speed can be told from the verification's.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from sqlalchemy import func, select

from bench.ledgerdb import ROOT, ensure_demo

NEW_ENTRIES = 100  # entries after the checkpoint for the incremental run


async def run(url: str, scale: float) -> None:
    from ledger.model import Entity, JournalLine
    from ledger.store import LedgerDatabase
    from ledger.tenancy import ALL_ENTITIES
    from ledger.verification import verify_chain

    built = await ensure_demo(url, scale, progress=False)
    if built is not None:
        print(f"built scale {scale:g} in {built:.0f} s")
    db = LedgerDatabase.from_url(url)
    try:
        async with db.session(None) as s:
            entities = (await s.execute(select(Entity.id, Entity.code).execution_options(**ALL_ENTITIES))).all()
        total_lines = total_seconds = 0.0
        for entity_id, code in entities:
            async with db.session(entity_id) as s:
                started = time.perf_counter()
                lines = await s.scalar(select(func.count()).select_from(JournalLine))
                count_seconds = time.perf_counter() - started
            async with db.session(entity_id) as s:
                started = time.perf_counter()
                full = await verify_chain(s, full=True)
                seconds = time.perf_counter() - started
            assert full.ok, full
            total_lines += lines
            total_seconds += seconds
            print(f"{code}: full verification of {full.entries_checked} entries, {lines} lines: "
                  f"{seconds:.2f} s, {lines / seconds:,.0f} lines/s (count(*) baseline {count_seconds * 1000:.0f} ms)")
            await _rewind_checkpoint(db, entity_id, NEW_ENTRIES)
            async with db.session(entity_id) as s:
                started = time.perf_counter()
                incremental = await verify_chain(s)
                seconds = time.perf_counter() - started
            assert incremental.ok and not incremental.full, incremental
            print(f"{code}: incremental verification, checkpoint {NEW_ENTRIES} entries before the head: "
                  f"{incremental.entries_checked} "
                  f"entries in {seconds * 1000:.1f} ms")
        print(f"all: {total_lines:,.0f} lines in {total_seconds:.2f} s, {total_lines / total_seconds:,.0f} lines/s")
    finally:
        await db.dispose()


async def _rewind_checkpoint(db, entity_id: int, entries: int) -> None:
    """Put the checkpoint `entries` before the head, as if those were posted since."""
    from ledger.model import JournalEntry, VerificationCheckpoint

    async with db.session(entity_id) as s:
        checkpoint = await s.scalar(select(VerificationCheckpoint))
        seq = max(checkpoint.seq - entries, 1)
        checkpoint.seq = seq
        checkpoint.hash = await s.scalar(select(JournalEntry.hash).where(JournalEntry.seq == seq))
        await s.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=31.0)
    parser.add_argument("--url", help="a PostgreSQL URL (default: the SQLite file in var/)")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{ROOT / 'var' / f'bench-verify-{args.scale:g}.db'}"
    asyncio.run(run(url, args.scale))


if __name__ == "__main__":
    main()
