"""How the tests call the real app: as a real integration client, with bearer tokens.

There is no unauthenticated mode, so every test that sends GraphQL does it as an OAuth
client: `provision_tester` creates a role granting every scope there is (for the given
source systems), a client allowed all of them, and in every entity of the database a user
`tester` of that role on the client's allow-list. `GraphQLClient` fetches one token per
entity from the app's own `/oauth/token` (client credentials) and sends it.

The test client's secret is hashed at a low scrypt cost (`secret_hash.N` patched while it
is created): the cost is stored with each hash and verification follows it, so the real
code paths run, at a fraction of a millisecond instead of ~40 ms a hash.
"""

from __future__ import annotations

import os
import tempfile
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import httpx

from gateway.auth import identities, secret_hash
from gateway.auth.scopes import format_scope, known_scopes
from gateway.secrets import write_key_file
from ledger.reference import entity_codes
from ledger.store import LedgerDatabase

TESTER = "tester"
TEST_SCRYPT_N = 2**4

_key_dir: Path | None = None


def key_file_for_tests() -> Path:
    """A secrets key file (mode 0600) for the tests' apps, made once per test run."""
    global _key_dir
    if _key_dir is None:
        _key_dir = Path(tempfile.mkdtemp(prefix="ledgergate-test-key-"))
        write_key_file(_key_dir / "secrets.key")
    path = _key_dir / "secrets.key"
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    return path


@dataclass
class Party:
    """An integration client's credentials."""

    client_id: str
    secret: str


async def cheap_client(db: LedgerDatabase, name: str, scopes: str) -> Party:
    """`identities.add_client` with the secret hashed at the tests' low scrypt cost."""
    with mock.patch.object(secret_hash, "N", TEST_SCRYPT_N):
        info, secret = await identities.add_client(db, name, scopes)
    return Party(info.client_id, secret)


_provisioned: weakref.WeakKeyDictionary[LedgerDatabase, dict[frozenset[str], Party]] = (
    weakref.WeakKeyDictionary()
)


async def provision_tester(db: LedgerDatabase, systems: Iterable[str] = ()) -> Party:
    """Every scope there is (given the source systems), for a client acting as a user of a
    role granting them all, in every entity. Asked again for the same database and systems,
    the same client (a test may build several apps on one ledger)."""
    systems = frozenset(systems)
    done = _provisioned.setdefault(db, {})
    if systems in done:
        return done[systems]
    name = TESTER if not done else f"{TESTER}-{len(done)}"
    scopes = format_scope(known_scopes(sorted(systems)))
    await identities.add_role(db, name, scopes)
    party = await cheap_client(db, f"Test client {name}", scopes)
    for code in await entity_codes(db):
        await identities.add_user(db, code, name, name)
        await identities.allow(db, party.client_id, code, name)
    done[systems] = party
    return party


async def fetch_token(http: httpx.AsyncClient, party: Party, entity: str, scope: str | None = None) -> str:
    form = {"grant_type": "client_credentials", "entity": entity}
    if scope is not None:
        form["scope"] = scope
    response = await http.post("/oauth/token", data=form, auth=(party.client_id, party.secret))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@dataclass
class GraphQLClient:
    """Talks to the real Starlette app over ASGI as `party`, for a given entity."""

    http: httpx.AsyncClient
    party: Party
    _tokens: dict[str, str] = field(default_factory=dict)

    async def token(self, entity: str = "ACME") -> str:
        if entity not in self._tokens:
            self._tokens[entity] = await fetch_token(self.http, self.party, entity)
        return self._tokens[entity]

    async def headers(self, entity: str = "ACME") -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(entity)}"}

    async def post(self, query: str, variables: dict | None = None, entity: str = "ACME") -> httpx.Response:
        return await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=await self.headers(entity),
        )

    async def __call__(self, query: str, variables: dict | None = None, entity: str = "ACME") -> dict:
        response = await self.post(query, variables, entity)
        assert response.status_code == 200, response.text
        return response.json()


def pin_actor_cache(app) -> None:
    """Keep the bearer resolver's actor look-ups cached for the whole test: tests that count
    SQL statements must not see one more whenever the 5-s cache happens to expire mid-test
    (tests/gateway/test_bearer_principal.py tests the expiry itself)."""
    app.state.principals.actor_ttl = float("inf")


async def tester_client(http: httpx.AsyncClient, db: LedgerDatabase, systems: Iterable[str] = ()) -> GraphQLClient:
    """Provision the tester in `db` and return a client that calls `http` as it."""
    return GraphQLClient(http, await provision_tester(db, systems))
