"""Benchmarks call the gateway as real integration clients, with bearer tokens.

A bench ledger is a SQLite file (in `var/` by default) or a database at a URL; its secrets
key (the ledger's signing keys are sealed with it) is beside the file, or in `var/` under a
hash of the URL (`bench.ledgerdb.key_file_for`). Each run adds a fresh client (the ledger
keeps earlier runs' clients, which are harmless).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from bench.ledgerdb import database_url, key_file_for


def bench_key_file(db: str | Path) -> Path:
    """The secrets key of the bench ledger `db` (a SQLite path or any URL:
    `bench.ledgerdb.key_file_for`)."""
    return key_file_for(database_url(db))


def key_env(db: str | Path) -> dict[str, str]:
    """LEDGERGATE_SECRETS_KEY for a gateway process serving the bench ledger `db`."""
    from gateway.secrets import KEY_ENV, read_key_file

    key_file = bench_key_file(db)
    read_key_file(key_file)  # mode and format checked
    return {KEY_ENV: key_file.read_text().strip()}


async def add_client(db: str | Path, entities: list[str], scopes: str) -> tuple[str, str]:
    """Migrate `db`, then a role granting `scopes`, a user of it in each entity and a client
    allowed `scopes` acting as that user there: (client_id, secret)."""
    from gateway.auth import identities
    from ledger.migrate import upgrade
    from ledger.store import LedgerDatabase

    database = LedgerDatabase.from_url(database_url(db))
    try:
        await upgrade(database.engine)
        run = uuid.uuid4().hex[:8]  # each run its own names
        await identities.add_role(database, f"bench-{run}", scopes)
        client, secret = await identities.add_client(database, f"bench {run}", scopes)
        for entity in entities:
            await identities.add_user(database, entity, f"bench-{run}", f"bench-{run}")
            await identities.allow(database, client.client_id, entity, f"bench-{run}")
        return client.client_id, secret
    finally:
        await database.dispose()


def bearer(base_url: str, client: tuple[str, str], entity: str, scope: str | None = None) -> dict[str, str]:
    """The Authorization header of a token from `base_url`/oauth/token."""
    form = {"grant_type": "client_credentials", "entity": entity}
    if scope:
        form["scope"] = scope
    response = httpx.post(f"{base_url}/oauth/token", data=form, auth=client, timeout=60)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
