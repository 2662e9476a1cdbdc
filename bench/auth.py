"""What the security layer costs: the small query with bearer tokens and scope checks vs the
same app with authentication taken out, in one run.

    python -m bench.auth [--db var/bench-auth-1.db | --db postgresql://…] [--scale 1] [--seconds 5] [--rounds 3]

Builds (once) a demo ledger at `--scale`, migrates it to the code's head, adds a role,
an integration client and a web-services user for the busiest entity, and starts two
single-worker gateways on loopback: `gateway-open` (authentication taken out: a fixed
principal with every scope, `bench.serve.OpenPrincipal`) and `gateway` (as `ledgergate
serve` runs: RS256 token verification, the 5 s actor cache, field-scope checks). A token is fetched from the second's /oauth/token; both must
answer the small query identically. Then wrk (one thread, eight connections) alternates
between them for `--rounds` rounds; the table shows medians. The issue's bound: the
security layer may cost at most 10% (ratio ≥ 0.90).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys

import httpx
import orjson

from bench.credentials import add_client, bearer, key_env
from bench.ledgerdb import database_url, describe
from bench.run import ROOT, SMALL_QUERY, build_db, start_server, targets, wrk

DEV_PORT, OAUTH_PORT = 8393, 8394
SCOPES = "ledger:read statistical:read"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--db", help="a SQLite file path or a SQLAlchemy URL (default var/bench-auth-<scale>.db)")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    db = database_url(args.db or ROOT / "var" / f"bench-auth-{args.scale:g}.db")
    seconds = build_db(db, args.scale)
    if seconds is not None:
        print(f"built {describe(db)} in {seconds:.0f} s", file=sys.stderr)
    t = targets(db)
    client = asyncio.run(add_client(db, [t["entity"]], SCOPES))
    servers = [
        start_server("gateway-open", db, DEV_PORT, t["entity"], key_env(db)),
        start_server("gateway", db, OAUTH_PORT, t["entity"], key_env(db)),
    ]
    try:
        body = {"query": SMALL_QUERY, "variables": {"code": t["quiet"]}}
        token = bearer(f"http://127.0.0.1:{OAUTH_PORT}", client, t["entity"], SCOPES)
        dev: dict[str, str] = {}
        with httpx.Client(timeout=60) as http:
            answers = [
                http.post(f"http://127.0.0.1:{port}/graphql", json=body, headers=headers).json()
                for port, headers in ((DEV_PORT, dev), (OAUTH_PORT, token))
            ]
        assert answers[0] == answers[1] and "errors" not in answers[0], answers
        payload = orjson.dumps(body).decode()
        dev_rps, oauth_rps = [], []
        for _ in range(args.rounds):
            dev_rps.append(wrk(f"http://127.0.0.1:{DEV_PORT}/graphql", args.seconds, payload,
                               {"Content-Type": "application/json", **dev}))
            oauth_rps.append(wrk(f"http://127.0.0.1:{OAUTH_PORT}/graphql", args.seconds, payload,
                                 {"Content-Type": "application/json", **token}))
    finally:
        for process in servers:
            process.terminate()
            process.wait(timeout=10)
    on, off = statistics.median(oauth_rps), statistics.median(dev_rps)
    print(f"rounds: open {dev_rps}, oauth {oauth_rps}", file=sys.stderr)
    print("| benchmark | security on | security off | ratio |")
    print("| --- | --- | --- | --- |")
    print(f"| Small query (account + balance of {t['quiet_lines']} lines), 1 worker, wrk -c8, "
          f"median of {args.rounds} × {args.seconds} s | {on:,.0f} req/s (bearer token, scopes) | "
          f"{off:,.0f} req/s (authentication taken out) | {on / off:.2f}× "
          f"({'within' if on / off >= 0.90 else 'OVER'} the 10% bound) |")


if __name__ == "__main__":
    main()
