"""What the security layer costs: the small query with bearer tokens and scope checks vs the
development principal, in one run.

    python -m bench.auth [--db var/bench-auth-1.db] [--scale 1] [--seconds 5] [--rounds 3]

Builds (once) a demo ledger at `--scale`, migrates it to the code's head, adds a role,
an integration client and a web-services user for the busiest entity, and starts two
single-worker gateways on loopback: `gateway` (development principal, no authentication)
and `gateway-oauth` (as `ledgergate serve` runs: RS256 token verification, the 5 s actor
cache, field-scope checks). A token is fetched from the second's /oauth/token; both must
answer the small query identically. Then wrk (one thread, eight connections) alternates
between them for `--rounds` rounds; the table shows medians. The issue's bound: the
security layer may cost at most 10% (ratio ≥ 0.90).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import secrets
import statistics
import sys
import uuid
from pathlib import Path

import httpx
import orjson

from bench.run import ROOT, SMALL_QUERY, build_db, start_server, targets, wrk

DEV_PORT, OAUTH_PORT = 8393, 8394
SCOPES = "ledger:read statistical:read"


async def _prepare(db: Path, entity: str) -> tuple[str, str]:
    """Migrate, then a role, a client and a user allowed for `entity`; (client_id, secret)."""
    from gateway.auth import identities
    from ledger.migrate import upgrade
    from ledger.store import LedgerDatabase

    database = LedgerDatabase.from_url(f"sqlite:///{db}")
    try:
        await upgrade(database.engine)
        run = uuid.uuid4().hex[:8]  # each run its own names: the ledger keeps earlier runs'
        await identities.add_role(database, f"bench-reader-{run}", SCOPES)
        client, secret = await identities.add_client(database, f"bench {run}", SCOPES)
        await identities.add_user(database, entity, f"bench-{run}", f"bench-reader-{run}")
        await identities.allow(database, client.client_id, entity, f"bench-{run}")
        return client.client_id, secret
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    db = args.db or ROOT / "var" / f"bench-auth-{args.scale:g}.db"
    if not db.exists():
        seconds = build_db(db, args.scale)
        print(f"built {db} in {seconds:.0f} s", file=sys.stderr)
    t = targets(db)
    client_id, secret = asyncio.run(_prepare(db, t["entity"]))
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    servers = [
        start_server("gateway", db, DEV_PORT, t["entity"]),
        start_server("gateway-oauth", db, OAUTH_PORT, t["entity"], {"LEDGERGATE_SECRETS_KEY": key}),
    ]
    try:
        body = {"query": SMALL_QUERY, "variables": {"code": t["quiet"]}}
        with httpx.Client(timeout=60) as http:
            token = http.post(
                f"http://127.0.0.1:{OAUTH_PORT}/oauth/token",
                data={"grant_type": "client_credentials", "scope": SCOPES},
                auth=(client_id, secret),
            )
            token.raise_for_status()
            bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
            dev = {"X-Ledgergate-Entity": t["entity"]}
            answers = [
                http.post(f"http://127.0.0.1:{port}/graphql", json=body, headers=headers).json()
                for port, headers in ((DEV_PORT, dev), (OAUTH_PORT, bearer))
            ]
        assert answers[0] == answers[1] and "errors" not in answers[0], answers
        payload = orjson.dumps(body).decode()
        dev_rps, oauth_rps = [], []
        for _ in range(args.rounds):
            dev_rps.append(wrk(f"http://127.0.0.1:{DEV_PORT}/graphql", args.seconds, payload,
                               {"Content-Type": "application/json", **dev}))
            oauth_rps.append(wrk(f"http://127.0.0.1:{OAUTH_PORT}/graphql", args.seconds, payload,
                                 {"Content-Type": "application/json", **bearer}))
    finally:
        for process in servers:
            process.terminate()
            process.wait(timeout=10)
    on, off = statistics.median(oauth_rps), statistics.median(dev_rps)
    print(f"rounds: dev {dev_rps}, oauth {oauth_rps}", file=sys.stderr)
    print("| benchmark | security on | security off | ratio |")
    print("| --- | --- | --- | --- |")
    print(f"| Small query (account + balance of {t['quiet_lines']} lines), 1 worker, wrk -c8, "
          f"median of {args.rounds} × {args.seconds} s | {on:,.0f} req/s (bearer token, scopes) | "
          f"{off:,.0f} req/s (development principal) | {on / off:.2f}× "
          f"({'within' if on / off >= 0.90 else 'OVER'} the 10% bound) |")


if __name__ == "__main__":
    main()
