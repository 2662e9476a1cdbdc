"""`ledgergate roles|clients|users|allow|disallow` end to end, through `gateway.cli.main`, on a
migrated SQLite file (the CLI runs in a thread: it runs its own event loop)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from ledger.migrate import head_revision
from gateway.auth.identities import (
    AccessRefused,
    actor,
    authenticate_client,
    list_clients,
    list_users,
)
from gateway.cli import main
from ledger.migrate import upgrade
from ledger.reference import create_entity
from ledger.store import LedgerDatabase

ADDED = re.compile(r"client_id=(lgc_[A-Za-z0-9_-]{16}) client_secret=([A-Za-z0-9_-]{43})\n")
SCOPE_SHAPES = (
    "(ledgergate's scopes are admin:write, audit:read, documents:read, documents:write, federation:compose, ledger:post, ledger:read, outbox:operate, periods:reopen, statistical:read, "
    "source:<system>:read and source:<system>:sensitive)"
)


@dataclass
class Ledger:
    db: LedgerDatabase
    config: Path
    url: str


@pytest.fixture
async def ledger(tmp_path, monkeypatch) -> AsyncIterator[Ledger]:
    monkeypatch.delenv("LEDGERGATE_DATABASE_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    db = LedgerDatabase.from_url(url)
    await upgrade(db.engine)
    async with db.session(None) as session:
        await create_entity(session, "SOFTCO", "Soft Co", "USD")
        await create_entity(session, "HOTELCO", "Hotel Co", "EUR")
        await session.commit()
    config = tmp_path / "lg.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')
    try:
        yield Ledger(db, config, url)
    finally:
        await db.dispose()


@pytest.fixture
def cli(ledger, capsys):
    """`ledgergate ARGV… --config FILE`: (exit code, stdout, stderr)."""

    async def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = await asyncio.to_thread(main, [*argv, "--config", str(ledger.config)])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


async def add_client(cli, name="Bill pay", scopes="ledger:read ledger:post") -> tuple[str, str]:
    code, out, _ = await cli("clients", "add", name, "--scopes", scopes)
    assert code == 0
    match = ADDED.fullmatch(out)
    assert match, out
    return match.group(1), match.group(2)


async def test_administering_clients_users_roles_and_allow_lists(ledger, cli):
    assert await cli("roles", "add", "auditor", "--scopes", "ledger:read audit:read") == (
        0, "", "added role auditor: audit:read ledger:read\n")
    assert await cli("roles", "add", "poster", "--scopes", "ledger:post ledger:read") == (
        0, "", "added role poster: ledger:post ledger:read\n")
    assert await cli("roles", "list") == (0, "auditor\taudit:read ledger:read\nposter\tledger:post ledger:read\n", "")

    code, out, err = await cli("clients", "add", "Bill pay", "--scopes", "ledger:read ledger:post")
    assert code == 0
    match = ADDED.fullmatch(out)
    assert match, out
    client_id, secret = match.groups()
    assert err == (
        f"added client {client_id} (Bill pay): the secret above is shown only now (ledgergate "
        f"keeps only a hash of it); allow the client for an entity with `ledgergate allow "
        f"{client_id} ENTITY --as USERNAME`\n"
    )
    assert (await authenticate_client(ledger.db, client_id, secret)).name == "Bill pay"
    async with ledger.db.engine.connect() as connection:
        stored = " ".join(str(v) for row in await connection.execute(text("SELECT * FROM api_clients")) for v in row)
    assert secret not in stored
    assert await cli("clients", "list") == (0, f"{client_id}\tBill pay\tactive\tsecret\tledger:post ledger:read\t-\n", "")

    assert await cli("users", "add", "SOFTCO", "bot", "--role", "auditor") == (
        0, "", "added user bot of SOFTCO with role auditor\n")
    assert await cli("users", "add", "HOTELCO", "bot", "--role", "poster") == (
        0, "", "added user bot of HOTELCO with role poster\n")
    assert await cli("users", "list") == (0, "HOTELCO\tbot\tposter\tactive\nSOFTCO\tbot\tauditor\tactive\n", "")
    assert await cli("users", "list", "SOFTCO") == (0, "SOFTCO\tbot\tauditor\tactive\n", "")

    assert await cli("allow", client_id, "SOFTCO", "--as", "bot") == (
        0, "", f"allowed client {client_id} for SOFTCO, acting as bot\n")
    assert (await actor(ledger.db, client_id, None)).role == "auditor"
    assert await cli("allow", client_id, "HOTELCO", "--as", "bot") == (
        0, "", f"allowed client {client_id} for HOTELCO, acting as bot\n")
    assert await cli("clients", "list") == (
        0, f"{client_id}\tBill pay\tactive\tsecret\tledger:post ledger:read\tHOTELCO as bot, SOFTCO as bot\n", "")
    assert (await actor(ledger.db, client_id, "HOTELCO")).role_scopes == {"ledger:read", "ledger:post"}

    # Each cut-off takes effect on the next resolution of the client's actor.
    assert await cli("users", "deactivate", "HOTELCO", "bot") == (
        0, "", "deactivated user bot of HOTELCO: clients acting as it get no more tokens and their "
        "tokens are refused\n")
    [hotel_bot, _] = await list_users(ledger.db)
    assert await cli("users", "list") == (
        0, f"HOTELCO\tbot\tposter\tdeactivated {hotel_bot.deactivated_at}\nSOFTCO\tbot\tauditor\tactive\n", "")
    with pytest.raises(AccessRefused, match="is deactivated$"):
        await actor(ledger.db, client_id, "HOTELCO")

    assert await cli("disallow", client_id, "SOFTCO") == (
        0, "", f"client {client_id} is no longer allowed for SOFTCO: its tokens for it are refused\n")
    with pytest.raises(AccessRefused, match="is not allowed for 'SOFTCO'$"):
        await actor(ledger.db, client_id, "SOFTCO")

    assert await cli("clients", "disable", client_id) == (
        0, "", f"disabled client {client_id} (Bill pay): it gets no more tokens and its tokens are refused\n")
    [client] = await list_clients(ledger.db)
    assert await cli("clients", "list") == (
        0, f"{client_id}\tBill pay\tdisabled {client.disabled_at}\tsecret\tledger:post ledger:read\tHOTELCO as bot\n", "")
    with pytest.raises(AccessRefused, match="is disabled$"):
        await actor(ledger.db, client_id, "HOTELCO")
    assert await authenticate_client(ledger.db, client_id, secret) is None

    # And back: a client enabled, a user activated, work again; twice is an error.
    assert await cli("clients", "enable", client_id) == (0, "", (
        f"enabled client {client_id} (Bill pay): it gets tokens again (within 5 s on running "
        "gateways); reset its secret too if it was disabled for a leak\n"))
    assert (await authenticate_client(ledger.db, client_id, secret)).name == "Bill pay"
    with pytest.raises(AccessRefused, match="is deactivated$"):
        await actor(ledger.db, client_id, "HOTELCO")
    assert await cli("users", "activate", "HOTELCO", "bot") == (0, "", (
        "activated user bot of HOTELCO: clients acting as it get tokens again (within 5 s on "
        "running gateways)\n"))
    assert (await actor(ledger.db, client_id, "HOTELCO")).role == "poster"
    assert await cli("users", "list", "HOTELCO") == (0, "HOTELCO\tbot\tposter\tactive\n", "")
    code, _, err = await cli("clients", "enable", client_id)
    assert (code, err) == (2, f"ledgergate: client {client_id} is not disabled\n")
    code, _, err = await cli("users", "activate", "HOTELCO", "bot")
    assert (code, err) == (2, "ledgergate: user 'bot' of HOTELCO is not deactivated\n")


async def test_listings_never_show_a_secret_or_its_hash(ledger, cli):
    client_id, secret = await add_client(cli)
    for argv in (["clients", "list"], ["roles", "list"], ["users", "list"]):
        code, out, err = await cli(*argv)
        assert code == 0 and secret not in out + err and "scrypt$" not in out + err
    code, out, err = await cli("clients", "disable", client_id)
    assert secret not in out + err and "scrypt$" not in out + err


async def test_errors_exit_2_with_the_message(ledger, cli):
    client_id, secret = await add_client(cli)
    await cli("roles", "add", "auditor", "--scopes", "ledger:read")
    await cli("users", "add", "SOFTCO", "bot", "--role", "auditor")
    await cli("users", "add", "HOTELCO", "hotel-bot", "--role", "auditor")
    await cli("allow", client_id, "SOFTCO", "--as", "bot")
    cases = [
        (["roles", "add", "auditor", "--scopes", "ledger:read"], "role 'auditor' already exists"),
        (["roles", "add", "bi", "--scopes", "ledger:read ledger:write"],
         f"role 'bi': unknown scope 'ledger:write' {SCOPE_SHAPES}"),
        (["roles", "add", "bi", "--scopes", ""], "role 'bi' must grant at least one scope"),
        (["clients", "add", "bi", "--scopes", "ledger:read,audit:read"],
         f"client 'bi': unknown scope 'ledger:read,audit:read' {SCOPE_SHAPES}"),
        (["clients", "disable", "lgc_AAAAAAAAAAAAAAAA"], "no client lgc_AAAAAAAAAAAAAAAA"),
        # A secret pasted where the id goes; prefixed, as token_urlsafe may start with "-",
        # which argparse would take for an option.
        (["clients", "disable", "x" + secret],
         "not a client id (client ids are lgc_ and 16 letters, digits, '_' or '-', as "
         "`ledgergate clients add` printed)"),
        (["users", "add", "NOPE", "bot", "--role", "auditor"], "no entity with code 'NOPE'"),
        (["users", "add", "SOFTCO", "bot", "--role", "auditor"], "user 'bot' already exists in SOFTCO"),
        (["users", "add", "SOFTCO", "bi", "--role", "nope"], "no role 'nope'"),
        (["users", "list", "NOPE"], "no entity with code 'NOPE'"),
        (["users", "deactivate", "SOFTCO", "ghost"], "no user 'ghost' in SOFTCO"),
        (["allow", client_id, "HOTELCO", "--as", "bot"],
         "no user 'bot' in HOTELCO (there is one in SOFTCO; a client acts in an entity only as a "
         "user of that entity)"),
        (["allow", client_id, "SOFTCO", "--as", "bot"],
         f"client {client_id} is already allowed for SOFTCO (as 'bot'): disallow it first to change the user"),
        (["disallow", client_id, "HOTELCO"], f"client {client_id} is not allowed for HOTELCO"),
    ]
    for argv, message in cases:
        assert await cli(*argv) == (2, "", f"ledgergate: {message}\n"), argv
    await cli("clients", "disable", client_id)
    await cli("users", "deactivate", "SOFTCO", "bot")
    code, _, err = await cli("clients", "disable", client_id)
    assert code == 2 and re.fullmatch(
        f"ledgergate: client {client_id} is already disabled \\(since [0-9T:+-]+\\)\n", err)
    code, _, err = await cli("users", "deactivate", "SOFTCO", "bot")
    assert code == 2 and re.fullmatch(
        r"ledgergate: user 'bot' of SOFTCO is already deactivated \(since [0-9T:+-]+\)\n", err)
    assert await cli("allow", client_id, "HOTELCO", "--as", "hotel-bot") == (
        2, "", f"ledgergate: client {client_id} is disabled\n")
    # Nothing of the refused commands was written.
    assert [u.username for u in await list_users(ledger.db)] == ["hotel-bot", "bot"]
    assert [c.name for c in await list_clients(ledger.db)] == ["Bill pay"]


async def test_missing_arguments_are_usage_errors(cli, capsys):
    for argv in (["allow", "lgc_AAAAAAAAAAAAAAAA", "SOFTCO"], ["roles", "add", "bi"],
                 ["clients", "add", "bi"], ["users", "add", "SOFTCO", "bot"]):
        with pytest.raises(SystemExit) as exited:
            await cli(*argv)
        assert exited.value.code == 2
        assert "the following arguments are required: --" in capsys.readouterr().err


async def test_a_database_not_migrated_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LEDGERGATE_DATABASE_URL", raising=False)
    config = tmp_path / "empty.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "empty.db"}"\n')
    for argv in (
        ["roles", "add", "auditor", "--scopes", "ledger:read"], ["roles", "list"],
        ["clients", "add", "bi", "--scopes", "ledger:read"], ["clients", "list"],
        ["clients", "disable", "lgc_AAAAAAAAAAAAAAAA"], ["users", "add", "SOFTCO", "bot", "--role", "r"],
        ["users", "list"], ["users", "deactivate", "SOFTCO", "bot"],
        ["allow", "lgc_AAAAAAAAAAAAAAAA", "SOFTCO", "--as", "bot"], ["disallow", "lgc_AAAAAAAAAAAAAAAA", "SOFTCO"],
    ):
        assert await asyncio.to_thread(main, [*argv, "--config", str(config)]) == 2
        out = capsys.readouterr()
        assert (out.out, out.err) == ("", (
            f"ledgergate: the database schema is at revision none, this version needs {head_revision()}: run "
            "`ledgergate db upgrade` first\n"
        )), argv


async def test_the_database_url_may_come_from_the_environment(ledger, capsys, monkeypatch):
    monkeypatch.setenv("LEDGERGATE_DATABASE_URL", ledger.url)
    assert await asyncio.to_thread(main, ["roles", "add", "auditor", "--scopes", "audit:read"]) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["roles", "list"]) == 0
    assert capsys.readouterr().out == "auditor\taudit:read\n"
