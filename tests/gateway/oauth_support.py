"""What the tests of the authorization server and of bearer tokens share: the issuer and
audience they configure, a client's credentials, fetching a token from `/oauth/token`, and
forging tokens by hand (for the negative matrix), adding a client, and an HTTP client of
the app from a chosen remote address."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from urllib.parse import quote_plus

import httpx

from gateway.auth import identities
from gateway.config import OAuthSettings, Settings
from tests.callers import Party
from tests.conftest import make_settings

ISSUER = "https://ledger.example.com"
AUDIENCE = "ledgergate"
TTL = 600


def oauth_settings(**limits) -> Settings:
    """The tests' settings with the OAuth issuer, audience and token lifetime above."""
    return replace(
        make_settings(**limits),
        oauth=OAuthSettings(issuer=ISSUER, audience=AUDIENCE, token_ttl=TTL),
    )


def basic_auth(party: Party) -> dict[str, str]:
    credentials = f"{quote_plus(party.client_id)}:{quote_plus(party.secret)}"
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


async def request_token(http: httpx.AsyncClient, party: Party, *, basic=True, **form) -> httpx.Response:
    """`POST /oauth/token` with the client-credentials grant (HTTP Basic or posted secret)."""
    form.setdefault("grant_type", "client_credentials")
    if basic:
        headers = basic_auth(party)
    else:
        headers = {}
        form.update(client_id=party.client_id, client_secret=party.secret)
    return await http.post("/oauth/token", data=form, headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj) -> str:
    """A JSON object as a compact base64url JWT segment."""
    return b64(json.dumps(obj, separators=(",", ":")).encode())


async def add_party(db, name: str, scopes: str, entity: str, user: str) -> Party:
    """A new integration client with `scopes`, allowed for `entity` as the existing `user`."""
    info, secret = await identities.add_client(db, name, scopes)
    await identities.allow(db, info.client_id, entity, user)
    return Party(info.client_id, secret)


def asgi_client(app, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """An HTTP client of the real app over ASGI, its requests coming from `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://ledgergate.test")


def statement_table(statement: str) -> str:
    """The first table a statement reads from."""
    match = re.search(r"\bFROM\s+\"?(\w+)", statement)
    return match.group(1) if match else statement


def split_audit(statements: list[str]) -> tuple[list[str], int]:
    """(the tables the statements not of the audit log read, how many audit INSERTs ran):
    a refusal's audit row (`ledger.audit`: its chain's head locked and moved, one INSERT)
    apart from the work of authentication."""
    rest = [statement_table(s) for s in statements if "audit_" not in s]
    return rest, sum(s.lstrip().startswith("INSERT INTO audit_events") for s in statements)
