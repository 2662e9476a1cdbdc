"""Benchmarks call the gateway as real integration clients, with bearer tokens.

The bench ledgers live in `var/`; each has its secrets key beside it
(`gateway.secrets.key_file_beside`: the ledger's signing keys are sealed with it) and gets a
fresh client per run (the ledger keeps earlier runs' clients, which are harmless).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx


def bench_key_file(db: Path) -> Path:
    """The key beside the bench ledger. Made now, it cannot open signing keys an earlier run
    sealed with another key: those are dropped (bench ledgers only), and the gateway makes a
    new one on first use."""
    import sqlite3

    from gateway.secrets import key_file_beside

    existed = db.with_name(db.stem + ".secrets.key").exists()  # where key_file_beside keeps it
    key_file = key_file_beside(db)
    if not existed and db.exists():
        with sqlite3.connect(db) as con:
            if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'signing_keys'").fetchone():
                con.execute("DELETE FROM signing_keys")
    return key_file


def key_env(db: Path) -> dict[str, str]:
    """LEDGERGATE_SECRETS_KEY for a gateway process serving the bench ledger `db`."""
    from gateway.secrets import KEY_ENV, read_key_file

    key_file = bench_key_file(db)
    read_key_file(key_file)  # mode and format checked
    return {KEY_ENV: key_file.read_text().strip()}


async def add_client(db: Path, entities: list[str], scopes: str) -> tuple[str, str]:
    """Migrate `db`, then a role granting `scopes`, a user of it in each entity and a client
    allowed `scopes` acting as that user there: (client_id, secret)."""
    from gateway.auth import identities
    from ledger.migrate import upgrade
    from ledger.store import LedgerDatabase

    database = LedgerDatabase.from_url(f"sqlite:///{db}")
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
