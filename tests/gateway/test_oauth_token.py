"""The built-in authorization server through the real app: `POST /oauth/token` (client
credentials), `/.well-known/jwks.json`, `/.well-known/oauth-authorization-server`, and the
persisted, rotatable signing keys (`gateway.auth.keystore`, `ledgergate keys`)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import httpx
import pytest
from joserfc.jwk import KeySet
from sqlalchemy import text

from gateway.app import create_app
from gateway.auth import identities, keystore
from gateway.auth.tokens import InvalidToken, verify
from gateway.cli import main
from gateway.config import OAuthSettings
from gateway.secrets import KEY_ENV, new_key_text, parse_key
from resolvers.sources.catalog import SourceCatalog
from tests.conftest import make_settings
from tests.gateway.oauth_support import AUDIENCE, ISSUER, TTL, Party, oauth_settings, request_token

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
AUTH_FAILED = {"error": "invalid_client", "error_description": "client authentication failed"}


class _Source:
    async def aclose(self):
        pass


@dataclass
class OAuth:
    http: httpx.AsyncClient
    db: object
    key_text: str
    reader: Party  # ACME as bot (role reader)
    multi: Party  # ACME as bot and BETA as beta-bot
    disabled: Party
    lonely: Party  # allowed nowhere
    gone: Party  # ACME as retired-bot, deactivated

    async def token(self, party: Party | None = None, *, basic=True, **form) -> httpx.Response:
        return await request_token(self.http, party or self.reader, basic=basic, **form)

    async def jwks(self) -> KeySet:
        response = await self.http.get("/.well-known/jwks.json")
        assert response.status_code == 200
        return KeySet.import_key_set(response.json())

    async def claims(self, token: str, now=None):
        return verify(token, jwks=await self.jwks(), issuer=ISSUER, audience=AUDIENCE,
                      now=now or dt.datetime.now(dt.UTC))


def _settings():
    return oauth_settings()


@pytest.fixture
async def oauth(world, monkeypatch) -> AsyncIterator[OAuth]:
    key_text = new_key_text()
    monkeypatch.setenv(KEY_ENV, key_text)
    db = world.db
    await identities.add_role(db, "reader", "ledger:read statistical:read source:hr:read")
    await identities.add_role(db, "poster", "ledger:read ledger:post")
    await identities.add_user(db, "ACME", "bot", "reader")
    await identities.add_user(db, "ACME", "retired-bot", "reader")
    await identities.add_user(db, "BETA", "beta-bot", "poster")

    async def client(name, scopes, *allowances):
        info, secret = await identities.add_client(db, name, scopes)
        for entity, user in allowances:
            await identities.allow(db, info.client_id, entity, user)
        return Party(info.client_id, secret)

    everything = "ledger:read ledger:post statistical:read source:hr:read source:crm:read"
    reader = await client("Reader", "ledger:read ledger:post statistical:read source:hr:read",
                          ("ACME", "bot"))
    multi = await client("Multi", everything, ("ACME", "bot"), ("BETA", "beta-bot"))
    disabled = await client("Disabled", "ledger:read", ("ACME", "bot"))
    await identities.disable_client(db, disabled.client_id)
    lonely = await client("Lonely", "ledger:read")
    gone = await client("Gone", "ledger:read", ("ACME", "retired-bot"))
    await identities.deactivate_user(db, "ACME", "retired-bot")

    catalog = SourceCatalog(sources={"hr": _Source()})
    app = create_app(_settings(), db=db, sources=catalog)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledgergate.test") as http:
        yield OAuth(http, db, key_text, reader, multi, disabled, lonely, gone)


def _assert_no_store(response):
    for name, value in NO_STORE.items():
        assert response.headers[name] == value


async def _assert_success(oauth: OAuth, response, *, scope: str, entity: str, sub: str, client: str):
    assert response.status_code == 200, response.text
    _assert_no_store(response)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", TTL, scope)
    claims = await oauth.claims(body["access_token"])
    assert claims.scopes == frozenset(scope.split(" "))
    assert (claims.subject, claims.client_id, claims.entity, claims.issuer) == (sub, client, entity, ISSUER)
    assert claims.jti and len(claims.jti) >= 16
    payload = body["access_token"].split(".")[1]
    import json

    raw = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert raw["exp"] == raw["iat"] + TTL == raw["nbf"] + TTL
    assert raw["aud"] == AUDIENCE
    return body


async def test_client_secret_basic(oauth):
    response = await oauth.token(scope="ledger:read statistical:read")
    await _assert_success(oauth, response, scope="ledger:read statistical:read", entity="ACME",
                          sub="bot", client=oauth.reader.client_id)


async def test_client_secret_post(oauth):
    response = await oauth.token(basic=False, scope="ledger:read")
    await _assert_success(oauth, response, scope="ledger:read", entity="ACME", sub="bot",
                          client=oauth.reader.client_id)


async def test_an_empty_scope_is_the_full_intersection(oauth):
    # client: ledger:read ledger:post statistical:read source:hr:read;
    # role reader: ledger:read statistical:read source:hr:read; hr is a configured system.
    for form in ({}, {"scope": ""}):
        response = await oauth.token(**form)
        await _assert_success(oauth, response, scope="ledger:read source:hr:read statistical:read",
                              entity="ACME", sub="bot", client=oauth.reader.client_id)


async def test_the_entity_parameter_picks_one_of_several(oauth):
    response = await oauth.token(oauth.multi, entity="BETA")
    await _assert_success(oauth, response, scope="ledger:post ledger:read", entity="BETA",
                          sub="beta-bot", client=oauth.multi.client_id)
    response = await oauth.token(oauth.multi, entity="ACME", scope="source:hr:read")
    await _assert_success(oauth, response, scope="source:hr:read", entity="ACME", sub="bot",
                          client=oauth.multi.client_id)


async def test_scope_escalation_is_invalid_scope_and_nothing_is_issued(oauth, caplog):
    caplog.set_level(logging.DEBUG)
    response = await oauth.token(scope="ledger:read ledger:post")
    assert response.status_code == 400
    _assert_no_store(response)
    assert response.json() == {
        "error": "invalid_scope",
        "error_description": "refused 'ledger:post' (not granted by role 'reader')",
    }
    response = await oauth.token(scope="ledger:read audit:read source:crm:read nope")
    assert response.json() == {
        "error": "invalid_scope",
        "error_description": (
            "refused 'audit:read' (not allowed for client "
            f"'{oauth.reader.client_id}'; not granted by role 'reader'), 'nope' (unknown scope), "
            "'source:crm:read' (unknown scope)"
        ),
    }
    assert "access_token" not in response.text
    assert "token issued" not in caplog.text
    # A malformed scope is invalid_scope too.
    response = await oauth.token(scope="ledger:read  statistical:read")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


@pytest.mark.parametrize("case", ["wrong secret", "unknown client", "disabled", "no auth",
                                  "wrong secret post", "bearer", "garbage basic"])
async def test_client_authentication_failures_are_invalid_client_401(oauth, case):
    if case == "wrong secret":
        response = await oauth.token(Party(oauth.reader.client_id, "x" * 43))
    elif case == "wrong secret post":
        response = await oauth.token(Party(oauth.reader.client_id, "x" * 43), basic=False)
    elif case == "unknown client":
        response = await oauth.token(Party("lgc_AAAAAAAAAAAAAAAA", oauth.reader.secret))
    elif case == "disabled":
        response = await oauth.token(oauth.disabled)
    else:
        headers = {"bearer": {"Authorization": "Bearer abc"},
                   "garbage basic": {"Authorization": "Basic !!!"}}.get(case, {})
        response = await oauth.http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                         headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Basic realm="ledgergate"'
    _assert_no_store(response)
    body = response.json()
    assert body["error"] == "invalid_client"
    if case in ("wrong secret", "unknown client", "disabled", "wrong secret post"):
        assert body == AUTH_FAILED  # the same answer: nothing tells whether the client exists


async def test_refusals_of_whom_the_client_acts_as(oauth):
    response = await oauth.token(entity="BETA")  # reader is allowed for ACME only
    assert (response.status_code, response.json()) == (400, {
        "error": "unauthorized_client",
        "error_description": f"client {oauth.reader.client_id} is not allowed for 'BETA'",
    })
    response = await oauth.token(entity="NOSUCH")  # the same as an entity not allowed
    assert response.json()["error_description"].endswith("is not allowed for 'NOSUCH'")
    response = await oauth.token(oauth.lonely)
    assert (response.status_code, response.json()) == (400, {
        "error": "unauthorized_client",
        "error_description": f"client {oauth.lonely.client_id} is not allowed for any entity",
    })
    response = await oauth.token(oauth.gone)
    assert (response.status_code, response.json()) == (400, {
        "error": "unauthorized_client",
        "error_description": (
            f"user 'retired-bot' of ACME, as whom client {oauth.gone.client_id} acts, is deactivated"
        ),
    })
    response = await oauth.token(oauth.multi)
    assert (response.status_code, response.json()) == (400, {
        "error": "invalid_request",
        "error_description": (
            f"client {oauth.multi.client_id} is allowed for several entities (ACME, BETA): "
            "name one with the entity parameter"
        ),
    })
    _assert_no_store(response)


async def test_unsupported_grant_type(oauth):
    response = await oauth.token(grant_type="password")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    _assert_no_store(response)


async def test_get_is_405(oauth):
    response = await oauth.http.get("/oauth/token")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("content, content_type, status, description", [
    (b'{"grant_type": "client_credentials"}', "application/json", 400,
     "POST a body of Content-Type application/x-www-form-urlencoded (UTF-8)"),
    (b"grant_type=client_credentials", None, 400,
     "POST a body of Content-Type application/x-www-form-urlencoded (UTF-8)"),
    (b"grant_type=client_credentials&scope=\xff", "application/x-www-form-urlencoded", 400,
     "the body is not a well-formed UTF-8 form"),
    (b"grant_type=client_credentials&grant_type=client_credentials",
     "application/x-www-form-urlencoded", 400, "parameter 'grant_type' is repeated"),
    (b"scope=ledger%3Aread", "application/x-www-form-urlencoded", 400, "grant_type is missing"),
    (b"", "application/x-www-form-urlencoded", 400, "grant_type is missing"),
    (b"grant_type=client_credentials&scope=" + b"a" * 2_000_000, "application/x-www-form-urlencoded",
     413, "the request body is larger than 1000000 bytes"),
])
async def test_malformed_requests(oauth, content, content_type, status, description):
    headers = {"Authorization": "Basic " + base64.b64encode(
        f"{oauth.reader.client_id}:{oauth.reader.secret}".encode()).decode()}
    if content_type:
        headers["Content-Type"] = content_type
    response = await oauth.http.post("/oauth/token", content=content, headers=headers)
    assert (response.status_code, response.json()) == (
        status, {"error": "invalid_request", "error_description": description}
    )


async def test_two_authentication_methods_at_once_are_refused(oauth):
    credentials = base64.b64encode(f"{oauth.reader.client_id}:{oauth.reader.secret}".encode()).decode()
    response = await oauth.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": oauth.reader.client_id,
              "client_secret": oauth.reader.secret},
        headers={"Authorization": f"Basic {credentials}"},
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_metadata_document(oauth):
    response = await oauth.http.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response.json() == {
        "issuer": ISSUER,
        "token_endpoint": f"{ISSUER}/oauth/token",
        "jwks_uri": f"{ISSUER}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "private_key_jwt",
        ],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "PS256", "RS256"],
        "scopes_supported": [
            "admin:write", "audit:read", "documents:read", "documents:write", "federation:compose", "ledger:post", "ledger:read", "outbox:operate", "periods:reopen",
            "source:hr:read", "source:hr:sensitive", "statistical:read",
        ],
        "response_types_supported": [],
    }


async def test_jwks_is_public_and_cacheable(oauth):
    response = await oauth.http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = response.json()["keys"]
    assert len(keys) == 1
    assert set(keys[0]) == {"kty", "n", "e", "kid", "alg", "use"}


async def test_rotation_keeps_old_tokens_verifying_and_signs_with_the_new_key(oauth):
    app_cache = oauth.http._transport.app.state.oauth.keys
    old = (await oauth.token()).json()["access_token"]
    old_kid = (await oauth.jwks()).keys[0].kid
    key = parse_key(oauth.key_text, KEY_ENV)
    ring = await keystore.rotate(oauth.db.engine, key, dt.datetime.now(dt.UTC))
    assert ring.current.kid != old_kid
    app_cache.invalidate()  # a running gateway reloads within 30 seconds; here at once
    jwks = await oauth.jwks()
    assert [k.kid for k in jwks.keys] == [ring.current.kid, old_kid]
    await oauth.claims(old)
    new = (await oauth.token()).json()["access_token"]
    await oauth.claims(new)
    import json

    header = json.loads(base64.urlsafe_b64decode(new.split(".")[0] + "=="))
    assert header["kid"] == ring.current.kid

    # Not yet expired: nothing to retire. Past ttl + leeway: the old key goes, its tokens fail.
    now = dt.datetime.now(dt.UTC)
    assert await keystore.retire_expired(oauth.db.engine, now, TTL) == []
    later = now + dt.timedelta(seconds=TTL + keystore.DEFAULT_LEEWAY + 1)
    assert await keystore.retire_expired(oauth.db.engine, later, TTL) == [old_kid]
    app_cache.invalidate()
    assert [k.kid for k in (await oauth.jwks()).keys] == [ring.current.kid]
    with pytest.raises(InvalidToken):
        await oauth.claims(old)
    await oauth.claims(new)


async def test_a_replaced_key_leaves_the_jwks_by_itself_once_its_tokens_expired(oauth, caplog):
    caplog.set_level(logging.INFO)
    app_cache = oauth.http._transport.app.state.oauth.keys
    old = (await oauth.token()).json()["access_token"]
    old_kid = (await oauth.jwks()).keys[0].kid
    key = parse_key(oauth.key_text, KEY_ENV)
    ring = await keystore.rotate(oauth.db.engine, key, dt.datetime.now(dt.UTC))
    # A reload within ttl + leeway of the rotation keeps both published.
    app_cache.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=TTL)
    app_cache.invalidate()
    assert [k.kid for k in (await oauth.jwks()).keys] == [ring.current.kid, old_kid]
    await oauth.claims(old)
    # The first reload past it retires the old key: no `keys retire --expired` needed.
    app_cache.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=TTL + keystore.DEFAULT_LEEWAY + 1)
    app_cache.invalidate()
    assert [k.kid for k in (await oauth.jwks()).keys] == [ring.current.kid]
    assert f"signing keys retired (no valid token can need them): {old_kid}" in caplog.text
    assert [k.status.split(" ")[0] for k in await keystore.list_keys(oauth.db.engine)] == ["current", "retired"]
    with pytest.raises(InvalidToken):
        await oauth.claims(old)
    await oauth.claims((await oauth.token()).json()["access_token"])


async def test_the_stored_key_is_encrypted(oauth):
    await oauth.token()
    async with oauth.db.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT kid, ciphertext FROM signing_keys"))).all()
    assert len(rows) == 1
    blob = bytes(rows[0][1])
    assert b'"d"' not in blob and b'"p"' not in blob and b"RSA" not in blob
    # The kid is the associated data: the ciphertext under another kid does not decrypt.
    key = parse_key(oauth.key_text, KEY_ENV)
    assert key.unseal(blob, b"ledgergate signing key\x00other") is None


async def test_the_secret_never_appears_in_logs_or_responses(oauth, caplog):
    caplog.set_level(logging.DEBUG)
    responses = [
        await oauth.token(),
        await oauth.token(basic=False),
        await oauth.token(scope="audit:read"),
        await oauth.token(entity="BETA"),
        await oauth.token(Party(oauth.reader.client_id, oauth.reader.secret + "x")),
        await oauth.token(grant_type="password"),
    ]
    secret = oauth.reader.secret
    for response in responses:
        assert secret not in response.text
        assert secret not in str(response.headers)
    assert secret not in caplog.text
    assert responses[0].json()["access_token"] not in caplog.text
    assert "token issued" in caplog.text and "token refused" in caplog.text


async def test_without_a_secrets_key_the_server_is_unavailable(world, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    app = create_app(replace(make_settings(), secrets_key_file=None), db=world.db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledgergate.test") as http:
        for response in (
            await http.post("/oauth/token", data={"grant_type": "client_credentials"}),
            await http.get("/.well-known/jwks.json"),
            await http.get("/.well-known/oauth-authorization-server"),
        ):
            assert response.status_code == 503
            assert response.json() == {
                "error": "temporarily_unavailable",
                "error_description": (
                    "the authorization server is not available: the secrets key that encrypts "
                    "its signing keys is not configured (set LEDGERGATE_SECRETS_KEY or "
                    "[secrets] key_file)"
                ),
            }
        assert (await http.get("/healthz")).status_code == 200


async def test_the_default_issuer_is_the_listening_address(world, monkeypatch):
    monkeypatch.setenv(KEY_ENV, new_key_text())
    app = create_app(replace(make_settings(), host="127.0.0.1", port=8123), db=world.db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledgergate.test") as http:
        document = (await http.get("/.well-known/oauth-authorization-server")).json()
    assert document["issuer"] == "http://127.0.0.1:8123"
    assert document["token_endpoint"] == "http://127.0.0.1:8123/oauth/token"


# --- ledgergate keys -----------------------------------------------------------------------


@pytest.fixture
def keys_cli(tmp_path, db, monkeypatch, capsys):
    monkeypatch.delenv("LEDGERGATE_DATABASE_URL", raising=False)
    key_text = new_key_text()
    monkeypatch.setenv(KEY_ENV, key_text)
    url = db.engine.url.render_as_string(hide_password=False)
    config = tmp_path / "lg.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[oauth]\ntoken_ttl = 60\n')

    async def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = await asyncio.to_thread(main, [*argv, "--config", str(config)])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


async def test_keys_list_rotate_retire(keys_cli, db):
    assert await keys_cli("keys", "list") == (0, "", "")
    code, first, err = await keys_cli("keys", "rotate")
    assert code == 0 and "new signing key" in err
    first = first.strip()
    code, second, _ = await keys_cli("keys", "rotate")
    second = second.strip()
    code, out, _ = await keys_cli("keys", "list")
    lines = out.splitlines()
    assert [line.split("\t")[0] for line in lines] == [second, first]
    assert lines[0].endswith("\tcurrent") and lines[1].endswith("\tpublished")

    code, out, err = await keys_cli("keys", "retire", second)
    assert code == 2
    assert "is the current key: rotate first" in err
    code, out, err = await keys_cli("keys", "retire", "--expired")  # not yet: ttl 60 + leeway
    assert (code, out) == (0, "")
    code, out, err = await keys_cli("keys", "retire", first)
    assert code == 0 and f"retired signing key {first}" in err
    code, out, _ = await keys_cli("keys", "list")
    assert "\tretired " in out.splitlines()[1]
    code, out, err = await keys_cli("keys", "retire", first)
    assert code == 2 and "already retired" in err
    code, out, err = await keys_cli("keys", "retire", "nope")
    assert code == 2 and "no signing key 'nope'" in err
    code, out, err = await keys_cli("keys", "retire")
    assert code == 2 and "name one KID, or give --expired" in err

    ring = await keystore.load_ring(db.engine, parse_key(__import__("os").environ[KEY_ENV], KEY_ENV))
    assert [k.kid for k in ring.keys] == [second]


async def test_keys_rotate_needs_the_secrets_key(keys_cli, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    code, out, err = await keys_cli("keys", "rotate")
    assert code == 2
    assert err.startswith("ledgergate: rotating the signing keys needs the secrets key, but none")


async def test_a_wrong_secrets_key_is_named(keys_cli, db, monkeypatch):
    assert (await keys_cli("keys", "rotate"))[0] == 0
    monkeypatch.setenv(KEY_ENV, new_key_text())
    code, out, err = await keys_cli("keys", "rotate")
    assert (code, err) == (2, f"ledgergate: {keystore.KEY_MISMATCH}\n")


async def test_rotating_the_secrets_key_re_encrypts_the_signing_keys(db):
    from gateway.secrets import SecretsError, rotate_secrets

    old, new = parse_key(new_key_text(), "old"), parse_key(new_key_text(), "new")
    now = dt.datetime.now(dt.UTC)
    ring = await keystore.rotate(db.engine, old, now)
    ring = await keystore.rotate(db.engine, old, now)  # same instant: still strictly ordered
    assert len(ring.keys) == 2
    await rotate_secrets(db.engine, old, new)
    reloaded = await keystore.load_ring(db.engine, new)
    assert [k.kid for k in reloaded.keys] == [k.kid for k in ring.keys]
    with pytest.raises(SecretsError, match=f"^{keystore.KEY_MISMATCH}$"):
        await keystore.load_ring(db.engine, old)


# --- [oauth] in the config file ------------------------------------------------------------


def test_oauth_settings_are_read(tmp_path):
    from gateway.config import load_settings

    config = tmp_path / "lg.toml"
    config.write_text('[oauth]\nissuer = "https://ledger.example.com/"\naudience = "gl"\ntoken_ttl = 300\n')
    settings = load_settings(config)
    assert settings.oauth == OAuthSettings("https://ledger.example.com/", "gl", 300)
    assert settings.issuer == "https://ledger.example.com"
    default = load_settings(None)
    assert (default.issuer, default.oauth.audience, default.oauth.token_ttl) == (
        "http://127.0.0.1:8000", "ledgergate", 900
    )


@pytest.mark.parametrize("text, fragment", [
    ("[oauth]\ntoken_ttl = 30\n", "oauth.token_ttl must be between 60 and 86400 seconds, got 30"),
    ("[oauth]\ntoken_ttl = 86401\n", "oauth.token_ttl must be between 60 and 86400 seconds, got 86401"),
    ("[oauth]\ntoken_ttl = '900'\n", "oauth.token_ttl must be an integer"),
    ("[oauth]\nissuer = 'ftp://x'\n", "oauth.issuer must be an http(s) URL without query or fragment"),
    ("[oauth]\nissuer = 'https://x/?a=1'\n", "oauth.issuer must be an http(s) URL"),
    ("[oauth]\naudience = ''\n", "oauth.audience must be a non-empty string"),
    ("[oauth]\nttl = 5\n", "unknown key(s) oauth.['ttl']"),
    ("oauth = 1\n", "[oauth] must be a table"),
])
def test_bad_oauth_settings_name_the_file_and_key(tmp_path, text, fragment):
    from gateway.config import ConfigError, load_settings

    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(config) in str(raised.value) and fragment in str(raised.value)


async def test_new_key_ids_are_safe_on_a_command_line_and_old_ones_still_retire(keys_cli):
    """On a fresh clone a key id began with "-" and `keys retire KID` read it as an option."""
    assert (await keys_cli("keys", "rotate"))[0] == 0
    code, out, _ = await keys_cli("keys", "list")
    assert all(line.startswith("lgk_") for line in out.splitlines()), out
    # A bare thumbprint of before the prefix may begin with "-": --kid=… names it.
    code, out, err = await keys_cli("keys", "retire", "--kid=-Zx9_legacy")
    assert code == 2 and "no signing key '-Zx9_legacy'" in err, err
