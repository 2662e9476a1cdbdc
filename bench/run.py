"""ledgergate benchmarks, each against a baseline measured in the same run.

    python -m bench.run [--scale 60] [--db var/bench-60.db] [--seconds 5]

Builds the demo ledger at `--scale` once (kept in var/), starts ledgergate and a
hand-written Starlette baseline as separate single-worker uvicorn processes on loopback,
and prints a Markdown table:

- trial balance by account × department over the busiest company's whole year (past a
  million lines at the default scale): GraphQL over HTTP vs the same SQL run directly with
  sqlite3;
- a big page (10,000 journal lines × 8 scalar fields) over HTTP vs the baseline endpoint
  returning byte-for-byte equivalent JSON (checked);
- small-query throughput (one quiet account with its balance) with wrk, vs the baseline;
- SQL statements per request for entries → lines → account at 10, 100 and 1,000 entries.

The first three are measured twice in the same run, against a second gateway process with
`[execution] compiled = false` (graphql-core's path only), so the compiled path's gain shows.
Needs `wrk` (Debian package `wrk`) for the throughput figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from bench.credentials import add_client, bearer, bench_key_file, key_env

ROOT = Path(__file__).resolve().parent.parent
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


def build_db(path: Path, scale: float) -> float:
    from tqdm import tqdm

    from gateway.demo.world import build_demo
    from ledger.migrate import upgrade
    from ledger.store import LedgerDatabase

    async def build() -> None:
        db = LedgerDatabase.from_url(f"sqlite:///{path}")
        await upgrade(db.engine)
        with tqdm(desc=f"building scale {scale}", unit=" lines", file=sys.stderr) as bar:
            await build_demo(db, scale=scale, progress=bar.update)
        await db.dispose()

    started = time.perf_counter()
    asyncio.run(build())
    return time.perf_counter() - started


def targets(path: Path) -> dict:
    """The entity with most lines, its busiest and quietest accounts, the date range."""
    con = sqlite3.connect(path)
    entity_id, code, lines = con.execute(
        "SELECT e.id, e.code, count(*) FROM journal_lines l JOIN entities e ON e.id = l.entity_id "
        "GROUP BY e.id ORDER BY count(*) DESC LIMIT 1").fetchone()
    busiest, busiest_lines = con.execute(
        "SELECT a.code, count(*) FROM journal_lines l JOIN accounts a ON a.id = l.account_id "
        "WHERE l.entity_id = ? GROUP BY a.code ORDER BY count(*) DESC LIMIT 1", (entity_id,)).fetchone()
    # The small query measures per-request cost, so its balance sums the quietest account.
    quiet, quiet_lines = con.execute(
        "SELECT a.code, count(*) FROM journal_lines l JOIN accounts a ON a.id = l.account_id "
        "WHERE l.entity_id = ? GROUP BY a.code ORDER BY count(*), a.code LIMIT 1", (entity_id,)).fetchone()
    first_day, last_day = con.execute(
        "SELECT min(date), max(date) FROM journal_lines WHERE entity_id = ?", (entity_id,)).fetchone()
    total = con.execute("SELECT count(*) FROM journal_lines").fetchone()[0]
    con.close()
    return dict(entity_id=entity_id, entity=code, entity_lines=lines, busiest=busiest,
                busiest_lines=busiest_lines, quiet=quiet, quiet_lines=quiet_lines, first_day=first_day,
                last_day=last_day, total_lines=total)


def tb_sql(t: dict) -> str:
    """ledgergate's own trial-balance statement, with the entity filter the session adds."""
    import datetime as dt

    from sqlalchemy.dialects import sqlite

    from ledger.model import Account, JournalLine
    from ledger.reports import trial_balance_statement

    stmt = trial_balance_statement(
        dt.date.fromisoformat(t["first_day"]), dt.date.fromisoformat(t["last_day"]), ["DEPARTMENT"]
    ).where(JournalLine.entity_id == t["entity_id"], Account.entity_id == t["entity_id"])
    return str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


def timed(fn, repeat: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


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
    kind: str, db: Path, port: int, entity: str, env: dict[str, str] | None = None
) -> subprocess.Popen:
    wait_for_free_port(port)
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.serve", kind, str(db), str(port), entity], cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{kind} server did not start on port {port}")


def wrk(url: str, seconds: int, body: str | None = None, headers: dict | None = None) -> float:
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
        ["wrk", "-t1", "-c8", f"-d{seconds}s", "-s", script.name, url],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
    ).stdout
    Path(script.name).unlink()
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise SystemExit(f"could not read wrk's output:\n{out}")


def statements_per_request(db_path: Path, entity: str, client: tuple[str, str]) -> dict[int, int]:
    from sqlalchemy import event

    from gateway.app import create_app
    from gateway.config import Settings
    from ledger.store import LedgerDatabase

    async def run() -> dict[int, int]:
        db = LedgerDatabase.from_url(f"sqlite:///{db_path}")
        seen = []
        event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *a: seen.append(1))
        app = create_app(Settings(graphiql=False, secrets_key_file=bench_key_file(db_path)), db=db)
        counts = {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as c:
            form = {"grant_type": "client_credentials", "entity": entity}
            token = await c.post("/oauth/token", data=form, auth=client)
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            # The actor look-up is cached from here on (5 s): not counted below.
            await c.post("/graphql", json={"query": "{ entity { code } }"}, headers=headers)
            for n in (10, 100, 1000):
                seen.clear()
                r = await c.post("/graphql", json={"query": NESTED_QUERY, "variables": {"first": n}}, headers=headers)
                assert len(r.json()["data"]["journalEntries"]["edges"]) == n
                counts[n] = len(seen)
        await db.dispose()
        return counts

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=60.0, help="60: one company past 1M lines")
    parser.add_argument("--db", type=Path)
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per throughput run")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    db = args.db or ROOT / "var" / f"bench-{args.scale:g}.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    build_seconds = None
    if not db.exists():
        tmp = db.with_name(db.name + ".building")
        tmp.unlink(missing_ok=True)
        build_seconds = build_db(tmp, args.scale)
        tmp.replace(db)
    t = targets(db)
    print(f"ledger: {t['total_lines']:,} journal lines; {t['entity']} has {t['entity_lines']:,}; "
          f"account {t['busiest']} has {t['busiest_lines']:,}"
          + (f"; built in {build_seconds:.0f} s" if build_seconds else ""), file=sys.stderr)

    rows = []
    sql = tb_sql(t)
    con = sqlite3.connect(db)
    sql_rows = con.execute(sql).fetchall()
    sql_time = timed(lambda: con.execute(sql).fetchall(), args.repeat)
    con.close()

    client = asyncio.run(add_client(db, [t["entity"]], "ledger:read statistical:read"))
    servers: list[subprocess.Popen] = []
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
            def post(port, query, variables):
                r = http.post(f"http://127.0.0.1:{port}/graphql", json={"query": query, "variables": variables},
                              headers=headers)
                r.raise_for_status()
                body = r.json()
                assert "errors" not in body, body["errors"]
                return r

            bodies = {}
            for name, port in gateways.items():
                tb_rows = post(port, TB_QUERY, tb_vars).json()["data"]["trialBalance"]["rows"]
                assert len(tb_rows) == len(sql_rows), (len(tb_rows), len(sql_rows))
                tb_time = timed(lambda port=port: post(port, TB_QUERY, tb_vars), args.repeat)
                rows.append((f"Trial balance, account × department, {t['entity_lines']:,} lines "
                             f"({len(tb_rows)} rows), {label[name]}",
                             f"{tb_time * 1000:.0f} ms", f"{sql_time * 1000:.0f} ms (sqlite3, same SQL)",
                             f"{tb_time / sql_time:.2f}×"))
            base_page = http.get(page_base).content
            for name, port in gateways.items():
                bodies[name] = post(port, PAGE_QUERY, page_vars).content
                assert orjson.loads(bodies[name]) == orjson.loads(base_page), "baseline JSON differs"
                page_time = timed(lambda port=port: post(port, PAGE_QUERY, page_vars), args.repeat)
                base_time = timed(lambda: http.get(page_base).raise_for_status(), args.repeat)
                rows.append((f"Big page, {first:,} lines × 8 fields, {label[name]}", f"{page_time * 1000:.1f} ms",
                             f"{base_time * 1000:.1f} ms (Starlette + orjson)", f"{page_time / base_time:.2f}×"))
            assert bodies["compiled"] == bodies["plain"], "the compiled path's bytes differ"
            for port in gateways.values():
                assert orjson.loads(post(port, SMALL_QUERY, small_vars).content) == http.get(small_base).json(), \
                    "baseline JSON differs"
        small_body = orjson.dumps({"query": SMALL_QUERY, "variables": small_vars}).decode()
        for name, port in gateways.items():
            gql_rps = wrk(f"http://127.0.0.1:{port}/graphql", args.seconds, small_body,
                          {"Content-Type": "application/json", **headers})
            base_rps = wrk(small_base, args.seconds)
            rows.append((f"Small query (account + balance of {t['quiet_lines']} lines), 1 worker, wrk -c8, "
                         f"{label[name]}", f"{gql_rps:,.0f} req/s", f"{base_rps:,.0f} req/s",
                         f"{gql_rps / base_rps:.2f}× of baseline"))
    finally:
        for process in servers:
            process.terminate()
            process.wait(timeout=10)

    counts = statements_per_request(db, t["entity"], client)
    rows.append(("SQL statements, entries → lines → account at 10 / 100 / 1,000 entries",
                 " / ".join(str(counts[n]) for n in (10, 100, 1000)), "—",
                 "constant" if len(set(counts.values())) == 1 else "GROWS"))

    print("| benchmark | ledgergate | baseline | ratio |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
