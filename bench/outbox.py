"""Outbox throughput and latency against the demo CRM, in one run.

    python -m bench.outbox [--db postgresql://…] [--messages 10000] [--rounds 3] [--latency 200]

The demo CRM runs in a child process (`ledgergate demo-source crm`, port `--port`) with
its idempotency store and version check (`sources.demo.services.crm_ledger`). The ledger is
a scratch database (`bench.posting.scratch_url`: a new SQLite file, or `--db` emptied
first) with one company, its sales order book and one real sales order, whose outbox
message is the template of every message below.

Throughput, `--rounds` rounds, each timing in turn (interleaved):

- `direct`: the CRM's own capacity: `--messages` status updates (orders of 5 versions each,
  the same JSON as the outbox sends) POSTed straight to it by one process, 8 at a time,
  each with its Idempotency-Key;
- `one dispatcher`: the same number of messages, written to the outbox table in one
  transaction, then delivered by one `OutboxDispatcher` (this process) until none is
  pending: claims, one version of an order at a time, the HTTP call, the outcome recorded;
- `two dispatchers` (PostgreSQL only: SQLite has one writer): the same, delivered by two
  child processes at once (`FOR UPDATE SKIP LOCKED` sharing the work).

Messages a second, medians of the rounds, and each dispatcher figure ÷ direct (goal ≥ 0.8).

Latency, `--latency` changes one at a time, 50 ms apart, with the gateway (uvicorn, this
process) running its dispatcher idle and a subscriber on `salesOrderChanged` over a real
WebSocket: from each change's commit to the CRM having it (the CRM stamps `receivedAt`)
and to the subscriber receiving it; median and p99 (goal: p99 under 1 s).

Bounded: every wait has a deadline, and the child processes are killed on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CRM_KEY_ENV = "LEDGERGATE_DEMO_CRM_API_KEY"
VERSIONS = 5
CONCURRENCY = 8
DEADLINE = 600.0


def start_crm(port: int, key: str) -> subprocess.Popen:
    from bench.run import listening

    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "demo-source", "crm", "--port", str(port), "--scale", "0.05"],
        cwd=ROOT, env={**os.environ, CRM_KEY_ENV: key}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return listening(process, port, "the demo CRM", seconds=60)


async def setup(url: str):
    from bench.posting import add_company
    from ledger.documents import sales_orders as so
    from ledger.documents.model import SalesOrder
    from ledger.documents.sales_order import OrderLineDraft
    from ledger.drafts import SourceRef
    from ledger.migrate import upgrade
    from ledger.model import AccountType
    from ledger.reference import AccountSpec, add_accounts
    from ledger.store import LedgerDatabase

    db = LedgerDatabase.from_url(url)
    await upgrade(db.engine)
    entity = await add_company(db, "BENCH", "Bench Inc.")
    async with db.session(entity) as s:
        await add_accounts(s, [AccountSpec("1000", "Cash", AccountType.ASSET)])
        await so.set_book(s, journal="SALES", receivable="1100", revenue="4000", cash="1000")
        await s.commit()
    async with db.session(entity) as s:
        change = await so.create_order(
            s, so.OrderDraft("C1", "USD", (OrderLineDraft("SEATS", Decimal(3), Decimal("19.99")),),
                             SourceRef("crm", "Opportunity", "OPP-B")), "template")
    async with db.session(entity) as s:
        order = await s.get(SalesOrder, change.order_id)
        template = await so.order_message(s, order)
    return db, entity, template


def messages(tag: str, count: int, template: dict) -> list[tuple[str, str, int, str, dict]]:
    """(record key, idempotency key, version, topic, payload) for `count` messages."""
    out = []
    for i in range(count):
        number, version = f"SO-{tag}-{i // VERSIONS:06d}", i % VERSIONS + 1
        payload = {**template, "number": number, "version": version}
        out.append((number, f"bench:{tag}:{number}:v{version}", version, "salesOrder", payload))
    return out


async def write_outbox(db, entity: int, batch) -> None:
    from ledger.outbox import OutboxMessage, stamp, utc_now

    now = stamp(utc_now())
    rows = [{"entity_id": entity, "system": "crm", "topic": topic, "record_key": number, "version": v,
             "idempotency_key": key, "payload": payload, "state": "PENDING", "attempts": 0,
             "next_attempt_at": now, "created_at": now}
            for number, key, v, topic, payload in batch]
    async with db.engine.begin() as c:
        for start in range(0, len(rows), 2000):
            await c.execute(OutboxMessage.__table__.insert(), rows[start:start + 2000])


async def direct(port: int, key: str, batch) -> float:
    queue = list(reversed(batch))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key},
                                 timeout=30) as http:
        async def worker():
            while queue:
                _, ikey, _, _, payload = queue.pop()
                answer = await http.post("/crm/ledger/sales-orders", content=json.dumps(payload),
                                         headers={"Idempotency-Key": ikey, "Content-Type": "application/json"})
                if answer.status_code != 200:
                    raise SystemExit(f"the CRM refused a direct update: {answer.text[:300]}")
        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(CONCURRENCY))), DEADLINE)
        return time.perf_counter() - started


async def catalog_for(port: int, key: str):
    from gateway.source_catalog import open_catalog
    from sources.config import parse_sources_config
    from sources.demo.services.crm_ledger import sources_toml

    return await open_catalog(parse_sources_config(sources_toml(f"http://127.0.0.1:{port}", timeout=5.0)), secrets={"crm": {"api_key": key}})


async def drain(db, catalog, name: str) -> None:
    from gateway.config import OutboxSettings
    from gateway.outbox_dispatcher import OutboxDispatcher
    from ledger import outbox

    dispatcher = OutboxDispatcher(db, catalog, OutboxSettings(concurrency=CONCURRENCY), name=name)
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if not await dispatcher.rounds() and (await outbox.backlog(db.engine))["PENDING"] == 0:
            return
    raise SystemExit("the outbox did not drain before the deadline")


async def child_drain(url: str, port: int, key: str, name: str) -> None:
    from ledger.store import LedgerDatabase

    db = LedgerDatabase.from_url(url)
    catalog = await catalog_for(port, key)
    try:
        await drain(db, catalog, name)
    finally:
        await catalog.aclose()
        await db.dispose()


def two_dispatchers(url: str, port: int, key: str) -> float:
    started = time.perf_counter()
    children = [subprocess.Popen([sys.executable, "-m", "bench.outbox", "--drain", url, "--port", str(port),
                                  "--name", f"child{i}"], cwd=ROOT, env={**os.environ, CRM_KEY_ENV: key})
                for i in range(2)]
    try:
        for child in children:
            if child.wait(timeout=DEADLINE) != 0:
                raise SystemExit("a dispatcher process failed")
    finally:
        for child in children:
            child.kill()
    return time.perf_counter() - started


async def throughput(url: str, db, entity: int, template: dict, port: int, key: str, count: int,
                     rounds: int) -> dict[str, list[float]]:
    catalog = await catalog_for(port, key)
    modes = ["direct", "one dispatcher"] + (["two dispatchers"] if url.startswith("postgresql") else [])
    rates: dict[str, list[float]] = {m: [] for m in modes}
    try:
        for r in range(rounds):
            for mode in modes:
                batch = messages(f"r{r}{mode[:3]}{uuid.uuid4().hex[:4]}", count, template)
                if mode == "direct":
                    seconds = await direct(port, key, batch)
                else:
                    await write_outbox(db, entity, batch)
                    if mode == "one dispatcher":
                        started = time.perf_counter()
                        await drain(db, catalog, "bench")
                        seconds = time.perf_counter() - started
                    else:
                        seconds = await asyncio.to_thread(two_dispatchers, url, port, key)
                rates[mode].append(count / seconds)
                print(f"round {r + 1} {mode}: {count / seconds:,.0f} messages/s", file=sys.stderr)
    finally:
        await catalog.aclose()
    return rates


async def latency(url: str, db, entity: int, port: int, key: str, changes: int) -> dict[str, list[float]]:
    import websockets

    from bench.posting import bench_settings
    from gateway.app import create_app
    from gateway.auth import identities
    from gateway.config import OutboxSettings
    from gateway.secrets import key_file_beside
    from ledger.documents import sales_orders as so
    from ledger.documents.sales_order import OrderLineDraft
    from ledger.drafts import SourceRef
    from sources.demo.services.serve import serving

    scopes = "documents:read"
    await identities.add_role(db, "watcher", scopes)
    client, secret = await identities.add_client(db, "watcher", scopes)
    await identities.add_user(db, "BENCH", "watcher", "watcher")
    await identities.allow(db, client.client_id, "BENCH", "watcher")
    catalog = await catalog_for(port, key)
    settings = bench_settings(url, key_file_beside(ROOT / "var" / "bench-outbox.db"),
                              outbox=OutboxSettings(poll_seconds=0.25))
    app = create_app(settings, db=db, sources=catalog)
    committed: dict[str, float] = {}
    to_subscriber: list[float] = []
    async with serving(app) as gateway:
        async with httpx.AsyncClient(base_url=gateway) as http:
            token = (await http.post("/oauth/token", data={"grant_type": "client_credentials", "entity": "BENCH"},
                                     auth=(client.client_id, secret))).json()["access_token"]
        async with websockets.connect(gateway.replace("http", "ws") + "/graphql",
                                      subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": "subscription { salesOrderChanged { number } }"}}))
            await asyncio.sleep(0.3)
            for n in range(changes):
                draft = so.OrderDraft("C1", "USD", (OrderLineDraft("X", Decimal(1), Decimal(5)),),
                                      SourceRef("crm", "Opportunity", f"OPP-L{n}"))
                async with db.session(entity) as s:
                    change = await so.create_order(s, draft, f"lat-{n}", notify=("crm",))
                committed[change.number] = time.time()
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                number = message["payload"]["data"]["salesOrderChanged"]["number"]
                to_subscriber.append(time.time() - committed[number])
                await asyncio.sleep(0.05)
            deadline = time.monotonic() + 30
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}) as crm:
                while time.monotonic() < deadline:
                    held = {r["number"]: r for r in (await crm.get("/crm/ledger/sales-orders")).json()
                            if r["company"] == "BENCH" and r["number"] in committed}
                    if len(held) == len(committed):
                        break
                    await asyncio.sleep(0.2)
    await catalog.aclose()
    to_crm = [dt.datetime.fromisoformat(held[n]["receivedAt"]).timestamp() - t for n, t in committed.items()]
    return {"commit → CRM": to_crm, "commit → subscriber": to_subscriber}


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="a scratch PostgreSQL database URL (default: a new SQLite file)")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=int, default=200)
    parser.add_argument("--port", type=int, default=8421)
    parser.add_argument("--drain", help=argparse.SUPPRESS)  # a child dispatcher: the ledger's URL
    parser.add_argument("--name", default="child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drain:
        asyncio.run(child_drain(args.drain, args.port, os.environ[CRM_KEY_ENV], args.name))
        return
    from bench.posting import scratch_url

    url = scratch_url(args.db, "bench-outbox")
    key = secrets.token_urlsafe(24)
    crm = start_crm(args.port, key)
    try:
        async def run():
            db, entity, template = await setup(url)
            try:
                rates = await throughput(url, db, entity, template, args.port, key, args.messages, args.rounds)
                delays = await latency(url, db, entity, args.port, key, args.latency)
            finally:
                await db.dispose()
            return rates, delays
        rates, delays = asyncio.run(run())
    finally:
        crm.kill()
    kind = url.split(":")[0].split("+")[0]
    print(f"{kind}: {args.messages:,} messages a round, medians of {args.rounds} interleaved rounds")
    print("| delivery | messages/s | ÷ direct |\n| --- | --- | --- |")
    base = statistics.median(rates["direct"])
    for mode, values in rates.items():
        rate = statistics.median(values)
        print(f"| {mode} | {rate:,.0f} | {rate / base:.2f}× |")
    print("rounds: " + "; ".join(f"{m}: " + "/".join(f"{v:,.0f}" for v in vs) for m, vs in rates.items()))
    print(f"\nlatency over {args.latency} changes, dispatcher idle (poll 0.25 s, woken by the commit):")
    print("| from the commit to | median | p99 |\n| --- | --- | --- |")
    for what, values in delays.items():
        print(f"| {what.split('→ ')[1]} | {statistics.median(values) * 1000:.1f} ms | {p99(values) * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
