"""Scale-out: one gateway process vs several on one PostgreSQL database, correct together
and faster together (issue 12, item 4).

    python -m bench.scaleout --db postgresql://… [--scale 1] [--processes 1 2] [--seconds 5]
                             [--rounds 3] [--clients 16]

Builds the demo ledger at `--scale` in the database (once, if it has no entity), adds an
integration client with `ledger:read ledger:post statistical:read` for both demo
companies, and starts, for each count P of `--processes`, P gateway processes of their own
on ports of their own (from 8401 on: 1 → 8401, 2 → 8402 and 8403), each as `ledgergate
serve` runs it (`bench.serve gateway`: bearer tokens, the actor cache, scopes, the rate
limiter with its limits out of reach). The client spreads its connections over a setup's
processes evenly, as a balancer in front of them would.

Not `uvicorn --workers P` on one port (`bench.serve --workers`): there the kernel hands
each new connection to whichever worker accepts first, and wrk's eight keep-alive
connections, opened at once, all went to one worker (measured: 0.74 of a core in one, 0.00
in the other), so two workers served as one. Keep-alive clients need a balancer that
spreads connections (or requests), or SO_REUSEPORT, in front of several processes.

Then, interleaved (each round runs every measurement once on every setup, in turn),
`--rounds` rounds of `--seconds` each, medians shown:

- reads, wrk (eight connections in all, split evenly over the setup's processes, one wrk
  per process, rates summed): the small query (one account's code, name and balance) and a
  mid-size one (`journalEntries(first: 20) { lines { account } }`, about 17 KB);
- writes: `postJournalEntry` of 2-line entries (GJ, 6100 debit / 1000 credit, 1.00, dated
  2026-06-15), `--clients` concurrent clients of one httpx connection pool, half posting
  to SOFTCO and half to HOTELCO, each company's clients spread over the processes, a new
  idempotency key per entry (each company's postings are serialised by its entity lock,
  by design: the hash chain is linear);
- the cores the setup's gateway processes used during each measurement (/proc), and the
  load average before the run: on a shared machine, whether there was a core to scale to.

Then the checks that the processes were correct together (any failure stops the run):

- every wrk request answered 2xx (`bench.run.wrk`), every mutation without error;
- per company, the entries this run posted are exactly those answered (count, numbers),
  and the hash chain verifies (`verify_chain`, from the company's checkpoint);
- idempotency across processes: 20 keys already posted, sent again to every gateway, give
  their first answers' numbers and no new entry; one new key sent by `--clients`
  concurrent requests spread over the processes of the last setup gives one entry, the
  same number to all.

Each company's postings commit one transaction at a time, whatever the number of processes
(its hash chain is linear); group commit (`ledger.group_commit`) makes each transaction
carry many postings, and a second process does not add to one company's write rate.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import orjson
from sqlalchemy import func, select

from bench.credentials import add_client, bearer, key_env
from bench.ledgerdb import database_url, describe, ensure_demo
from bench.run import NESTED_QUERY, SMALL_QUERY, start_server, targets, wrk

FIRST_PORT = 8401
ENTITIES = ("SOFTCO", "HOTELCO")
SCOPES = "ledger:read ledger:post statistical:read"
MID_FIRST = 20
POST = """mutation Post($input: JournalEntryInput!, $key: String!) {
  postJournalEntry(input: $input, idempotencyKey: $key) { entry { number } } }"""


def entry_body(key: str) -> bytes:
    """The request posting the 2-line entry of idempotency key `key` (the same for a key)."""
    entry = {"journal": "GJ", "date": "2026-06-15", "description": f"scaleout {key}", "lines": [
        {"account": "6100", "debit": "1.00"}, {"account": "1000", "credit": "1.00"}]}
    return orjson.dumps({"query": POST, "variables": {"input": entry, "key": key}})


class Writes:
    """What the write runs answered: entity → {key: entry number}, and errors by code."""

    def __init__(self) -> None:
        self.numbers: dict[str, dict[str, str]] = {e: {} for e in ENTITIES}
        self.errors: collections.Counter = collections.Counter()


async def post(http: httpx.AsyncClient, url: str, headers: dict, key: str) -> tuple[str | None, str | None]:
    """(entry number, None) or (None, error code)."""
    response = await http.post(url, content=entry_body(key), headers=headers)
    if response.status_code != 200:
        return None, f"HTTP {response.status_code}"
    body = orjson.loads(response.content)
    if body.get("errors"):
        return None, (body["errors"][0].get("extensions") or {}).get("code", "?")
    return body["data"]["postJournalEntry"]["entry"]["number"], None


async def write_run(urls: list[str], headers: dict[str, dict], clients: int, seconds: float, tag: str,
                    writes: Writes) -> tuple[float, list[float]]:
    """`clients` concurrent clients posting entries for `seconds`, client i for company
    i mod 2 through process (i div 2) mod P: (entries a second, latencies)."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        started = time.perf_counter()
        deadline = started + seconds

        async def client(i: int) -> int:
            entity, done = ENTITIES[i % len(ENTITIES)], 0
            url = urls[(i // len(ENTITIES)) % len(urls)]
            while time.perf_counter() < deadline:
                key = f"{tag}-{i}-{done}"
                sent = time.perf_counter()
                number, error = await post(http, url, headers[entity], key)
                latencies.append(time.perf_counter() - sent)
                if error:
                    writes.errors[error] += 1
                else:
                    writes.numbers[entity][key] = number
                    done += 1
            return done

        done = sum(await asyncio.gather(*(client(i) for i in range(clients))))
        elapsed = time.perf_counter() - started
    return done / elapsed, latencies


async def check_idempotency(urls: list[str], headers: dict[str, dict], writes: Writes, clients: int,
                            tag: str) -> list[str]:
    """Replays on every process give the first answers; one key raced by `clients` requests
    over the last two processes posts once. The problems found (empty: none)."""
    problems = []
    rng = random.Random(5)
    async with httpx.AsyncClient(timeout=60) as http:
        for entity in ENTITIES:
            sample = rng.sample(sorted(writes.numbers[entity].items()), min(10, len(writes.numbers[entity])))
            for key, number in sample:
                for url in urls:
                    again, error = await post(http, url, headers[entity], key)
                    if again != number:
                        problems.append(f"replay of {key} on {url}: {again or error}, first {number}")
        key, racers = f"{tag}-race", urls[-2:]
        answers = await asyncio.gather(*(post(http, racers[i % len(racers)], headers[ENTITIES[0]], key)
                                         for i in range(clients)))
        numbers = {number for number, _ in answers}
        if len(numbers) != 1 or None in numbers:
            problems.append(f"{clients} concurrent requests with one key answered {sorted(map(str, numbers))}")
        else:
            writes.numbers[ENTITIES[0]][key] = numbers.pop()
    return problems


async def check_ledger(url: str, tag: str, writes: Writes) -> list[str]:
    """Per company: the entries of this run are the ones answered, and the chain verifies."""
    from ledger.model import Entity, JournalEntry
    from ledger.store import LedgerDatabase
    from ledger.tenancy import ALL_ENTITIES
    from ledger.verification import verify_chain

    problems = []
    db = LedgerDatabase.from_url(url)
    try:
        for code in ENTITIES:
            async with db.session(None) as s:
                entity_id = await s.scalar(select(Entity.id).where(Entity.code == code).execution_options(**ALL_ENTITIES))
            async with db.session(entity_id) as s:
                stored = set(await s.scalars(select(JournalEntry.number).where(
                    JournalEntry.description.like(f"scaleout {tag}-%"))))
                head, entries = (await s.execute(select(func.max(JournalEntry.seq), func.count()))).one()
            answered = set(writes.numbers[code].values())
            if stored != answered or len(answered) != len(writes.numbers[code]):
                problems.append(f"{code}: {len(stored)} entries stored, {len(answered)} distinct numbers "
                                f"answered for {len(writes.numbers[code])} keys")
            if head != entries:
                problems.append(f"{code}: head seq {head} but {entries} entries")
            async with db.session(entity_id) as s:
                verified = await verify_chain(s)
            if not verified.ok:
                problems.append(f"{code}: the chain breaks at {verified.first_broken_entry}")
            print(f"{code}: {len(stored):,} entries posted by this run, chain verified from seq "
                  f"{verified.from_seq} ({verified.entries_checked:,} entries)", file=sys.stderr)
    finally:
        await db.dispose()
    return problems


def cpu_seconds(processes: list[subprocess.Popen]) -> float:
    """User + system CPU seconds the processes have used so far (Linux /proc)."""
    ticks = 0
    for process in processes:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def spread_wrk(urls: list[str], seconds: int, body: str, headers: dict) -> float:
    """Requests a second of eight wrk connections split evenly over `urls`, one wrk each,
    all at once."""
    share = 8 // len(urls)
    with concurrent.futures.ThreadPoolExecutor(len(urls)) as pool:
        return sum(pool.map(lambda url: wrk(url, seconds, body, headers, connections=share), urls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a PostgreSQL URL (a SQLite path works, but its writers serialise)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2],
                        help="process counts to compare (each divides 8; ports from 8401 on)")
    parser.add_argument("--seconds", type=int, default=5, help="per measurement per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16, help="concurrent writers")
    args = parser.parse_args()
    if any(8 % n for n in args.processes):
        parser.error("each process count must divide wrk's 8 connections")
    load = Path("/proc/loadavg").read_text().split()[0]
    db = database_url(args.db)
    built = asyncio.run(ensure_demo(db, args.scale))
    if built is not None:
        print(f"built {describe(db)} at scale {args.scale:g} in {built:.0f} s", file=sys.stderr)
    t = targets(db)
    client = asyncio.run(add_client(db, list(ENTITIES), SCOPES))
    tag = uuid.uuid4().hex[:8]
    setups, port = {}, FIRST_PORT
    for n in args.processes:
        setups[n], port = list(range(port, port + n)), port + n
    urls = {n: [f"http://127.0.0.1:{p}/graphql" for p in ports] for n, ports in setups.items()}
    everywhere = [url for group in urls.values() for url in group]
    servers: list[subprocess.Popen] = []
    by_setup: dict[int, list[subprocess.Popen]] = collections.defaultdict(list)
    cores: dict[tuple[str, int], list[float]] = collections.defaultdict(list)
    writes = Writes()
    reads: dict[tuple[str, int], list[float]] = collections.defaultdict(list)
    write_rates: dict[int, list[float]] = collections.defaultdict(list)
    write_latencies: dict[int, list[float]] = collections.defaultdict(list)
    try:
        for n, ports in setups.items():
            for p in ports:
                by_setup[n].append(start_server("gateway", db, p, t["entity"], key_env(db)))
                servers.append(by_setup[n][-1])

        def measured(name: str, n: int, work):
            """`work()`, and the cores the setup's processes used meanwhile."""
            used, started = cpu_seconds(by_setup[n]), time.perf_counter()
            result = work()
            cores[(name, n)].append((cpu_seconds(by_setup[n]) - used) / (time.perf_counter() - started))
            return result

        # Tokens from the first process, used on every other: they verify everywhere.
        base = everywhere[0].removesuffix("/graphql")
        headers = {e: {"Content-Type": "application/json", **bearer(base, client, e)} for e in ENTITIES}
        bodies = {
            "small": orjson.dumps({"query": SMALL_QUERY, "variables": {"code": t["quiet"]}}).decode(),
            "mid": orjson.dumps({"query": NESTED_QUERY, "variables": {"first": MID_FIRST}}).decode(),
        }
        reader = headers[t["entity"]]
        answers = []
        for i, url in enumerate(everywhere):  # the same answers everywhere, and a warm-up
            answers.append({name: httpx.post(url, content=body, headers=reader, timeout=60).json()
                            for name, body in bodies.items()})
            asyncio.run(write_run([url], headers, 2, 0.5, f"{tag}-warm-{i}", writes))
        assert all("errors" not in a for a in answers[0].values()), answers[0]
        assert all(a["small"] == answers[0]["small"] for a in answers), "the processes' answers differ"
        for r in range(args.rounds):
            for name, body in bodies.items():
                for n, group in urls.items():
                    reads[(name, n)].append(measured(name, n, lambda: spread_wrk(group, args.seconds, body, reader)))
            for n, group in urls.items():
                rate, latencies = measured("writes", n, lambda: asyncio.run(
                    write_run(group, headers, args.clients, args.seconds, f"{tag}-{r}-{n}", writes)))
                write_rates[n].append(rate)
                write_latencies[n] += latencies
            print(f"round {r + 1}: " + "; ".join(
                f"{name} {n}p {reads[(name, n)][-1]:,.0f}/s" for name in bodies for n in urls)
                + "; " + "; ".join(f"writes {n}p {write_rates[n][-1]:,.0f}/s" for n in urls), file=sys.stderr)
        problems = asyncio.run(check_idempotency(everywhere, headers, writes, args.clients, tag))
    finally:
        for process in servers:
            process.terminate()
            process.wait(timeout=20)
    if writes.errors:
        problems.append(f"mutations answered errors: {dict(writes.errors)}")
    problems += asyncio.run(check_ledger(db, tag, writes))

    print(f"{describe(db)}, scale {args.scale:g}, {t['entity']} reads; medians of {args.rounds} × "
          f"{args.seconds} s, interleaved:")
    print("| benchmark | " + " | ".join(f"{n} process{'es' if n > 1 else ''}" for n in args.processes)
          + " | ratio |")
    print("| --- |" + " --- |" * (len(args.processes) + 1))
    labels = {"small": f"Small query (account + balance of {t['quiet_lines']} lines), wrk, 8 connections",
              "mid": f"journalEntries(first: {MID_FIRST}) → lines → account, wrk, 8 connections"}
    for name in bodies:
        medians = [statistics.median(reads[(name, n)]) for n in args.processes]
        print(f"| {labels[name]} | " + " | ".join(f"{m:,.0f} req/s" for m in medians)
              + " | " + ", ".join(f"{m / medians[0]:.2f}×" for m in medians[1:]) + " |")
    medians = [statistics.median(write_rates[n]) for n in args.processes]
    p50 = [statistics.median(write_latencies[n]) * 1000 for n in args.processes]
    p95 = [statistics.quantiles(write_latencies[n], n=20)[18] * 1000 for n in args.processes]
    print(f"| postJournalEntry, 2 lines, {args.clients} concurrent clients over SOFTCO and HOTELCO | "
          + " | ".join(f"{m:,.0f} entries/s (p50 {a:.0f} ms, p95 {b:.0f} ms)" for m, a, b in zip(medians, p50, p95))
          + " | " + ", ".join(f"{m / medians[0]:.2f}×" for m in medians[1:]) + " |")
    print("| gateway processes' CPU, cores in all (small / mid / writes) | " + " | ".join(
        " / ".join(f"{statistics.median(cores[(name, n)]):.2f}" for name in (*bodies, "writes"))
        for n in args.processes) + " | load average before the run: " + load + " |")
    posted = sum(len(v) for v in writes.numbers.values())
    print(f"\nchecks: {posted:,} entries posted and found, chains verified, replays on every process "
          f"answered the first numbers, {args.clients} racing requests with one key posted once"
          if not problems else "\nPROBLEMS:\n  " + "\n  ".join(problems))
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
