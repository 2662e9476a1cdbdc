"""Source systems in the gateway's configuration: the [sources] and [secrets] sections,
and what `ledgergate serve`, `demo` and `demo-source` do with them. (The encrypted store of
their credentials: test_source_secrets.py.)"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gateway.cli import main
from gateway.config import ConfigError, load_settings
from gateway.secrets import new_key_text
from ledger.reference import create_entity
from ledger.store import LedgerDatabase
from tests.callers import Party, provision_tester

ROOT = Path(__file__).parents[2]
MOCK_SOURCES = ROOT / "tests" / "sources" / "configs" / "mock.toml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sources_and_key_files_are_read_relative_to_the_config(tmp_path):
    config = tmp_path / "conf" / "lg.toml"
    config.parent.mkdir()
    config.write_text('[sources]\nfile = "sources.toml"\n[secrets]\nkey_file = "keys/lg.key"\n')
    settings = load_settings(config)
    assert settings.sources_file == tmp_path / "conf" / "sources.toml"
    assert settings.secrets_key_file == tmp_path / "conf" / "keys" / "lg.key"
    config.write_text('[secrets]\nkey_file = "/etc/lg/secrets.key"\n')
    assert load_settings(config).secrets_key_file == Path("/etc/lg/secrets.key")
    assert load_settings(None).secrets_key_file is None


SECRETS_FILE_GONE = (
    "sources.secrets (a plaintext secrets file) is no longer read: store each credential "
    "encrypted with `ledgergate secrets set NAME KEY` and name the key with [secrets] key_file "
    "or LEDGERGATE_SECRETS_KEY"
)


@pytest.mark.parametrize("text,fragment", [
    ('[sources]\nfiles = "x.toml"\n', "unknown key(s) sources.['files']; expected file"),
    ("[sources]\nfile = 3\n", "sources.file must be a file path, got 3"),
    ('[sources]\nsecrets = "/etc/lg/secrets.toml"\n', SECRETS_FILE_GONE),
    ('sources = "x"\n', "[sources] must be a table"),
    ('[secrets]\nkey_file = ""\n', "secrets.key_file must be a file path, got ''"),
    ('[secrets]\nkey = "c2VjcmV0"\n', "unknown key(s) secrets.['key']; expected key_file"),
    ('secrets = "x"\n', "[secrets] must be a table"),
])
def test_bad_sources_sections_name_the_file_and_key(tmp_path, text, fragment):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(raised.value) == f"{config}: {fragment}"


@pytest.fixture
def migrated(tmp_path, monkeypatch) -> Path:
    db = tmp_path / "ledger.db"
    assert main(["db", "upgrade", "--url", f"sqlite:///{db}"]) == 0
    monkeypatch.delenv("LEDGERGATE_DATABASE_URL", raising=False)
    monkeypatch.delenv("LEDGERGATE_SECRETS_KEY", raising=False)
    return db


def set_secret(config: Path, name: str, key: str, value: str) -> None:
    """`ledgergate secrets set NAME KEY --config CONFIG`, the value on stdin."""
    stdin = sys.stdin
    sys.stdin = io.StringIO(value + "\n")
    try:
        assert main(["secrets", "set", name, key, "--config", str(config)]) == 0
    finally:
        sys.stdin = stdin


def serve_config(
    tmp_path: Path, db: Path, sources: str, secrets: dict[tuple[str, str], str] | None = None
) -> Path:
    """A gateway config serving `sources` with a new secrets key file (serve needs one: it
    seals the token signing keys); `secrets` ((name, key) → value) stored encrypted."""
    (tmp_path / "sources.toml").write_text(sources)
    text = f'[database]\nurl = "sqlite:///{db}"\n[sources]\nfile = "sources.toml"\n'
    assert main(["secrets", "keygen", "--out", str(tmp_path / "secrets.key")]) == 0
    text += '[secrets]\nkey_file = "secrets.key"\n'
    config = tmp_path / "lg.toml"
    config.write_text(text)
    for (name, key), value in (secrets or {}).items():
        set_secret(config, name, key, value)
    return config


def closed_port() -> int:
    return free_port()  # bound and released: nothing listens there


@pytest.mark.parametrize("sources,secrets,problem", [
    (
        '[systems.crm]\nshared = true\nkind = "soap"\n',
        None,
        "source 'crm': unknown kind 'soap'; known kinds: graphql, mock, rest, sql",
    ),
    (
        '[systems.crm]\nshared = true\nkind = "rest"\nbase_url = "http://127.0.0.1:1"\nauth = "api_key"\n'
        'credentials = "crm"\n[systems.crm.types.SalesOrder]\nbatch_path = "/so"\n'
        '[systems.crm.types.SalesOrder.fields]\nid = "ID!"\n',
        {("usage", "client_secret"): "s"},
        "source 'crm': credentials 'crm' are not stored: run `ledgergate secrets set crm KEY` "
        "(KEY: e.g. api_key)",
    ),
    (
        '[systems.crm]\nshared = true\nkind = "rest"\nbase_url = "http://127.0.0.1:1"\nauth = "api_key"\n'
        'credentials = "sk live 8f7e6d"\n[systems.crm.types.SalesOrder]\nbatch_path = "/so"\n'
        '[systems.crm.types.SalesOrder.fields]\nid = "ID!"\n',
        {},
        "source 'crm': credentials must be the name of stored secrets (1-64 letters, digits, "
        "'_', '.' or '-'), not the secret itself",
    ),
    (
        '[systems.crm]\nshared = true\nkind = "rest"\nbase_url = "http://127.0.0.1:1"\n'
        '[systems.crm.types.SalesOrder]\nkey = "number"\nbatch_path = "/so"\n'
        '[systems.crm.types.SalesOrder.fields]\nid = "ID!"\n',
        None,
        "source 'crm': types.SalesOrder: key field 'number' is not among its fields (id)",
    ),
    (
        '[systems.crm]\nshared = true\nkind = "mock"\n[systems.crm.types.Line]\ngraphql_name = "JournalLine"\n'
        '[systems.crm.types.Line.fields]\nid = "ID!"\n',
        None,
        "source 'crm': types.Line: GraphQL type name 'JournalLine' is taken by ledgergate's own "
        "schema; set another graphql_name",
    ),
])
def test_serve_stops_on_a_bad_sources_config_naming_file_system_and_problem(
    tmp_path, migrated, capsys, sources, secrets, problem
):
    config = serve_config(tmp_path, migrated, sources, secrets)
    capsys.readouterr()
    assert main(["serve", "--config", str(config)]) == 2
    assert capsys.readouterr().err.strip() == f"ledgergate: {tmp_path / 'sources.toml'}: {problem}"


def test_serve_stops_when_a_subgraphs_sdl_cannot_be_read(tmp_path, migrated, capsys):
    port = closed_port()
    config = serve_config(
        tmp_path, migrated, f'[systems.hr]\nshared = true\nkind = "graphql"\nurl = "http://127.0.0.1:{port}/graphql"\n'
    )
    capsys.readouterr()
    assert main(["serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"ledgergate: {tmp_path / 'sources.toml'}: source 'hr': cannot read the subgraph's SDL at "
        f"http://127.0.0.1:{port}/graphql: "
    ), err


def wait_for(url: str, process: subprocess.Popen, headers: dict | None = None, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited early: {process.stderr.read()}")
        try:
            httpx.get(url, headers=headers, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {limit} s")


@pytest.fixture
def run():
    started: list[subprocess.Popen] = []

    def start(*args: str, env: dict | None = None, cwd: Path = ROOT) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", *args],
            cwd=cwd, env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


async def add_entity(db: Path, systems=()) -> Party:
    """ACME, and a client that may read everything there (the tests' tester)."""
    database = LedgerDatabase.from_url(f"sqlite:///{db}")
    try:
        async with database.session(None) as session:
            await create_entity(session, "ACME", "Acme Software Inc.", "USD")
            await session.commit()
        return await provision_tester(database, systems)
    finally:
        await database.dispose()


def test_serve_answers_with_records_of_its_configured_sources(tmp_path, migrated, run):
    party = asyncio.run(add_entity(migrated, ["crm"]))
    shutil.copy(MOCK_SOURCES, tmp_path / "sources.toml")
    config = tmp_path / "lg.toml"
    port = free_port()
    config.write_text(
        f'[database]\nurl = "sqlite:///{migrated}"\n[http]\nport = {port}\n[sources]\nfile = "sources.toml"\n'
    )
    process = run("serve", "--config", str(config), env={"LEDGERGATE_SECRETS_KEY": new_key_text()})
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/healthz", process)
    issued = httpx.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                        auth=(party.client_id, party.secret), timeout=10)
    assert issued.status_code == 200, issued.text
    query = '{ sourceRecord(system: "crm", recordType: "SalesOrder", recordId: "SO-2") { __typename url ... on CrmSalesOrder { amount customerId } } }'
    response = httpx.post(f"{base}/graphql", json={"query": query}, timeout=10,
                          headers={"Authorization": f"Bearer {issued.json()['access_token']}"})
    assert response.json() == {"data": {"sourceRecord": {
        "__typename": "CrmSalesOrder", "url": "http://crm.test/sales-orders/SO-2",
        "amount": "250.50", "customerId": "C2",
    }}}


def test_demo_source_runs_one_system_alone_with_the_credentials_it_is_given(tmp_path, run):
    port = free_port()
    process = run(
        "demo-source", "crm", "--port", str(port), "--scale", "0.05",
        env={"LEDGERGATE_DEMO_CRM_API_KEY": "key-from-env"},
    )
    url = f"http://127.0.0.1:{port}/crm/customers/CUST-0001"
    wait_for(url, process)
    assert httpx.get(url, timeout=5).status_code == 401
    answer = httpx.get(url, headers={"X-API-Key": "key-from-env"}, timeout=5)
    assert answer.status_code == 200 and answer.json()["id"] == "CUST-0001"


def test_demo_source_refuses_an_unknown_system(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["demo-source", "erp", "--port", "9999"])
    assert exited.value.code == 2
    assert "invalid choice: 'erp'" in capsys.readouterr().err


def test_demo_refuses_a_ledger_built_at_another_scale(tmp_path, capsys):
    db = tmp_path / "demo.db"
    db.write_bytes(b"")
    (tmp_path / "demo.db.json").write_text('{"seed": 7, "scale": 1.0}\n')
    assert main(["demo", "--db", str(db), "--scale", "2"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"ledgergate: {db} was built at scale 1, not 2: add --reset to rebuild it"
    )


def test_demo_refuses_a_ledger_without_its_build_record(tmp_path, capsys):
    db = tmp_path / "demo.db"
    db.write_bytes(b"")
    assert main(["demo", "--db", str(db)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"ledgergate: {db} was built by an older ledgergate (no demo.db.json): run `ledgergate demo --reset`"
    )


def test_demo_source_needs_its_credentials_from_the_environment(capsys, monkeypatch):
    monkeypatch.delenv("LEDGERGATE_DEMO_USAGE_CLIENT_SECRET", raising=False)
    assert main(["demo-source", "usage", "--port", "9999"]) == 2
    assert capsys.readouterr().err.strip() == (
        "ledgergate: demo-source usage: set LEDGERGATE_DEMO_USAGE_CLIENT_SECRET to the "
        "credentials its clients must present (and store the same for the gateway with "
        "`ledgergate secrets set`)"
    )
