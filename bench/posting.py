"""Posting one big entry: the postJournalEntry mutation over the app vs the database's own
speed at writing the same rows, in one run.

    python -m bench.posting [--lines 10000] [--rounds 5] [--db postgresql://…]

Builds a fresh ledger (a SQLite file in var/, or a database at `--db`, which is emptied of
ledgergate's tables first: give it a scratch database), one company with two accounts, a
customer dimension, a journal and 2026's periods, and an integration client with
`ledger:read ledger:post`. The gateway runs in this process (httpx's ASGI transport: no
socket, so what is measured is ledgergate, not the network). Each round, interleaved:

- `mutation`: one entry of `--lines` lines (each with a memo, a dimension and a source link,
  the last line balancing), posted through `/graphql` with a new idempotency key, returning
  its number; the time includes JSON decoding, validation, GraphQL coercion, the ledger's
  rules, the hash, the audit row and the commit;
- `ledger`: the same entry posted by `ledger.posting.post_entries` directly (no HTTP, no
  GraphQL);
- `baseline`: the same number of line rows, with the same columns, inserted with one Core
  `executemany` into a scratch table and committed, the least any write path can cost.

The table shows medians and the ratios to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import httpx
import orjson
from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, insert, text

ROOT = Path(__file__).resolve().parent.parent
POST = """mutation Post($input: JournalEntryInput!, $key: String!) {
  postJournalEntry(input: $input, idempotencyKey: $key) { entry { number } } }"""
SCRATCH = Table(
    "bench_posting_lines", MetaData(),
    Column("id", Integer, primary_key=True),
    Column("entity_id", BigInteger), Column("entry_id", BigInteger), Column("line_no", Integer),
    Column("account_id", BigInteger), Column("date", String(10)), Column("currency", String(3)),
    Column("debit", BigInteger), Column("credit", BigInteger), Column("memo", String(500)),
    Column("customer_id", BigInteger),
)


def entry(lines: int, tag: str) -> dict:
    body = [
        {"account": "1100", "debit": "1.01", "memo": f"receipt {n}",
         "dimensions": [{"kind": "CUSTOMER", "code": "C1"}],
         "sources": [{"system": "pos", "recordType": "Receipt", "recordId": f"R-{tag}-{n}"}]}
        for n in range(lines - 1)
    ]
    body.append({"account": "4000", "credit": str(Decimal("1.01") * (lines - 1))})
    return {"journal": "SALES", "date": "2026-03-15", "description": f"bench {tag}", "lines": body}


async def add_company(database, code: str, name: str) -> int:
    """A company with two accounts (receivables, revenue), a customer, a sales journal and
    2026's periods; its id."""
    from ledger.model import AccountType as AT
    from ledger.model import DimensionKind as DK
    from ledger.reference import (
        AccountSpec,
        add_accounts,
        add_dimension_values,
        add_journals,
        add_monthly_periods,
        create_entity,
    )

    async with database.session(None) as s:
        entity_id = await create_entity(s, code, name, "USD")
        await s.commit()
    async with database.session(entity_id) as s:
        await add_accounts(s, [AccountSpec("1100", "Receivables", AT.ASSET),
                               AccountSpec("4000", "Revenue", AT.REVENUE)])
        await add_dimension_values(s, [(DK.CUSTOMER, "C1", "Customer")])
        await add_journals(s, [("SALES", "Sales journal")])
        await add_monthly_periods(s, 2026)
        await s.commit()
    return entity_id


async def _ledger(url: str):
    from gateway.auth import identities
    from ledger.migrate import upgrade
    from ledger.store import LedgerDatabase

    database = LedgerDatabase.from_url(url)
    await upgrade(database.engine)
    entity_id = await add_company(database, "BENCH", "Bench Inc.")
    scopes = "ledger:read ledger:post"
    await identities.add_role(database, "bench", scopes)
    client, secret = await identities.add_client(database, "bench", scopes)
    await identities.add_user(database, "BENCH", "bench", "bench")
    await identities.allow(database, client.client_id, "BENCH", "bench")
    async with database.engine.begin() as conn:
        await conn.run_sync(SCRATCH.create)
    return database, entity_id, (client.client_id, secret)


def _draft(body: dict):
    from ledger.drafts import EntryDraft, LineDraft, SourceRef

    return EntryDraft(
        journal=body["journal"], date=dt.date.fromisoformat(body["date"]),
        description=body["description"], source=None,
        lines=tuple(
            LineDraft(account=line["account"], debit=Decimal(line["debit"]) if "debit" in line else None,
                      credit=Decimal(line["credit"]) if "credit" in line else None, quantity=None,
                      memo=line.get("memo"),
                      dimensions=tuple((d["kind"], d["code"]) for d in line.get("dimensions", ())),
                      sources=tuple(SourceRef(s["system"], s["recordType"], s["recordId"], None)
                                    for s in line.get("sources", ())))
            for line in body["lines"]
        ),
    )


async def run(url: str, lines: int, rounds: int) -> dict[str, list[float]]:
    from gateway.app import create_app
    from gateway.secrets import key_file_beside
    from ledger.posting import post_entries
    from ledger.posting_plan import Posting
    from resolvers.context import Limits

    database, entity_id, client = await _ledger(url)
    settings = bench_settings(url, key_file_beside(ROOT / "var" / "bench-posting.db"),
                              limits=Limits(max_tokens=10**9, max_cost=10**9, max_entry_lines=lines))
    catalog = pos_catalog()
    app = create_app(settings, db=database, sources=catalog)
    times: dict[str, list[float]] = {"mutation": [], "ledger": [], "baseline": []}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as http:
        token = (await http.post("/oauth/token", data={"grant_type": "client_credentials",
                                                       "entity": "BENCH"}, auth=client)).json()
        headers = {"Authorization": f"Bearer {token['access_token']}",
                   "Content-Type": "application/json"}
        for n in range(rounds):
            tag = f"{n}-{uuid.uuid4().hex[:6]}"
            body = orjson.dumps({"query": POST, "variables": {"input": entry(lines, tag), "key": tag}})
            start = time.perf_counter()
            response = await http.post("/graphql", content=body, headers=headers)
            times["mutation"].append(time.perf_counter() - start)
            answer = response.json()
            assert "errors" not in answer, str(answer)[:500]

            draft = _draft(entry(lines, "l" + tag))
            start = time.perf_counter()
            async with database.session(entity_id) as session:
                await post_entries(session, [Posting(draft, "l" + tag)], max_lines=lines)
            times["ledger"].append(time.perf_counter() - start)

            rows = [{"entity_id": entity_id, "entry_id": n, "line_no": i, "account_id": 1,
                     "date": "2026-03-15", "currency": "USD", "debit": 101, "credit": 0,
                     "memo": f"receipt {i}", "customer_id": 1} for i in range(lines)]
            start = time.perf_counter()
            async with database.engine.begin() as conn:
                await conn.execute(insert(SCRATCH), rows)
            times["baseline"].append(time.perf_counter() - start)
    async with database.engine.begin() as conn:
        await conn.execute(text(f"DROP TABLE {SCRATCH.name}"))
    await database.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--db", "--url", dest="url",
                        help="a scratch PostgreSQL database URL (default: a new SQLite file)")
    args = parser.parse_args()
    url = scratch_url(args.url, "bench-posting")
    times = asyncio.run(run(url, args.lines, args.rounds))
    base = statistics.median(times["baseline"])
    print(f"{args.lines:,} lines, {args.rounds} rounds, {url.split(':')[0]}")
    print("| path | median | ratio to baseline |\n| --- | --- | --- |")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median * 1000:,.0f} ms | {median / base:.1f}× |")
    print("rounds (s): " + "; ".join(
        f"{name} " + " ".join(f"{v:.2f}" for v in values) for name, values in times.items()),
        file=sys.stderr)


def scratch_url(url: str | None, name: str) -> str:
    """Where a benchmark builds its ledger: `url`, a scratch PostgreSQL database emptied of
    every table first, or by default a new SQLite file var/NAME.db."""
    if url is not None:
        asyncio.run(_empty(url))
        return url
    path = ROOT / "var" / f"{name}.db"
    path.parent.mkdir(exist_ok=True)
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    return f"sqlite:///{path}"


def bench_settings(url: str, key_file: Path, **overrides):
    """The gateway's settings for a posting benchmark: rate limits out of its reach (one
    client posts hundreds of times a second), big bodies allowed."""
    from gateway.config import MAX_RATE, RateLimitSettings, Settings

    rates = RateLimitSettings(requests_per_second=MAX_RATE, burst=MAX_RATE,
                              token_requests_per_minute=MAX_RATE,
                              token_requests_per_minute_per_address=MAX_RATE)
    return Settings(database_url=url, secrets_key_file=key_file, max_body_bytes=100_000_000,
                    rate_limit=rates, **overrides)


def pos_catalog():
    """A point of sale whose receipts the benchmark's entries cite: configured, so links
    to it are accepted, and not verified, so the system itself is never called."""
    from resolvers.sources.catalog import SourceCatalog
    from sources.base import FieldSpec, Ownership, RecordType
    from sources.mock import MockSource

    receipt = RecordType("pos", "Receipt", "PosReceipt", "id", (FieldSpec("id", "ID", nullable=False),),
                         ownership=Ownership(shared=True))
    return SourceCatalog.of({"pos": MockSource("pos")}, [receipt])


async def _empty(url: str) -> None:
    """A scratch PostgreSQL database, emptied of every table (ledgergate's and the scratch)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from ledger.store import normalize_url

    engine = create_async_engine(normalize_url(url))
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


if __name__ == "__main__":
    main()
