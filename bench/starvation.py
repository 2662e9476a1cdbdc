"""One expensive request beside a small one of another company (issue 10, item 2):
`python -m bench.starvation [--scale 1] [--aliases 30]`.

Builds (once) the demo ledger at `--scale` into `var/bench-starve-<scale>.db`, starts the
gateway as `ledgergate serve` runs it (`bench.serve gateway`, port 8397), and measures, as
the demo's auditor would send them:

1. the small query `{ entity { code } }` of HOTELCO alone (median of 5): the baseline;
2. `{ a0: verifyLedger { ok } … a29: verifyLedger { ok } }` of SOFTCO, and while it runs,
   0.5 s after it was sent, the same small query of HOTELCO and a token request of
   HOTELCO. The HOTELCO actor is left out of the cache first (the wait is longer than its
   5 s lifetime), so authentication has to read the database as a new caller's would.

It prints each request's seconds, HTTP status and error codes. Everything stops by itself
(timeouts of 120 s per request).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

from bench.credentials import add_client, bearer, key_env
from bench.run import ROOT, build_db, start_server

PORT = 8397
SMALL = "{ entity { code } }"


def verify_aliases(n: int) -> str:
    return "{ " + " ".join(f"a{i}: verifyLedger {{ ok }}" for i in range(n)) + " }"


def outcome(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}, not JSON"
    codes = sorted({e.get("extensions", {}).get("code", "?") for e in body.get("errors", [])})
    return f"HTTP {response.status_code}, " + (f"errors {codes}" if codes else "no errors")


def timed_post(url: str, query: str, headers: dict) -> tuple[float, str, httpx.Response]:
    started = time.perf_counter()
    response = httpx.post(url, json={"query": query}, headers=headers, timeout=120)
    return time.perf_counter() - started, outcome(response), response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--aliases", type=int, default=30)
    args = parser.parse_args()
    db = ROOT / "var" / f"bench-starve-{args.scale:g}.db"
    seconds = build_db(db, args.scale)
    if seconds is not None:
        print(f"built {db.name} in {seconds:.0f} s", file=sys.stderr)
    import asyncio

    from gateway.auth.scopes import known_scopes

    scopes = " ".join(sorted(known_scopes([])))
    client = asyncio.run(add_client(db, ["SOFTCO", "HOTELCO"], scopes))
    server = start_server("gateway", db, PORT, "SOFTCO", env=key_env(Path(db)))
    base = f"http://127.0.0.1:{PORT}"
    url = f"{base}/graphql"
    try:
        softco = bearer(base, client, "SOFTCO")
        hotelco = bearer(base, client, "HOTELCO")
        alone = []
        for _ in range(5):
            seconds, result, _ = timed_post(url, SMALL, hotelco)
            alone.append(seconds)
        print(f"small query of HOTELCO alone: median {statistics.median(alone) * 1000:.1f} ms ({result})")
        time.sleep(6)  # past the actor cache's 5 s

        big: dict = {}

        def send_big():
            big["result"] = timed_post(url, verify_aliases(args.aliases), softco)

        thread = threading.Thread(target=send_big)
        thread.start()
        time.sleep(0.5)
        seconds, result, _ = timed_post(url, SMALL, hotelco)
        print(f"small query of HOTELCO during it: {seconds * 1000:.1f} ms ({result})")
        started = time.perf_counter()
        try:
            token = httpx.post(f"{base}/oauth/token", auth=client, timeout=120,
                               data={"grant_type": "client_credentials", "entity": "HOTELCO"})
            token_outcome = f"HTTP {token.status_code}"
        except httpx.HTTPError as error:
            token_outcome = type(error).__name__
        print(f"token request of HOTELCO during it: {(time.perf_counter() - started) * 1000:.1f} ms "
              f"({token_outcome})")
        thread.join(180)
        seconds, result, response = big["result"]
        print(f"{args.aliases} × verifyLedger of SOFTCO: {seconds:.2f} s ({result})")
        errors = response.json().get("errors") if response.headers.get("content-type", "").startswith("application/json") else None
        if errors:
            print("  first error:", errors[0].get("message"))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
