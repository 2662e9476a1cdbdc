"""Posting throughput over HTTP against the database's own speed at the same inserts.

    python -m bench.post [--db postgresql://…] [--rounds 3] [--port 8411]

Builds a fresh ledger (`bench.posting`'s: a SQLite file var/bench-post.db, or the scratch
database at `--db`, emptied first), starts the gateway in a child process (uvicorn, one
worker, 127.0.0.1:`--port`) and posts, as a real OAuth client with a bearer token:

- single postings (`postJournalEntry`) of 2-line and of 10-line entries, by 1 client and
  by 8 concurrent clients (each line but the last carries a memo, a customer and a source
  link, as a point-of-sale summary would);
- bulk postings (`postJournalEntries`), 1,000 two-line entries per call.

The baseline writes the same rows straight into the same database with SQLAlchemy Core on
the same driver, for another company: per entry its entry row with its chained SHA-256,
its lines, its source links, its idempotency row and an audit row (chained too), one
transaction per entry (per 1,000 entries for the bulk case), one writer. Gateway and
baseline are timed in turns (A, B, A, B …) for `--rounds` rounds; the table shows the
medians of the rounds, in entries and lines per second, and the ratios the issue sets:
single ≥ 0.4× of the baseline, 8 clients ≥ 2× one client, bulk ≥ 0.6× of its baseline.
Every gateway response is checked for errors. Bounded: each round of each case posts a
fixed number of entries.

`--commits` compares, in turns, the single-posting cases through three gateway processes
that differ only in how postings commit: `group` (as shipped: concurrent postings of a
company share a transaction, `ledger.group_commit`), `serial` (queued in the process, one
transaction each) and `direct` (one transaction each as requests arrive, meeting at the
company's lock in the database: how ledgergate posted before). Ports `--port` to `+ 2`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import orjson

from bench.posting import entry
from bench.run import listening

ROOT = Path(__file__).resolve().parent.parent
_DATE = dt.date(2026, 3, 15)
SINGLE = """mutation Post($input: JournalEntryInput!, $key: String!) {
  postJournalEntry(input: $input, idempotencyKey: $key) { entry { number } } }"""
BULK = """mutation Bulk($inputs: [JournalEntryInput!]!, $key: String!) {
  postJournalEntries(inputs: $inputs, idempotencyKey: $key) { entries { number } } }"""
# (name, lines per entry, clients, entries per round, entries per call)
CASES = (
    ("single 2-line, 1 client", 2, 1, 150, 1),
    ("single 2-line, 8 clients", 2, 8, 400, 1),
    ("single 10-line, 1 client", 10, 1, 100, 1),
    ("single 10-line, 8 clients", 10, 8, 300, 1),
    ("bulk 1,000 × 2-line", 2, 1, 3000, 1000),
    ("bulk 1,000 × 10-line", 10, 1, 2000, 1000),
)


# --- the gateway side ----------------------------------------------------------------------


async def gateway_round(http: httpx.AsyncClient, lines: int, clients: int, count: int,
                        per_call: int) -> float:
    """Post `count` entries through /graphql; seconds taken."""
    run = uuid.uuid4().hex[:8]
    calls = [[entry(lines, f"{run}-{c}-{i}") for i in range(per_call)]
             for c in range(count // per_call)]
    bodies = [
        orjson.dumps({"query": SINGLE, "variables": {"input": call[0], "key": f"{run}-{n}"}})
        if per_call == 1 else
        orjson.dumps({"query": BULK, "variables": {"inputs": call, "key": f"{run}-{n}"}})
        for n, call in enumerate(calls)
    ]
    queue = list(reversed(bodies))

    async def client() -> None:
        while queue:
            response = await http.post("/graphql", content=queue.pop())
            answer = response.json()
            if response.status_code != 200 or "errors" in answer:
                raise SystemExit(f"the gateway refused a posting: {str(answer)[:500]}")

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started


# --- the baseline ----------------------------------------------------------------------------


class Baseline:
    """The same rows as ledgergate writes for a posting, inserted directly."""

    def __init__(self, database, entity_id: int, refs: dict[str, int]):
        self.engine = database.engine
        self.entity_id, self.refs = entity_id, refs
        self.seq, self.head = 0, "0" * 64
        self.audit_seq, self.audit_head = 0, "0" * 64

    async def round(self, lines: int, count: int, per_txn: int) -> float:
        from sqlalchemy import insert, select

        from ledger.model import AuditEvent, IdempotencyKey, JournalEntry, JournalLine, SourceLink

        run = uuid.uuid4().hex[:8]
        started = time.perf_counter()
        for start in range(0, count, per_txn):
            async with self.engine.begin() as conn:
                head_seq = self.seq
                entries, line_plans = [], []
                for n in range(start, start + per_txn):
                    body = entry(lines, f"{run}-{n}")
                    self.seq += 1
                    digest = hashlib.sha256((self.head + json.dumps(body, sort_keys=True)).encode())
                    self.head = digest.hexdigest()
                    entries.append({
                        "entity_id": self.entity_id, "seq": self.seq, "number": f"B-{self.seq:07d}",
                        "journal_id": self.refs["SALES"], "date": _DATE, "description": body["description"],
                        "reverses_id": None, "posted_at": "2026-12-05T00:00:00.000000Z",
                        "prev_hash": "0" * 64, "hash": self.head,
                    })
                    line_plans.append(body["lines"])
                await conn.execute(insert(JournalEntry.__table__), entries)
                ids = dict((await conn.execute(select(JournalEntry.seq, JournalEntry.id).where(
                    JournalEntry.entity_id == self.entity_id, JournalEntry.seq > head_seq))).all())
                line_rows, sources = [], []
                for row, plan in zip(entries, line_plans):
                    for no, line in enumerate(plan, start=1):
                        line_rows.append({
                            "entity_id": self.entity_id, "entry_id": ids[row["seq"]], "line_no": no,
                            "account_id": self.refs[line["account"]], "date": _DATE, "currency": "USD",
                            "debit": 101 if "debit" in line else 0,
                            "credit": 0 if "debit" in line else 101 * (lines - 1),
                            "quantity": None, "memo": line.get("memo"),
                            "customer_id": self.refs["C1"] if "dimensions" in line else None,
                        })
                        sources.append(line.get("sources", ()))
                await conn.execute(insert(JournalLine.__table__), line_rows)
                found = await conn.execute(
                    select(JournalLine.entry_id, JournalLine.line_no, JournalLine.id).where(
                        JournalLine.entity_id == self.entity_id,
                        JournalLine.entry_id.in_(list(ids.values())))
                )
                line_ids = {(r.entry_id, r.line_no): r.id for r in found}
                await conn.execute(insert(SourceLink.__table__), [
                    {"entity_id": self.entity_id, "entry_id": row["entry_id"],
                     "line_id": line_ids[(row["entry_id"], row["line_no"])], "position": 0,
                     "system": s["system"], "record_type": s["recordType"],
                     "record_id": s["recordId"], "url": None}
                    for row, links in zip(line_rows, sources) for s in links
                ])
                await conn.execute(insert(IdempotencyKey.__table__), [
                    {"entity_id": self.entity_id, "client_id": "baseline", "key": f"{run}-{r['seq']}",
                     "request_hash": "0" * 64, "entry_id": ids[r["seq"]]} for r in entries
                ])
                self.audit_seq += 1
                audit = {"entity_id": self.entity_id, "chain": self.entity_id, "seq": self.audit_seq,
                         "occurred_at": "2026-12-05T00:00:00.000000Z", "request_id": run,
                         "event": "mutation", "outcome": "OK", "client_id": "baseline",
                         "username": "baseline",
                         "detail": {"entries": [{"id": ids[r["seq"]], "number": r["number"]}
                                                for r in entries]}}
                audit["prev_hash"] = self.audit_head
                audit["hash"] = self.audit_head = hashlib.sha256(
                    (self.audit_head + json.dumps(audit, sort_keys=True, default=str)).encode()
                ).hexdigest()
                await conn.execute(insert(AuditEvent.__table__), [audit])
        return time.perf_counter() - started


async def _baseline_entity(database) -> Baseline:
    from sqlalchemy import select

    from bench.posting import add_company
    from ledger.model import Account, DimensionValue, Journal

    entity_id = await add_company(database, "BASE", "Baseline Inc.")
    async with database.session(entity_id) as s:
        refs = dict((await s.execute(select(Account.code, Account.id))).all())
        refs.update((await s.execute(select(Journal.code, Journal.id))).all())
        refs.update((await s.execute(select(DimensionValue.code, DimensionValue.id))).all())
    return Baseline(database, entity_id, refs)


# --- the gateway process -----------------------------------------------------------------------


class DirectPosting:
    """Bench only, the `direct` variant: each posting in its own transaction as it arrives,
    concurrent ones meeting at the entity's lock in the database (the path before group
    commit), for comparison."""

    def __init__(self, database):
        self.database = database
        self.writer = contextlib.nullcontext()

    async def post(self, entity_id, posting, *, found=(), max_lines, audit_event=None):
        from ledger import audit
        from ledger.posting import post_entries

        async def record(session, ids, numbers):
            await audit.append(session, [audit_event([{"id": i, "number": numbers.get(i)} for i in ids])])

        async with self.database.session(entity_id) as session:
            return (await post_entries(session, [posting], before_commit=record,
                                       max_lines=max_lines, found=[found]))[0]


VARIANTS = ("group", "serial", "direct")


def serve(url: str, port: int, key_file: str, variant: str = "group") -> None:
    """The gateway for `url`; `variant` (bench only) changes how single postings commit:
    `group` as shipped, `serial` one transaction per posting queued in the process,
    `direct` one transaction per posting, meeting at the database's lock."""
    import uvicorn

    from bench.posting import bench_settings, pos_catalog
    from gateway.app import create_app
    from ledger.group_commit import GroupCommit
    from ledger.store import LedgerDatabase
    from resolvers.context import Limits

    settings = bench_settings(url, Path(key_file), limits=Limits(max_tokens=10**9, max_cost=10**9))
    database = LedgerDatabase.from_url(url)
    if variant == "serial":
        database._group_commit = GroupCommit(database, max_group_lines=1)
    elif variant == "direct":
        database._group_commit = DirectPosting(database)
    app = create_app(settings, db=database, sources=pos_catalog())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _start(url: str, port: int, key_file: Path, variant: str = "group") -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.post", "--serve", url, str(port), str(key_file), variant],
        cwd=ROOT,
    )
    return listening(process, port, "the gateway", seconds=60)


async def measure(url: str, port: int, rounds: int) -> list[dict]:
    from bench.posting import _ledger
    from gateway.secrets import key_file_beside

    database, _, client = await _ledger(url)
    baseline = await _baseline_entity(database)
    key_file = key_file_beside(ROOT / "var" / "bench-post.db")
    process = _start(url, port, key_file)
    results = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600,
                                     limits=httpx.Limits(max_connections=16)) as http:
            token = (await http.post("/oauth/token", data={
                "grant_type": "client_credentials", "entity": "BENCH"}, auth=client)).json()
            http.headers.update({"Authorization": f"Bearer {token['access_token']}",
                                 "Content-Type": "application/json"})
            await gateway_round(http, 2, 1, 20, 1)  # warm: plans, caches, connections
            await baseline.round(2, 20, 1)
            for name, lines, clients, count, per_call in CASES:
                gateway, base = [], []
                for _ in range(rounds):
                    gateway.append(count / await gateway_round(http, lines, clients, count, per_call))
                    base.append(count / await baseline.round(lines, count, per_call))
                results.append({"case": name, "lines": lines, "clients": clients,
                                "gateway": statistics.median(gateway), "baseline": statistics.median(base),
                                "rounds": (gateway, base)})
                print(f"{name}: {results[-1]['gateway']:.0f} vs {results[-1]['baseline']:.0f} entries/s",
                      file=sys.stderr)
    finally:
        process.terminate()
        process.wait(timeout=30)
        await database.dispose()
    return results


async def compare_commits(url: str, port: int, rounds: int) -> None:
    """`--commits`: single postings through the three ways of committing them (`VARIANTS`,
    one gateway process each on ports `port`…`port + 2`, one database), in turns."""
    from bench.posting import _ledger
    from gateway.secrets import key_file_beside

    database, _, client = await _ledger(url)
    key_file = key_file_beside(ROOT / "var" / "bench-post.db")
    processes = [_start(url, port + n, key_file, v) for n, v in enumerate(VARIANTS)]
    cases = [c for c in CASES if c[4] == 1]
    rates: dict[tuple[str, str], list[float]] = {}
    try:
        async with contextlib.AsyncExitStack() as stack:
            clients = {}
            for n, variant in enumerate(VARIANTS):
                http = await stack.enter_async_context(httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port + n}", timeout=600,
                    limits=httpx.Limits(max_connections=16)))
                token = (await http.post("/oauth/token", data={
                    "grant_type": "client_credentials", "entity": "BENCH"}, auth=client)).json()
                http.headers.update({"Authorization": f"Bearer {token['access_token']}",
                                     "Content-Type": "application/json"})
                await gateway_round(http, 2, 1, 20, 1)
                clients[variant] = http
            for name, lines, concurrency, count, _ in cases:
                for _ in range(rounds):
                    for variant, http in clients.items():
                        took = await gateway_round(http, lines, concurrency, count, 1)
                        rates.setdefault((name, variant), []).append(count / took)
                print(name, {v: round(statistics.median(rates[(name, v)])) for v in VARIANTS},
                      file=sys.stderr)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        await database.dispose()
    print(f"{url.split(':')[0]}: single postings, entries/s, medians of {rounds} rounds in turns")
    print("| case | " + " | ".join(VARIANTS) + " |\n| --- |" + " --- |" * len(VARIANTS))
    for name, *_ in cases:
        print(f"| {name} | " + " | ".join(
            f"{statistics.median(rates[(name, v)]):,.0f}" for v in VARIANTS) + " |")


def report(results: list[dict], url: str) -> None:
    print(f"{url.split(':')[0]}: entries/s (lines/s), medians of the rounds")
    print("| case | ledgergate | baseline | ratio |\n| --- | --- | --- | --- |")
    by_name = {r["case"]: r for r in results}
    for r in results:
        g, b, n = r["gateway"], r["baseline"], r["lines"]
        print(f"| {r['case']} | {g:,.0f} ({g * n:,.0f}) | {b:,.0f} ({b * n:,.0f}) | {g / b:.2f}× |")
    for lines in (2, 10):
        one = by_name[f"single {lines}-line, 1 client"]["gateway"]
        eight = by_name[f"single {lines}-line, 8 clients"]["gateway"]
        print(f"| {lines}-line: 8 clients ÷ 1 client | | | {eight / one:.2f}× |")
    print("rounds: " + "; ".join(
        f"{r['case']}: " + " ".join(f"{g:.0f}/{b:.0f}" for g, b in zip(*r["rounds"]))
        for r in results), file=sys.stderr)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4], *sys.argv[5:6])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="a scratch PostgreSQL database URL (default: a new SQLite file)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8411)
    parser.add_argument("--commits", action="store_true",
                        help="compare group commit with one transaction per posting instead")
    args = parser.parse_args()
    from bench.posting import scratch_url

    url = scratch_url(args.db, "bench-post")
    if args.commits:
        asyncio.run(compare_commits(url, args.port, args.rounds))
    else:
        report(asyncio.run(measure(url, args.port, args.rounds)), url)


if __name__ == "__main__":
    main()
