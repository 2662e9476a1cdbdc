"""What the tests of the authorization server and of bearer tokens share: the issuer and
audience they configure, a client's credentials, fetching a token from `/oauth/token`, and
forging tokens by hand (for the negative matrix)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from urllib.parse import quote_plus

import httpx

from gateway.config import OAuthSettings, Settings
from tests.conftest import make_settings

ISSUER = "https://ledger.example.com"
AUDIENCE = "ledgergate"
TTL = 600


@dataclass
class Party:
    """An integration client's credentials."""

    client_id: str
    secret: str


def oauth_settings(*, insecure_dev: bool = True, **limits) -> Settings:
    """The tests' settings with the OAuth issuer, audience and token lifetime above;
    `insecure_dev=False`: /graphql takes bearer tokens."""
    return replace(
        make_settings(**limits),
        oauth=OAuthSettings(issuer=ISSUER, audience=AUDIENCE, token_ttl=TTL),
        insecure_dev=insecure_dev,
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
    """A client allowed `scopes`, on `entity`'s allow-list acting as its user `user`."""
    from gateway.auth import identities

    info, secret = await identities.add_client(db, name, scopes)
    await identities.allow(db, info.client_id, entity, user)
    return Party(info.client_id, secret)
