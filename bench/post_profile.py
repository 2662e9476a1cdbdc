"""Where one posting's time goes, end to end.

    python -m bench.post_profile [--postings 300] [--lines 2] [--db postgresql://…]

Posts `--postings` entries one after another through `/graphql` (httpx's ASGI transport,
in this process: no socket) on `bench.posting`'s ledger, with each step of the path wrapped
in a timer (bench only: the wrappers replace module attributes for this process), and
prints the mean wall time per posting of each step, nested as they run:

- the request as the client sees it; of it, the bearer token (verified and cached: what a
  client with a live token pays), the GraphQL execution (parse and validation are cached:
  the same document every time), and what is left (HTTP, body, rate limit, response);
- in the mutation: the source-link checks, the group commit (its queue and transaction)
  and the payload read after the commit;
- in the transaction: the entity lock, the idempotency look-up, the references, pricing and
  the rules, the inserts and the hash chain (the hashing apart), the audit row, the commit.

The timers cost a little (a few µs each); the mean of the whole is printed beside the same
loop run without them, in the same process, first.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import time
import uuid
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent

# (label, module, attribute, depth): what is wrapped, in the order it is printed.
STEPS = (
    ("request (client side)", None, None, 0),
    ("bearer token: verify (cached) and actor", "gateway.auth.principal", "BearerPrincipalResolver.principal", 1),
    ("GraphQL execution", "gateway.graphql_http", "GraphQLEndpoint._execute", 1),
    ("source-link checks", "resolvers.ledger.mutations", "_links_found", 2),
    ("group commit: queue and transaction", "ledger.group_commit", "GroupCommit.post", 2),
    ("entity lock (UPDATE … RETURNING)", "ledger.group_commit", "lock_entity", 3),
    ("idempotency look-up", "ledger.posting", "key_outcomes", 3),
    ("references (cached)", "ledger.posting", "resolve_refs", 3),
    ("pricing (currencies)", "ledger.posting", "price_lines", 3),
    ("ledger rules", "ledger.posting", "validate_entry", 3),
    ("inserts and chain", "ledger.posting", "write_postings", 3),
    ("hashing (chain_hash)", "ledger.posting", "chain_hash", 4),
    ("audit row", "ledger.audit", "append", 3),
    ("commit", "sqlalchemy.ext.asyncio.session", "AsyncSession.commit", 3),
    ("payload read after commit", "resolvers.ledger.mutations", "_payload", 2),
)


def _wrap(spent: collections.Counter, label: str, module_name: str, attribute: str) -> None:
    import importlib

    owner = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, name)

    if asyncio.iscoroutinefunction(original):
        @functools.wraps(original)
        async def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started
    else:
        @functools.wraps(original)
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started
    setattr(owner, name, timed)


async def run(url: str, postings: int, lines: int) -> None:
    from bench.post import SINGLE, entry
    from bench.posting import _ledger, bench_settings, pos_catalog
    from gateway.app import create_app
    from gateway.secrets import key_file_beside

    database, _, client = await _ledger(url)
    settings = bench_settings(url, key_file_beside(ROOT / "var" / "bench-post.db"))
    app = create_app(settings, db=database, sources=pos_catalog())
    spent: collections.Counter = collections.Counter()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        token = (await http.post("/oauth/token", data={"grant_type": "client_credentials",
                                                       "entity": "BENCH"}, auth=client)).json()
        headers = {"Authorization": f"Bearer {token['access_token']}",
                   "Content-Type": "application/json"}

        async def loop(count: int) -> float:
            run_id = uuid.uuid4().hex[:8]
            bodies = [orjson.dumps({"query": SINGLE, "variables": {
                "input": entry(lines, f"{run_id}-{n}"), "key": f"{run_id}-{n}"}})
                for n in range(count)]
            started = time.perf_counter()
            for body in bodies:
                answer = (await http.post("/graphql", content=body, headers=headers)).json()
                assert "errors" not in answer, answer
            return time.perf_counter() - started

        await loop(30)  # warm: plans, caches, connections
        bare = await loop(postings)
        for label, module, attribute, _ in STEPS[1:]:
            _wrap(spent, label, module, attribute)
        spent[STEPS[0][0]] = await loop(postings)
    await database.dispose()
    print(f"{postings} postings of {lines} lines, {url.split(':')[0]}; without timers "
          f"{bare / postings * 1000:.2f} ms each")
    total = spent[STEPS[0][0]]
    print("| step | ms per posting | share |\n| --- | --- | --- |")
    for label, _, _, depth in STEPS:
        value = spent[label]
        indent = "· " * depth
        print(f"| {indent}{label} | {value / postings * 1000:.3f} | {value / total:.0%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postings", type=int, default=300)
    parser.add_argument("--lines", type=int, default=2)
    parser.add_argument("--db", help="a scratch PostgreSQL database URL (default: a new SQLite file)")
    args = parser.parse_args()
    from bench.posting import scratch_url

    url = scratch_url(args.db, "bench-post-profile")
    asyncio.run(run(url, args.postings, args.lines))


if __name__ == "__main__":
    main()
