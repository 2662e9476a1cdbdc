"""GraphQL over HTTP as the specification says (https://graphql.github.io/graphql-over-http/):
graphql-http's own conformance audit (`auditServer`, installed by `npm ci --prefix
tests/federation`) against a live gateway on loopback, every check passing; and the
`application/graphql-response+json` status codes, each through the app."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from sources.demo.services.serve import serving

AUDIT = Path(__file__).parent.parent / "federation" / "audit_http.mjs"
RESPONSE = "application/graphql-response+json"


async def run_audit(url: str, token: str) -> dict:
    node = shutil.which("node")
    assert node, "Node.js is needed for the graphql-http audit"
    assert (AUDIT.parent / "node_modules" / "graphql-http").is_dir(), (
        "run `npm ci --prefix tests/federation` first (the README's test command does)"
    )
    # Asynchronous: the server under audit runs in this event loop.
    process = await asyncio.create_subprocess_exec(
        node, str(AUDIT), url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "LEDGERGATE_TOKEN": token},
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert out, err.decode()
    return json.loads(out)


async def test_every_graphql_http_audit_check_passes_against_a_live_gateway(gql, http):
    app = http._transport.app
    token = await gql.token("ACME")
    async with serving(app, host="127.0.0.1", lifespan="off") as url:
        audit = await run_audit(f"{url}/graphql", token)
    failed = [r for r in audit["results"] if r["status"] != "ok"]
    print("graphql-http audit:", audit["counts"])
    assert failed == [], json.dumps(failed, indent=1)
    assert audit["counts"]["ok"] == len(audit["results"]) >= 50
