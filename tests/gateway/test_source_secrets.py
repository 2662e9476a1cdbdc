"""Credentials of source systems, encrypted at rest in the ledger database: `ledgergate
secrets keygen|set|list|delete|rotate`, and `serve` building its sources with them.

Every test runs on a fresh migrated database (SQLite, or PostgreSQL when
LEDGERGATE_TEST_DATABASE_URL is set); the CLI runs in a thread, as it runs its own loop.
Each asserts that no value leaks into output, logs or errors.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from ledger.migrate import head_revision
from gateway.cli import main
from gateway.secrets import (
    KEY_ENV,
    KEY_MISMATCH,
    SecretsError,
    SecretsKey,
    load_secrets,
    new_key_text,
    parse_key,
    read_key_file,
    store_secret,
)
from ledger.model import EntityScoped, SourceSecret
from ledger.reference import create_entity
from ledger.store import LedgerDatabase
from tests.gateway.test_source_settings import ROOT, free_port
from tests.sources.apps.loopback import serving
from tests.sources.apps.rest_system import BATCH_PATH, RestSystem

API_KEY = "crm-key-7Hq#Pz with spaces"  # HTTP headers are ASCII
PASSWORD = "pässwörd-Ω-81"  # a database password need not be
CLIENT_SECRET = "usage-secret-Xy93kP0w"
NO_KEY = (
    "storing a secret needs the secrets key, but none is configured: set LEDGERGATE_SECRETS_KEY "
    "or [secrets] key_file in the gateway config (make one with `ledgergate secrets keygen "
    "--out FILE`)"
)


@dataclass
class Store:
    db: LedgerDatabase
    config: Path
    key_file: Path
    folder: Path

    @property
    def url(self) -> str:
        return self.db.engine.url.render_as_string(hide_password=False)

    def key(self) -> SecretsKey:
        return read_key_file(self.key_file)

    async def rows(self) -> list[tuple]:
        async with self.db.engine.connect() as connection:
            result = await connection.execute(
                text("SELECT name, key, ciphertext, key_id FROM source_secrets ORDER BY name, key")
            )
            return [(name, key, bytes(blob), key_id) for name, key, blob, key_id in result]


@pytest.fixture
def cli(monkeypatch):
    """`ledgergate ARGV…` in a thread (it runs its own event loop), `stdin` on its stdin."""

    async def run(*argv: str, stdin: str = "") -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return await asyncio.to_thread(main, list(argv))

    return run


@pytest.fixture
async def store(db, tmp_path, monkeypatch, cli) -> Store:
    monkeypatch.delenv("LEDGERGATE_DATABASE_URL", raising=False)
    monkeypatch.delenv(KEY_ENV, raising=False)
    key_file = tmp_path / "secrets.key"
    assert await cli("secrets", "keygen", "--out", str(key_file)) == 0
    config = tmp_path / "lg.toml"
    store = Store(db, config, key_file, tmp_path)
    config.write_text(f'[database]\nurl = "{store.url}"\n[secrets]\nkey_file = "secrets.key"\n')
    return store


def assert_no_value(*texts: str, values=(API_KEY, CLIENT_SECRET, PASSWORD)) -> None:
    for text_ in texts:
        for value in values:
            assert value not in text_
            assert value.encode("utf-8").hex() not in text_.lower()


async def test_set_list_delete_round_trip(store, cli, capsys, caplog):
    config = str(store.config)
    assert await cli("secrets", "set", "crm", "api_key", "--config", config, stdin=API_KEY + "\n") == 0
    assert await cli("secrets", "set", "usage", "client_secret", "--config", config, stdin=CLIENT_SECRET) == 0
    assert await cli("secrets", "set", "pos", "password", "--config", config, stdin=PASSWORD + "\n") == 0
    key = store.key()
    assert dict(await load_secrets(store.db.engine, key, ["crm", "usage", "pos", "hr"])) == {
        "crm": {"api_key": API_KEY}, "usage": {"client_secret": CLIENT_SECRET},
        "pos": {"password": PASSWORD},
    }
    assert await cli("secrets", "list", "--config", config) == 0
    out = capsys.readouterr()
    listed = [line.split("\t")[:3] for line in out.out.splitlines()]
    assert listed == [
        ["crm", "api_key", f"key id {key.id}"], ["pos", "password", f"key id {key.id}"],
        ["usage", "client_secret", f"key id {key.id}"],
    ]
    assert f"stored crm.api_key (encrypted with key id {key.id})" in out.err

    # Setting again replaces the value.
    assert await cli("secrets", "set", "crm", "api_key", "--config", config, stdin="rotated-by-crm") == 0
    assert (await load_secrets(store.db.engine, key, ["crm"]))["crm"]["api_key"] == "rotated-by-crm"
    assert await cli("secrets", "delete", "crm", "api_key", "--config", config) == 0
    assert await cli("secrets", "delete", "usage", "--config", config) == 0
    assert await cli("secrets", "delete", "pos", "--config", config) == 0
    assert await cli("secrets", "list", "--config", config) == 0
    assert capsys.readouterr().out == ""
    assert await cli("secrets", "delete", "crm", "--config", config) == 2
    out = capsys.readouterr()
    assert out.err == "ledgergate: no secret crm is stored\n"
    assert_no_value(out.out, out.err, caplog.text, values=(API_KEY, CLIENT_SECRET, PASSWORD, "rotated-by-crm"))


async def test_only_ciphertext_is_at_rest(store, cli):
    config = str(store.config)
    await cli("secrets", "set", "crm", "api_key", "--config", config, stdin=API_KEY)
    await cli("secrets", "set", "usage", "client_secret", "--config", config, stdin=API_KEY)
    rows = await store.rows()
    assert [(name, key, key_id) for name, key, _, key_id in rows] == [
        ("crm", "api_key", store.key().id), ("usage", "client_secret", store.key().id),
    ]
    plain = API_KEY.encode("utf-8")
    for _, _, blob, _ in rows:
        assert plain not in blob and base64.b64encode(plain) not in blob
        assert len(blob) == 1 + 12 + len(plain) + 16  # format, nonce, ciphertext, tag
    assert rows[0][2][13:] != rows[1][2][13:]  # same value, another nonce and row: other bytes
    if store.db.is_sqlite:
        for file in store.folder.glob("ledger.db*"):
            assert plain not in file.read_bytes()


async def test_a_ciphertext_moved_or_altered_does_not_decrypt(store, cli):
    config = str(store.config)
    await cli("secrets", "set", "crm", "api_key", "--config", config, stdin=API_KEY)
    await cli("secrets", "set", "usage", "client_secret", "--config", config, stdin=CLIENT_SECRET)
    async with store.db.engine.begin() as connection:  # crm's value copied into usage's row
        await connection.execute(
            text("UPDATE source_secrets SET ciphertext = :blob WHERE name = 'usage'"),
            {"blob": (await store.rows())[0][2]},
        )
    with pytest.raises(SecretsError) as raised:
        await load_secrets(store.db.engine, store.key(), ["usage"])
    assert str(raised.value) == (
        "the stored secret usage.client_secret does not decrypt with the secrets key: it was "
        "altered or copied from another row; store it again"
    )
    assert_no_value(str(raised.value))


async def test_the_value_comes_from_stdin_or_a_prompt_never_from_argv(store, cli, monkeypatch, capsys):
    config = str(store.config)
    with pytest.raises(SystemExit) as exited:
        main(["secrets", "set", "crm", "api_key", "some-value", "--config", config])
    assert exited.value.code == 2
    assert await store.rows() == []
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["secrets", "set", "--help"])
    assert capsys.readouterr().out.startswith(
        "usage: ledgergate secrets set [-h] [--config CONFIG] NAME KEY\n"
    )  # no option takes a value

    # One trailing line break is not part of the value; inner ones are (a PEM key, say).
    pem = "-----BEGIN KEY-----\nAAAA\n-----END KEY-----"
    await cli("secrets", "set", "crm", "api_key", "--config", config, stdin=API_KEY + "\r\n")
    await cli("secrets", "set", "crm", "private_key", "--config", config, stdin=pem + "\n")
    assert dict((await load_secrets(store.db.engine, store.key(), ["crm"]))["crm"]) == {
        "api_key": API_KEY, "private_key": pem,
    }
    assert await cli("secrets", "set", "usage", "client_secret", "--config", config, stdin="") == 2
    assert capsys.readouterr().err.endswith("ledgergate: no value given for usage.client_secret\n")

    # At a terminal: typed twice, without echo.
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    typed = iter([CLIENT_SECRET, CLIENT_SECRET, CLIENT_SECRET, "typo"])
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or next(typed))

    def at_terminal(*argv: str) -> int:
        monkeypatch.setattr(sys, "stdin", Terminal())
        return main(list(argv))

    assert await asyncio.to_thread(at_terminal, "secrets", "set", "usage", "client_secret", "--config", config) == 0
    assert prompts == ["usage.client_secret: ", "usage.client_secret (again): "]
    assert await asyncio.to_thread(at_terminal, "secrets", "set", "usage", "secret2", "--config", config) == 2
    out = capsys.readouterr()
    assert out.err.endswith(
        "ledgergate: the two entries of usage.secret2 differ; nothing was stored\n"
    )
    assert (await load_secrets(store.db.engine, store.key(), ["usage"]))["usage"] == {
        "client_secret": CLIENT_SECRET
    }
    assert_no_value(out.out, out.err)


async def test_a_wrong_key_is_refused_with_the_exact_message(store, cli, monkeypatch, capsys, caplog):
    config = str(store.config)
    await cli("secrets", "set", "crm", "api_key", "--config", config, stdin=API_KEY)
    monkeypatch.setenv(KEY_ENV, new_key_text())  # the environment wins over the key file
    capsys.readouterr()
    assert await cli("secrets", "set", "usage", "client_secret", "--config", config, stdin=CLIENT_SECRET) == 2
    assert capsys.readouterr().err == f"ledgergate: {KEY_MISMATCH}\n"
    assert KEY_MISMATCH == "the secrets key does not match the one the secrets were stored with"
    wrong = parse_key(os.environ[KEY_ENV], KEY_ENV)
    with pytest.raises(SecretsError, match=f"^{KEY_MISMATCH}$"):
        await load_secrets(store.db.engine, wrong, ["crm"])
    # Even past the key id, AES-GCM's tag refuses another key.
    blob = (await store.rows())[0][2]
    with pytest.raises(SecretsError, match="does not decrypt with the secrets key"):
        wrong.decrypt("crm", "api_key", blob)

    serve = serve_config(store, "secrets.key", sources=rest_sources("http://127.0.0.1:1"))
    assert await cli("serve", "--config", str(serve)) == 2
    out = capsys.readouterr()
    assert out.err == f"ledgergate: {KEY_MISMATCH}\n"
    assert_no_value(out.out, out.err, caplog.text)


async def test_a_key_file_group_or_others_may_read_is_refused(store, cli, capsys):
    store.key_file.chmod(0o644)
    assert await cli("secrets", "set", "crm", "api_key", "--config", str(store.config), stdin=API_KEY) == 2
    assert capsys.readouterr().err == (
        f"ledgergate: {store.key_file}: the secrets key file is accessible to group or others "
        f"(mode 0644); run `chmod 600 {store.key_file}`\n"
    )
    store.key_file.chmod(0o640)
    with pytest.raises(SecretsError, match=r"\(mode 0640\)"):
        read_key_file(store.key_file)
    assert await store.rows() == []
    # Listing shows no values, so it needs no key.
    assert await cli("secrets", "list", "--config", str(store.config)) == 0


async def test_keygen_writes_a_0600_key_and_never_overwrites_one(tmp_path, cli, capsys):
    out = tmp_path / "new.key"
    assert await cli("secrets", "keygen", "--out", str(out)) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    key = read_key_file(out)
    assert len(base64.urlsafe_b64decode(out.read_text().strip())) == 32
    assert f"key id {key.id}" in capsys.readouterr().err
    assert out.read_text().strip() not in repr(key)
    before = out.read_text()
    assert await cli("secrets", "keygen", "--out", str(out)) == 2
    assert capsys.readouterr().err == f"ledgergate: {out}: already exists; a key file is never overwritten\n"
    assert out.read_text() == before


async def test_setting_without_a_key_says_what_is_missing(store, cli, capsys):
    store.config.write_text(f'[database]\nurl = "{store.url}"\n')
    assert await cli("secrets", "set", "crm", "api_key", "--config", str(store.config), stdin=API_KEY) == 2
    assert capsys.readouterr().err == f"ledgergate: {NO_KEY}\n"


@pytest.mark.parametrize("where", ["env", "file", "key_file"])
async def test_something_that_is_not_a_key_is_refused_without_echoing_it(store, cli, monkeypatch, capsys, where):
    not_a_key = API_KEY if where != "key_file" else new_key_text()
    if where == "env":
        monkeypatch.setenv(KEY_ENV, not_a_key)
        expected = (
            "LEDGERGATE_SECRETS_KEY is not a secrets key (32 random bytes, base64url); "
            "make one with `ledgergate secrets keygen --out FILE`"
        )
    elif where == "file":
        store.key_file.write_text(not_a_key)
        expected = (
            f"{store.key_file} is not a secrets key (32 random bytes, base64url); make one with "
            "`ledgergate secrets keygen --out FILE`"
        )
    else:  # the key itself pasted where the key file's name goes
        store.config.write_text(f'[database]\nurl = "{store.url}"\n[secrets]\nkey_file = "{not_a_key}"\n')
        expected = (
            "[secrets] key_file names no file and looks like a key itself: put the key in a file "
            "(mode 0600) and name that file; make one with `ledgergate secrets keygen --out FILE`"
        )
    assert await cli("secrets", "set", "crm", "api_key", "--config", str(store.config), stdin="v") == 2
    err = capsys.readouterr().err
    assert err == f"ledgergate: {expected}\n"
    assert not_a_key not in err


async def test_a_database_not_migrated_is_refused(tmp_path, cli, capsys, monkeypatch):
    monkeypatch.delenv("LEDGERGATE_DATABASE_URL", raising=False)
    monkeypatch.setenv(KEY_ENV, new_key_text())
    config = tmp_path / "lg.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "empty.db"}"\n')
    for argv in (["set", "crm", "api_key"], ["list"], ["delete", "crm"]):
        assert await cli("secrets", *argv, "--config", str(config), stdin=API_KEY) == 2
        assert capsys.readouterr().err == (
            f"ledgergate: the database schema is at revision none, this version needs {head_revision()}: run "
            "`ledgergate db upgrade` first\n"
        )


async def test_database_errors_are_named_by_type_only(store, caplog):
    async with store.db.engine.begin() as connection:
        await connection.execute(text("DROP TABLE source_secrets"))
    with pytest.raises(SecretsError) as raised:
        await store_secret(store.db.engine, store.key(), "crm", "api_key", API_KEY)
    assert str(raised.value).startswith("the secrets could not be read or written: ")
    assert "source_secrets" not in str(raised.value)  # no statement, so no parameters either
    assert_no_value(str(raised.value), caplog.text)


async def test_rotate_re_encrypts_every_value_under_the_new_key(store, cli, capsys):
    config = str(store.config)
    await cli("secrets", "set", "crm", "api_key", "--config", config, stdin=API_KEY)
    await cli("secrets", "set", "usage", "client_secret", "--config", config, stdin=CLIENT_SECRET)
    old, new_file = store.key(), store.folder / "new.key"
    await cli("secrets", "keygen", "--out", str(new_file))
    new = read_key_file(new_file)
    before = await store.rows()
    assert await cli("secrets", "rotate", "--new-key-file", str(new_file), "--config", config) == 0
    after = await store.rows()
    assert {row[3] for row in after} == {new.id} and all(a[2] != b[2] for a, b in zip(after, before))
    assert dict(await load_secrets(store.db.engine, new, ["crm", "usage"])) == {
        "crm": {"api_key": API_KEY}, "usage": {"client_secret": CLIENT_SECRET},
    }
    with pytest.raises(SecretsError, match=f"^{KEY_MISMATCH}$"):
        await load_secrets(store.db.engine, old, ["crm"])
    out = capsys.readouterr()
    assert "re-encrypted 2 value(s)" in out.err
    # Rotating again (the old key still configured) finds nothing left to re-encrypt.
    assert await cli("secrets", "rotate", "--new-key-file", str(new_file), "--config", config) == 0
    assert await store.rows() == after
    assert "re-encrypted 0 value(s)" in capsys.readouterr().err
    # From a key that encrypted none of them: refused, nothing changes.
    store.key_file.unlink()
    await cli("secrets", "keygen", "--out", str(store.key_file))
    other = store.folder / "other.key"
    await cli("secrets", "keygen", "--out", str(other))
    assert await cli("secrets", "rotate", "--new-key-file", str(other), "--config", config) == 2
    assert capsys.readouterr().err.endswith(f"ledgergate: {KEY_MISMATCH}\n")
    assert await store.rows() == after
    assert_no_value(out.out, out.err)


async def test_secrets_are_the_gateways_not_an_entitys(store, cli):
    """The entity confinement of `ledger.tenancy` neither applies to nor breaks the table."""
    assert not issubclass(SourceSecret, EntityScoped)
    assert "entity_id" not in SourceSecret.__table__.c
    await cli("secrets", "set", "crm", "api_key", "--config", str(store.config), stdin=API_KEY)
    async with store.db.session(None) as session:
        entity_id = await create_entity(session, "ACME", "Acme Software Inc.", "USD")
        await session.commit()
    async with store.db.session(entity_id) as session:
        names = (await session.execute(select(SourceSecret.name))).scalars().all()
    assert names == ["crm"]


def rest_sources(base_url: str) -> str:
    return (
        f'[systems.crm]\nshared = true\nkind = "rest"\nbase_url = "{base_url}"\nauth = "api_key"\n'
        'api_key_header = "X-API-Key"\ncredentials = "crm"\n'
        '[systems.crm.types.SalesOrder]\nurl = "http://crm.test/sales-orders/{id}"\n'
        f'batch_path = "{BATCH_PATH}"\n'
        '[systems.crm.types.SalesOrder.fields]\nid = "ID!"\namount = "Decimal"\n'
    )


def serve_config(store: Store, *key_file: str, sources: str, port: int = 0) -> Path:
    """A gateway config on the store's database serving `sources`; `key_file`: its key."""
    (store.folder / "sources.toml").write_text(sources)
    config = store.folder / "serve.toml"
    text_ = (
        f'[database]\nurl = "{store.url}"\n[http]\nport = {port or free_port()}\n'
        '[sources]\nfile = "sources.toml"\n'
    )
    if key_file:
        text_ += '[secrets]\nkey_file = "secrets.key"\n'
    config.write_text(text_)
    return config


async def test_serve_without_a_key_refuses_to_start(store, cli, capsys):
    config = serve_config(store, sources=rest_sources("http://127.0.0.1:1"))
    assert await cli("serve", "--config", str(config)) == 2
    assert capsys.readouterr().err == (
        "ledgergate: serve: /graphql takes bearer tokens, whose signing keys need the secrets "
        "key, but none is configured: set LEDGERGATE_SECRETS_KEY or [secrets] key_file in the "
        "gateway config (make one with `ledgergate secrets keygen --out FILE`)\n"
    )


async def test_serve_builds_its_rest_source_with_the_decrypted_key(store, cli, capsys, caplog):
    async with store.db.session(None) as session:
        await create_entity(session, "ACME", "Acme Software Inc.", "USD")
        await session.commit()
    assert await cli("secrets", "set", "crm", "api_key", "--config", str(store.config), stdin=API_KEY) == 0
    # A reader of crm's records, set up with the CLI as an operator would.
    config_arg = ("--config", str(store.config))
    assert await cli("roles", "add", "crm-reader", "--scopes", "source:crm:read", *config_arg) == 0
    assert await cli("users", "add", "ACME", "bot", "--role", "crm-reader", *config_arg) == 0
    capsys.readouterr()
    assert await cli("clients", "add", "crm bot", "--scopes", "source:crm:read", *config_arg) == 0
    client_id, secret = (part.split("=", 1)[1] for part in capsys.readouterr().out.split())
    assert await cli("allow", client_id, "ACME", "--as", "bot", *config_arg) == 0
    system = RestSystem({"SO-9": {"id": "SO-9", "amount": "12.34"}}, api_key=API_KEY)
    port = free_port()
    async with serving(system.app()) as url:
        config = serve_config(store, "secrets.key", sources=rest_sources(url), port=port)
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--config", str(config)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={k: v for k, v in os.environ.items() if k not in (KEY_ENV, "LEDGERGATE_DATABASE_URL")},
        )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                await wait_until_up(http, process)
                issued = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                         auth=(client_id, secret))
                assert issued.status_code == 200, issued.text
                bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
                query = (
                    '{ sourceRecord(system: "crm", recordType: "SalesOrder", recordId: "SO-9") '
                    "{ __typename ... on CrmSalesOrder { id amount } } }"
                )
                answer = (await http.post("/graphql", json={"query": query}, headers=bearer)).json()
                leak = (await http.post("/graphql", json={"query": "{ __schema { types { name fields { name } } } }"},
                                        headers=bearer)).text
        finally:
            process.terminate()
            out, err = await asyncio.to_thread(process.communicate, timeout=20)
    assert answer == {"data": {"sourceRecord": {"__typename": "CrmSalesOrder", "id": "SO-9", "amount": "12.34"}}}
    assert system.calls == [f"{BATCH_PATH}?ids=SO-9"]  # accepted: the key was the stored one
    captured = capsys.readouterr()
    assert_no_value(repr(answer), leak, out, err, captured.out, captured.err, caplog.text)


async def wait_until_up(http: httpx.AsyncClient, process: subprocess.Popen, limit: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.stderr.read()}")
        try:
            await http.get("/healthz", timeout=1)
            return
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"serve did not answer within {limit} s")


async def test_a_value_the_source_cannot_use_is_not_quoted_at_start(store, cli, capsys):
    """httpx refuses a non-ASCII header, quoting the character: the start error does not."""
    await cli("secrets", "set", "crm", "api_key", "--config", str(store.config), stdin=PASSWORD)
    config = serve_config(store, "secrets.key", sources=rest_sources("http://127.0.0.1:1"))
    capsys.readouterr()
    assert await cli("serve", "--config", str(config)) == 2
    err = capsys.readouterr().err
    assert err == (
        f"ledgergate: {store.folder / 'sources.toml'}: source 'crm': its options or credentials "
        "hold a character it cannot use (UnicodeEncodeError)\n"
    )
    assert not set(err) & set("äöΩ")
