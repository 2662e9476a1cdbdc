"""What one small query costs the gateway's process, against the baseline's, in CPU.

    python -m bench.small_profile [--db var/bench-1.db | --db postgresql://…] [--rounds 15]
                                  [--requests 150] [--plain] [--profile]

`bench.run`'s small query (`account(code) { code name balance }` on the quietest account)
through the gateway's ASGI app and `bench.baseline`'s, both in this process (no socket, no
HTTP client: ASGI messages straight to the app), in turns: each round sends `--requests`
requests to one app, then to the other. It prints the lowest of the rounds' CPU seconds
per request (the event loop's thread, and the whole process, the database driver's threads
included) for each and their ratio. On a shared machine the lowest round is the one the
other tenants disturbed least: it moves far less from run to run than wrk's rate, which
the load on the second core sways (`bench.run` remains the figure of record). wrk with one
worker is bound by the worker's CPU, so the ratio tracks `bench.run`'s.

`--plain`: the gateway with `[execution] compiled = false`. `--profile`: then a
pyinstrument profile of `--requests` × 10 gateway requests (`Profiler(async_mode="enabled")`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import orjson

from bench.credentials import add_client, key_env
from bench.ledgerdb import ROOT, database_url
from bench.run import SMALL_QUERY, build_db, targets


def _caller(app, method: str, path: str, query: bytes = b"", headers=(), body: bytes = b""):
    """An ASGI request to `app`, answered 200 or raising."""
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
             "query_string": query, "headers": list(headers), "client": ("127.0.0.1", 1),
             "server": ("bench", 80), "scheme": "http", "http_version": "1.1", "root_path": "",
             "app": app}

    async def call() -> None:
        sent = False

        async def receive():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client never disconnects

        started: list[dict] = []

        async def send(message):
            if message["type"] == "http.response.start":
                started.append(message)

        await app(dict(scope), receive, send)
        assert started[0]["status"] == 200, started

    return call


async def run(db: str, t: dict, rounds: int, requests: int, plain: bool, profile: bool) -> None:
    from bench.baseline import create_baseline_app
    from bench.serve import build_app

    os.environ.update(key_env(db))
    gateway = build_app("gateway-plain" if plain else "gateway", db, t["entity"])
    baseline = create_baseline_app(db, t["entity"])
    client_id, secret = await add_client(db, [t["entity"]], "ledger:read statistical:read")
    async with gateway.router.lifespan_context(gateway), baseline.router.lifespan_context(baseline):
        import httpx

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://b") as http:
            token = (await http.post("/oauth/token", auth=(client_id, secret), data={
                "grant_type": "client_credentials", "entity": t["entity"]})).json()["access_token"]
            body = orjson.dumps({"query": SMALL_QUERY, "variables": {"code": t["quiet"]}})
            answer = (await http.post("/graphql", content=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})).json()
            assert "errors" not in answer, answer
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=baseline), base_url="http://b") as http:
            assert (await http.get(f"/account?code={t['quiet']}")).json() == answer, "baseline JSON differs"
        sides = {
            "gateway": _caller(gateway, "POST", "/graphql", headers=[
                (b"content-type", b"application/json"), (b"authorization", f"Bearer {token}".encode()),
                (b"content-length", str(len(body)).encode())], body=body),
            "baseline": _caller(baseline, "GET", "/account", query=f"code={t['quiet']}".encode()),
        }
        for call in sides.values():  # warm: pools, caches, plans
            for _ in range(50):
                await call()
        thread: dict[str, list[float]] = {name: [] for name in sides}
        process: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(rounds):
            for name, call in sides.items():
                cpu, own = time.process_time(), time.thread_time()
                for _ in range(requests):
                    await call()
                thread[name].append((time.thread_time() - own) / requests)
                process[name].append((time.process_time() - cpu) / requests)
        g, b = min(thread["gateway"]), min(thread["baseline"])
        gp, bp = min(process["gateway"]), min(process["baseline"])
        print(f"small query, {'compiled path off' if plain else 'compiled path on'}, lowest of {rounds} "
              f"rounds × {requests}: event-loop thread {g * 1e6:.0f} vs {b * 1e6:.0f} µs CPU a request "
              f"(baseline ÷ gateway {b / g:.2f}); process {gp * 1e6:.0f} vs {bp * 1e6:.0f} µs ({bp / gp:.2f})")
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="enabled")
            profiler.start()
            for _ in range(requests * 10):
                await sides["gateway"]()
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=str(ROOT / "var" / "bench-1.db"),
                        help="a SQLite file path or a SQLAlchemy URL (default var/bench-1.db, built at scale 1)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=150, help="requests per side per round")
    parser.add_argument("--plain", action="store_true", help="the gateway with the compiled path off")
    parser.add_argument("--profile", action="store_true", help="then a pyinstrument profile of the gateway")
    args = parser.parse_args()
    db = database_url(args.db)
    build_db(db, 1)  # only when the ledger has no entity yet
    asyncio.run(run(db, targets(db), args.rounds, args.requests, args.plain, args.profile))


if __name__ == "__main__":
    main()
