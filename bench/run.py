"""ledgergate benchmarks, each against a baseline measured in the same run.

    python -m bench.run [--scale 60] [--db var/bench-60.db | --db postgresql://…]
                        [--seconds 5] [--rounds 3] [--repeat 7]

Builds the demo ledger at `--scale` once (a SQLite file in var/, or the database at a URL
when it has no entity yet: `bench.ledgerdb`), starts ledgergate and a hand-written
Starlette baseline as separate single-worker uvicorn processes on loopback, all on that one
database, and prints a Markdown table:

- trial balance by account × department over the busiest company's whole year (past a
  million lines at the default scale): GraphQL over HTTP vs the same SQL statement run
  directly on the same database, through a SQLAlchemy Core connection on the driver the
  gateway uses (aiosqlite, asyncpg);
- a big page (10,000 journal lines × 8 scalar fields) over HTTP vs the baseline endpoint
  returning byte-for-byte equivalent JSON (checked);
- small-query throughput (one quiet account with its balance) with wrk, vs the baseline;
- SQL statements per request for entries → lines → account at 10, 100 and 1,000 entries.

The first three are measured twice in the same run, against a second gateway process with
`[execution] compiled = false` (graphql-core's path only), so the compiled path's gain shows.
Every timing is interleaved: each round times the baseline and both gateways once, in turn
(wrk: `--rounds` rounds of `--seconds` each), and the table shows medians, so drift in the
machine's load hits all sides alike. Each timed HTTP call does the same client work on every
side: read the body and parse it with orjson. Needs `wrk` (Debian package `wrk`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

from bench.credentials import add_client, bearer, bench_key_file, key_env
from bench.ledgerdb import ROOT, database_url, describe, ensure_demo

GATEWAY_PORT, BASELINE_PORT, PLAIN_PORT = 8391, 8392, 8393

TB_QUERY = """query TB($from: Date!, $to: Date!) {
  trialBalance(from: $from, to: $to, groupBy: [DEPARTMENT]) {
    totalDebit totalCredit
    rows { account { code } dimensions { code } debit credit net quantity } } }"""

PAGE_QUERY = """query Page($code: String!, $first: Int!) {
  account(code: $code) { lines(first: $first) { edges { cursor node {
    id lineNo date debit credit currency quantity memo } } pageInfo { hasNextPage endCursor } } } }"""

SMALL_QUERY = "query Small($code: String!) { account(code: $code) { code name balance } }"

NESTED_QUERY = """query Nested($first: Int!) { journalEntries(first: $first) { edges { node {
  number lines { debit credit account { code name } } } } } }"""


def build_db(db: str | Path, scale: float) -> float | None:
    """Build the demo ledger at `scale` into `db` (a SQLite path or a URL) unless it has one;
    the seconds taken, or None."""
    return asyncio.run(ensure_demo(database_url(db), scale))


TARGETS_SQL = {
    "entity": "SELECT e.id, e.code, count(*) FROM journal_lines l JOIN entities e ON e.id = l.entity_id "
              "GROUP BY e.id, e.code ORDER BY count(*) DESC LIMIT 1",
    "busiest": "SELECT a.code, count(*) FROM journal_lines l JOIN accounts a ON a.id = l.account_id "
               "WHERE l.entity_id = :e GROUP BY a.code ORDER BY count(*) DESC, a.code LIMIT 1",
    # The small query measures per-request cost, so its balance sums the quietest account.
    "quiet": "SELECT a.code, count(*) FROM journal_lines l JOIN accounts a ON a.id = l.account_id "
             "WHERE l.entity_id = :e GROUP BY a.code ORDER BY count(*), a.code LIMIT 1",
    "days": "SELECT min(date), max(date) FROM journal_lines WHERE entity_id = :e",
    "total": "SELECT count(*) FROM journal_lines",
}


def targets(db: str | Path) -> dict:
    """The entity with most lines, its busiest and quietest accounts, the date range."""
    from sqlalchemy import text

    from ledger.store import create_engine

    async def read() -> dict:
        engine = create_engine(database_url(db))
        try:
            async with engine.connect() as con:
                async def one(name, **params):
                    return (await con.execute(text(TARGETS_SQL[name]), params)).one()

                entity_id, code, lines = await one("entity")
                busiest, busiest_lines = await one("busiest", e=entity_id)
                quiet, quiet_lines = await one("quiet", e=entity_id)
                first_day, last_day = await one("days", e=entity_id)
                (total,) = await one("total")
        finally:
            await engine.dispose()
        return dict(entity_id=entity_id, entity=code, entity_lines=lines, busiest=busiest,
                    busiest_lines=busiest_lines, quiet=quiet, quiet_lines=quiet_lines,
                    first_day=str(first_day), last_day=str(last_day), total_lines=total)

    return asyncio.run(read())


def tb_statement(t: dict):
    """ledgergate's own trial-balance statement, with the entity filter the session adds."""
    import datetime as dt

    from ledger.model import Account, JournalLine
    from ledger.reports import trial_balance_statement

    return trial_balance_statement(
        dt.date.fromisoformat(t["first_day"]), dt.date.fromisoformat(t["last_day"]), ["DEPARTMENT"]
    ).where(JournalLine.entity_id == t["entity_id"], Account.entity_id == t["entity_id"])


class DirectSQL:
    """The baseline of the trial balance: one statement run directly on the bench database
    through a SQLAlchemy Core connection (the gateway's own driver: aiosqlite or asyncpg),
    rows fetched, nothing else. Its own event loop and engine, kept for the whole run."""

    def __init__(self, url: str, statement):
        from ledger.store import create_engine

        self.runner = asyncio.Runner()
        self.engine = create_engine(url)
        self.statement = statement

    def rows(self) -> list:
        async def fetch():
            async with self.engine.connect() as con:
                return (await con.execute(self.statement)).all()

        return self.runner.run(fetch())

    def close(self) -> None:
        self.runner.run(self.engine.dispose())
        self.runner.close()


def interleaved(work: dict[str, Callable[[], object]], repeat: int, warmup: int = 2) -> dict[str, float]:
    """Median seconds of each of `work`'s calls, timed in turn (A, B, C, A, B, C, …) after
    `warmup` untimed rounds, so drift in the machine's load hits every side alike."""
    for _ in range(warmup):
        for fn in work.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in work}
    for _ in range(repeat):
        for name, fn in work.items():
            started = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def wait_for_free_port(port: int, seconds: float = 600) -> None:
    """Other runs use the same fixed ports: wait until nobody listens on `port`, or a
    stranger's server would be measured."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"port {port} stayed busy for {seconds:.0f} s")
        print(f"port {port} is busy; waiting", file=sys.stderr)
        time.sleep(5)


def start_server(
    kind: str, db: str | Path, port: int, entity: str, env: dict[str, str] | None = None,
    workers: int = 1,
) -> subprocess.Popen:
    wait_for_free_port(port)
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.serve", kind, str(db), str(port), entity,
         "--workers", str(workers)], cwd=ROOT, env={**os.environ, **(env or {})},
    )
    return listening(process, port, f"{kind} server")


def listening(process: subprocess.Popen, port: int, what: str, seconds: float = 30) -> subprocess.Popen:
    """`process` once something listens on `port`; killed, and the run stopped, if nothing
    does within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{what} did not start on port {port}")


def wrk(url: str, seconds: int, body: str | None = None, headers: dict | None = None,
        connections: int = 8) -> float:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed for the throughput figure: apt-get install wrk")
    lines = []
    if body is not None:
        lines += ['wrk.method = "POST"', f"wrk.body = {orjson.dumps(body).decode()}"]
    for name, value in (headers or {}).items():
        lines.append(f'wrk.headers["{name}"] = "{value}"')
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", script.name, url],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout
    Path(script.name).unlink()
    # A refused request (401, 429, 503) is answered fast: counted, it would inflate the rate;
    # one timed out (wrk's default is 2 s) would not be counted at all.
    refused = [line for line in out.splitlines() if "Non-2xx" in line or "Socket errors" in line]
    if refused:
        raise SystemExit(f"{url}: {refused[0].strip()}: the figure would count refusals\n{out}")
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise SystemExit(f"could not read wrk's output:\n{out}")


def statements_per_request(db: str | Path, entity: str, client: tuple[str, str]) -> dict[int, list[int]]:
    """SQL statements of one `journalEntries(first: N) { lines { account } }` request, at
    N = 10, 100, 1,000, counted twice each.

    Only the statements of the GraphQL execution are counted, and the count is the same
    whatever the timing. An earlier version counted on every engine the database had and
    reported 3 / 3 / 4 "GROWS" when run under load: the fourth statement was the
    authentication's actor look-up (`identities.actor`), cached for 5 s per (client,
    entity) by `BearerPrincipalResolver`; the 1,000-entry request came more than 5 s after
    the warm-up that had filled the cache, so it looked the actor up again. The signing-key
    ring (reloaded every 30 s) and a new token's issuance would add statements the same way.
    None of those belong to the query's cost, and none depend on N. So:

    - the listener is on the engine GraphQL execution uses (`app.state.db`), not on the
      authentication's own pool (`app.state.auth_db`, `LedgerDatabase.with_own_pool`), which
      is checked to be another engine: were they merged again, this would fail, not drift;
    - a warm-up request of the same query (not counted) opens the pool's first connection
      and fills the parser, validation and plan caches (the dialect's first-connect queries
      and a pool pre-ping, were one configured, run on the raw DBAPI connection and are not
      seen by the listener either way);
    - the query reads no audited field, so no audit row is written with the response.
    """
    from sqlalchemy import event

    from gateway.app import create_app
    from gateway.config import Settings

    async def run() -> dict[int, list[int]]:
        app = create_app(Settings(database_url=database_url(db), graphiql=False,
                                  secrets_key_file=bench_key_file(db)))
        engine, auth_engine = app.state.db.engine, app.state.auth_db.engine
        assert engine is not auth_engine, "authentication's statements would be counted"
        seen: list[str] = []
        counts: dict[int, list[int]] = {10: [], 100: [], 1000: []}
        async with app.router.lifespan_context(app), \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as c:
            form = {"grant_type": "client_credentials", "entity": entity}
            token = await c.post("/oauth/token", data=form, auth=client)
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

            async def ask(n: int) -> None:
                r = await c.post("/graphql", json={"query": NESTED_QUERY, "variables": {"first": n}},
                                 headers=headers)
                assert len(orjson.loads(r.content)["data"]["journalEntries"]["edges"]) == n

            await ask(10)  # warm-up, not counted
            event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
            for _ in range(2):
                for n in counts:
                    seen.clear()
                    await ask(n)
                    counts[n].append(len(seen))
        return counts

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=60.0, help="60: one company past 1M lines")
    parser.add_argument("--db", help="a SQLite file path or a SQLAlchemy URL (default var/bench-<scale>.db)")
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per throughput run")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per server, interleaved")
    parser.add_argument("--repeat", type=int, default=7, help="timed requests per latency figure")
    args = parser.parse_args()
    db = database_url(args.db or ROOT / "var" / f"bench-{args.scale:g}.db")
    build_seconds = build_db(db, args.scale)
    t = targets(db)
    print(f"ledger: {describe(db)}: {t['total_lines']:,} journal lines; {t['entity']} has "
          f"{t['entity_lines']:,}; account {t['busiest']} has {t['busiest_lines']:,}"
          + (f"; built in {build_seconds:.0f} s" if build_seconds else ""), file=sys.stderr)
    dialect = db.split(":", 1)[0].split("+")[0]

    rows = []
    client = asyncio.run(add_client(db, [t["entity"]], "ledger:read statistical:read"))
    servers: list[subprocess.Popen] = []
    direct = DirectSQL(db, tb_statement(t))
    try:
        servers.append(start_server("gateway", db, GATEWAY_PORT, t["entity"], key_env(db)))
        servers.append(start_server("gateway-plain", db, PLAIN_PORT, t["entity"], key_env(db)))
        servers.append(start_server("baseline", db, BASELINE_PORT, t["entity"]))
        gateways = {"compiled": GATEWAY_PORT, "plain": PLAIN_PORT}
        base_url = f"http://127.0.0.1:{BASELINE_PORT}"
        # Both gateways share the ledger's signing keys: one token serves both.
        headers = bearer(f"http://127.0.0.1:{GATEWAY_PORT}", client, t["entity"])
        label = {"compiled": "compiled path on", "plain": "compiled path off"}
        tb_vars = {"from": t["first_day"], "to": t["last_day"]}
        first = min(10_000, t["busiest_lines"])
        page_vars = {"code": t["busiest"], "first": first}
        page_base = f"{base_url}/lines?code={t['busiest']}&first={first}"
        small_vars = {"code": t["quiet"]}
        small_base = f"{base_url}/account?code={t['quiet']}"
        with httpx.Client(timeout=120) as http:
            # Every timed call, gateway or baseline, reads the body and parses it with orjson:
            # the same client work on each side (the gateway's answers are also checked for
            # errors, a dictionary look-up).
            def post(port, query, variables):
                r = http.post(f"http://127.0.0.1:{port}/graphql", json={"query": query, "variables": variables},
                              headers=headers)
                r.raise_for_status()
                body = orjson.loads(r.content)
                assert "errors" not in body, body["errors"]
                return body

            def get(url):
                r = http.get(url)
                r.raise_for_status()
                return orjson.loads(r.content)

            # The gateway's rows are the statement's, plus retained earnings' and STOCK
            # levels' where the entity has them, less rows with nothing in them: every
            # account the statement found amounts for must be among its rows.
            sql_codes = {r[3] for r in direct.rows() if any(r[4:])}
            for port in gateways.values():
                tb_rows = post(port, TB_QUERY, tb_vars)["data"]["trialBalance"]["rows"]
                missing = sql_codes - {r["account"]["code"] for r in tb_rows}
                assert sql_codes and not missing, f"accounts missing from the trial balance: {missing}"
            tb = interleaved({"sql": direct.rows, **{
                name: (lambda port=port: post(port, TB_QUERY, tb_vars)) for name, port in gateways.items()
            }}, args.repeat)
            for name in gateways:
                rows.append((f"Trial balance, account × department, {t['entity_lines']:,} lines "
                             f"({len(tb_rows)} rows), {label[name]}",
                             f"{tb[name] * 1000:.0f} ms", f"{tb['sql'] * 1000:.0f} ms ({dialect}, same SQL, direct)",
                             f"{tb[name] / tb['sql']:.2f}×"))

            base_page = get(page_base)
            for port in gateways.values():
                assert post(port, PAGE_QUERY, page_vars) == base_page, "baseline JSON differs"
            compiled_bytes, plain_bytes = (
                http.post(f"http://127.0.0.1:{port}/graphql", headers=headers,
                          json={"query": PAGE_QUERY, "variables": page_vars}).content
                for port in gateways.values())
            assert compiled_bytes == plain_bytes, "the compiled path's bytes differ"
            page = interleaved({"baseline": lambda: get(page_base), **{
                name: (lambda port=port: post(port, PAGE_QUERY, page_vars)) for name, port in gateways.items()
            }}, args.repeat)
            for name in gateways:
                rows.append((f"Big page, {first:,} lines × 8 fields, {label[name]}", f"{page[name] * 1000:.1f} ms",
                             f"{page['baseline'] * 1000:.1f} ms (Starlette + orjson)",
                             f"{page[name] / page['baseline']:.2f}×"))

            for port in gateways.values():
                assert post(port, SMALL_QUERY, small_vars) == get(small_base), "baseline JSON differs"
        small_body = orjson.dumps({"query": SMALL_QUERY, "variables": small_vars}).decode()
        gql_headers = {"Content-Type": "application/json", **headers}
        rps: dict[str, list[float]] = {"baseline": [], **{name: [] for name in gateways}}
        for _ in range(args.rounds):  # interleaved: one short run of each per round
            for name, port in gateways.items():
                rps[name].append(wrk(f"http://127.0.0.1:{port}/graphql", args.seconds, small_body, gql_headers))
            rps["baseline"].append(wrk(small_base, args.seconds))
        print("small query rounds (req/s): " + "; ".join(
            f"{name} " + " ".join(f"{v:,.0f}" for v in values) for name, values in rps.items()), file=sys.stderr)
        base_rps = statistics.median(rps["baseline"])
        for name in gateways:
            gql_rps = statistics.median(rps[name])
            rows.append((f"Small query (account + balance of {t['quiet_lines']} lines), 1 worker, wrk -c8, "
                         f"median of {args.rounds} × {args.seconds} s, {label[name]}", f"{gql_rps:,.0f} req/s",
                         f"{base_rps:,.0f} req/s", f"{gql_rps / base_rps:.2f}× of baseline"))
    finally:
        direct.close()
        for process in servers:
            process.terminate()
            process.wait(timeout=10)

    counts = statements_per_request(db, t["entity"], client)
    rows.append(("SQL statements, entries → lines → account at 10 / 100 / 1,000 entries (twice each)",
                 " / ".join("+".join(map(str, counts[n])) if len(set(counts[n])) > 1 else str(counts[n][0])
                            for n in (10, 100, 1000)), "—",
                 "constant" if len({c for v in counts.values() for c in v}) == 1 else "GROWS"))

    print(f"{describe(db)}, scale {args.scale:g}:")
    print("| benchmark | ledgergate | baseline | ratio |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
