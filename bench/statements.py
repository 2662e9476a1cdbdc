"""The balance sheet at volume (issue 11): `python -m bench.statements [--lines 2000000]
[--url URL] [--repeat 7]`.

Builds (once per database) one entity with `--lines` journal lines over two fiscal years
(2025 and 2026, half each; entries of two lines over twelve accounts and two departments),
written with bulk Core inserts as the posting path writes them (the hash chain is not
needed to read balances). Then, interleaved in one run, `--repeat` times each:

1. `ledger.statements.balance_sheet` as of 2026-12-31: every statement it runs (the
   entity's settings, the trial balance's GROUP BY, the STOCK levels, accounts and groups)
   and the tree it builds;
2. the baseline: the equivalent SQL written by hand and run directly on the same
   connection kind: each account's balance to the date and its fiscal-year part
   (`SUM … GROUP BY account_id` over the entity's lines).

It prints the medians and their ratio (the issue's target: at most 1.2).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import time

from sqlalchemy import func, insert, select, text

from bench.ledgerdb import ROOT

ACCOUNTS = (
    ("1000", "Cash", "ASSET"), ("1100", "Receivables", "ASSET"), ("1500", "Equipment", "ASSET"),
    ("2000", "Payables", "LIABILITY"), ("2100", "Accrued", "LIABILITY"), ("3000", "Capital", "EQUITY"),
    ("3900", "Retained earnings", "EQUITY"), ("4000", "Sales", "REVENUE"), ("4100", "Services", "REVENUE"),
    ("5000", "Cost of sales", "EXPENSE"), ("6000", "Salaries", "EXPENSE"), ("6100", "Rent", "EXPENSE"),
)
CODE = "BENCHCO"
AS_OF = dt.date(2026, 12, 31)
CHUNK = 20_000

BASELINE = """
SELECT account_id, SUM(debit - credit),
       SUM(CASE WHEN date >= :fiscal_start THEN debit - credit ELSE 0 END)
FROM journal_lines WHERE entity_id = :entity AND date <= :as_of GROUP BY account_id
"""


async def build(db, lines: int) -> int:
    from ledger import admin
    from ledger.model import Account, Entity, JournalEntry, JournalLine
    from ledger.reference import AccountSpec, add_accounts, add_dimension_values, add_journals, add_monthly_periods, create_entity
    from ledger.model import AccountType, DimensionKind
    from ledger.tenancy import ALL_ENTITIES

    async with db.session(None) as s:
        found = await s.scalar(select(Entity.id).where(Entity.code == CODE).execution_options(**ALL_ENTITIES))
    if found is not None:
        async with db.session(found) as s:
            have = await s.scalar(select(func.count()).select_from(JournalLine))
        if have == lines:
            return found
        raise SystemExit(f"{CODE} exists with {have:,} lines, not {lines:,}: use another database")
    async with db.session(None) as s:
        entity_id = await create_entity(s, CODE, "Bench Co", "USD")
        await s.commit()
    async with db.session(entity_id) as s:
        await add_accounts(s, [AccountSpec(c, n, AccountType(t)) for c, n, t in ACCOUNTS])
        await add_dimension_values(s, [(DimensionKind.DEPARTMENT, "A", "A"), (DimensionKind.DEPARTMENT, "B", "B")])
        await add_journals(s, [("GJ", "General journal")])
        await add_monthly_periods(s, 2025)
        await add_monthly_periods(s, 2026)

        async def unaudited(*_):
            return None

        await admin.set_retained_earnings(s, "3900", unaudited)
        ids = dict((await s.execute(select(Account.code, Account.id))).all())
        journal = await s.scalar(text("SELECT id FROM journals WHERE entity_id = :e").bindparams(e=entity_id))
        departments = list(await s.scalars(text("SELECT id FROM dimension_values WHERE entity_id = :e").bindparams(e=entity_id)))
        await s.commit()
    rng = random.Random(11)
    codes = [c for c, _, _ in ACCOUNTS]
    entries = lines // 2
    started = time.perf_counter()
    async with db.engine.begin() as conn:
        for first in range(0, entries, CHUNK):
            seqs = range(first + 1, min(first + CHUNK, entries) + 1)
            days = {seq: dt.date(2025, 1, 1) + dt.timedelta(days=(seq * 730) // (entries + 1)) for seq in seqs}
            await conn.execute(insert(JournalEntry.__table__), [
                {"entity_id": entity_id, "seq": seq, "number": f"JE-{seq:07d}", "journal_id": journal,
                 "date": days[seq], "description": None, "reverses_id": None,
                 "posted_at": "2026-12-31T00:00:00.000000Z", "prev_hash": "0" * 64, "hash": "0" * 64}
                for seq in seqs
            ])
            by_seq = dict((await conn.execute(
                select(JournalEntry.seq, JournalEntry.id).where(
                    JournalEntry.entity_id == entity_id, JournalEntry.seq >= seqs[0], JournalEntry.seq <= seqs[-1])
            )).all())
            rows = []
            for seq in seqs:
                debit, credit = rng.sample(codes, 2)
                amount = rng.randint(1, 10_000_000)
                department = rng.choice(departments + [None])
                for line_no, (code, dr, cr) in enumerate(((debit, amount, 0), (credit, 0, amount)), 1):
                    rows.append({
                        "entity_id": entity_id, "entry_id": by_seq[seq], "line_no": line_no,
                        "account_id": ids[code], "date": days[seq], "currency": "USD", "debit": dr,
                        "credit": cr, "quantity": None, "memo": None, "department_id": department,
                    })
            await conn.execute(insert(JournalLine.__table__), rows)
        await conn.execute(text("UPDATE entities SET head_seq = :n WHERE id = :e").bindparams(n=entries, e=entity_id))
    print(f"built {entries * 2:,} lines in {time.perf_counter() - started:.0f} s")
    if db.engine.dialect.name == "postgresql":
        async with db.engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
    return entity_id


async def run(url: str, lines: int, repeat: int) -> None:
    from ledger.migrate import upgrade
    from ledger.statements import balance_sheet
    from ledger.store import LedgerDatabase

    db = LedgerDatabase.from_url(url)
    try:
        await upgrade(db.engine)
        entity_id = await build(db, lines)

        async def statement():
            async with db.session(entity_id) as s:
                sheet = await balance_sheet(s, AS_OF)
            totals = {r.code: r.amounts[0] for r in sheet.rows if r.kind == "TOTAL"}
            assert totals["ASSET"] == totals["LIABILITY_AND_EQUITY"], totals
            return totals

        async def baseline():
            async with db.engine.connect() as conn:
                return (await conn.execute(text(BASELINE), {
                    "fiscal_start": dt.date(2026, 1, 1), "entity": entity_id, "as_of": AS_OF,
                })).all()

        await statement()
        await baseline()
        times: dict[str, list[float]] = {"statement": [], "baseline": []}
        for _ in range(repeat):
            for name, work in (("statement", statement), ("baseline", baseline)):
                started = time.perf_counter()
                await work()
                times[name].append(time.perf_counter() - started)
        medians = {k: statistics.median(v) for k, v in times.items()}
        print(f"{db.engine.dialect.name}, {lines:,} lines, {repeat} interleaved runs each:")
        print(f"  balanceSheet (ledger.statements) {medians['statement'] * 1000:8.1f} ms")
        print(f"  hand-written SQL, run directly   {medians['baseline'] * 1000:8.1f} ms")
        print(f"  ratio {medians['statement'] / medians['baseline']:.2f}× (target ≤ 1.2×)")
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=2_000_000, help="journal lines to build (default 2,000,000)")
    parser.add_argument("--url", help="a PostgreSQL URL (default: a SQLite file under var/)")
    parser.add_argument("--repeat", type=int, default=7, help="interleaved runs of each (default 7)")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{ROOT / 'var' / f'bench-statements-{args.lines}.db'}"
    (ROOT / "var").mkdir(exist_ok=True)
    asyncio.run(run(url, args.lines, args.repeat))


if __name__ == "__main__":
    main()
