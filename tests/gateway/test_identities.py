"""Integration clients, web-services users, roles and allow-lists (`gateway.auth.identities`):
every operation and refusal, on a fresh migrated database (SQLite, or PostgreSQL when
LEDGERGATE_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields

import pytest
from sqlalchemy import event, insert, select, text

from gateway.auth import identities
from gateway.auth.identities import (
    AccessRefused,
    Actor,
    Allowance,
    ClientInfo,
    IdentityError,
    RoleInfo,
    UserInfo,
    actor,
    add_client,
    add_role,
    add_user,
    allow,
    authenticate_client,
    deactivate_user,
    disable_client,
    disallow,
    list_allowances,
    list_clients,
    list_roles,
    list_users,
)
from gateway.auth.secret_hash import verify_secret
from ledger.model import ClientEntity, WsUser
from ledger.reference import create_entity
from ledger.store import LedgerDatabase
from ledger.tenancy import EntityConfinementError

AUDITOR = "ledger:read audit:read statistical:read source:hr:read"
POSTER = "ledger:read ledger:post"
SCOPE_SHAPES = (
    "(ledgergate's scopes are admin:write, audit:read, documents:read, documents:write, federation:compose, ledger:post, ledger:read, outbox:operate, periods:reopen, statistical:read, "
    "source:<system>:read and source:<system>:sensitive)"
)
NOT_A_CLIENT_ID = (
    "not a client id (client ids are lgc_ and 16 letters, digits, '_' or '-', as "
    "`ledgergate clients add` printed)"
)


@dataclass
class Setup:
    db: LedgerDatabase
    softco: int
    hotelco: int


@pytest.fixture
async def setup(db) -> Setup:
    async with db.session(None) as session:
        softco = await create_entity(session, "SOFTCO", "Soft Co", "USD")
        hotelco = await create_entity(session, "HOTELCO", "Hotel Co", "EUR")
        await session.commit()
    return Setup(db, softco, hotelco)


async def rows(db: LedgerDatabase, sql: str) -> list[tuple]:
    async with db.engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql))]


def is_utc_timestamp(value: str) -> bool:
    parsed = dt.datetime.fromisoformat(value)
    return parsed.utcoffset() == dt.timedelta(0) and len(value) <= 32


async def refused(db, client_id, entity_code) -> AccessRefused:
    with pytest.raises(AccessRefused) as caught:
        await actor(db, client_id, entity_code)
    assert caught.value.reason == str(caught.value)
    return caught.value


# --- roles ---------------------------------------------------------------------------------


async def test_roles_are_added_and_listed_with_sorted_scopes(setup):
    role = await add_role(setup.db, "auditor", AUDITOR)
    assert role.name == "auditor" and role.scopes == set(AUDITOR.split())
    assert is_utc_timestamp(role.created_at)
    await add_role(setup.db, "poster", POSTER)
    await add_role(setup.db, "hr.sensitive-1", "source:hr:sensitive source:Payroll_2:read")
    assert [(r.name, r.scopes) for r in await list_roles(setup.db)] == [
        ("auditor", set(AUDITOR.split())),
        ("hr.sensitive-1", {"source:hr:sensitive", "source:Payroll_2:read"}),
        ("poster", {"ledger:read", "ledger:post"}),
    ]
    assert await rows(setup.db, "SELECT name, scopes FROM roles ORDER BY name") == [
        ("auditor", "audit:read ledger:read source:hr:read statistical:read"),
        ("hr.sensitive-1", "source:Payroll_2:read source:hr:sensitive"),
        ("poster", "ledger:post ledger:read"),
    ]


@pytest.mark.parametrize(("name", "scopes", "message"), [
    ("auditor", "ledger:read", "role 'auditor' already exists"),
    ("new", "ledger:read ledger:write", f"role 'new': unknown scope 'ledger:write' {SCOPE_SHAPES}"),
    ("new", "source:hr:write openid", f"role 'new': unknown scopes 'openid', 'source:hr:write' {SCOPE_SHAPES}"),
    ("new", "source:2hr:read", f"role 'new': unknown scope 'source:2hr:read' {SCOPE_SHAPES}"),
    ("new", "ledger:read  ledger:post", "role 'new': malformed scope: empty scope token (scopes are separated by one space)"),
    ("new", "ledger:read,ledger:post", f"role 'new': unknown scope 'ledger:read,ledger:post' {SCOPE_SHAPES}"),
    ("new", "", "role 'new' must grant at least one scope"),
    ("", "ledger:read", "a role name is 1-64 letters, digits, '_', '.' or '-'"),
    ("two words", "ledger:read", "a role name is 1-64 letters, digits, '_', '.' or '-'"),
    ("x" * 65, "ledger:read", "a role name is 1-64 letters, digits, '_', '.' or '-'"),
])
async def test_bad_roles_are_refused_and_nothing_is_written(setup, name, scopes, message):
    await add_role(setup.db, "auditor", AUDITOR)
    with pytest.raises(IdentityError) as caught:
        await add_role(setup.db, name, scopes)
    assert str(caught.value) == message
    assert await rows(setup.db, "SELECT name FROM roles") == [("auditor",)]


# --- clients -------------------------------------------------------------------------------


async def test_a_client_gets_an_id_and_a_secret_stored_only_as_a_hash(setup):
    client, secret = await add_client(setup.db, "Bill pay", "ledger:post ledger:read")
    assert re.fullmatch(r"lgc_[A-Za-z0-9_-]{16}", client.client_id)
    assert len(secret) == 43
    assert client == ClientInfo(client.client_id, "Bill pay", frozenset({"ledger:read", "ledger:post"}),
                                client.created_at, None)
    assert not client.disabled and is_utc_timestamp(client.created_at)
    [row] = await rows(setup.db, "SELECT client_id, name, secret_hash, allowed_scopes, disabled_at FROM api_clients")
    client_id, name, stored, scopes, disabled_at = row
    assert (client_id, name, scopes, disabled_at) == (client.client_id, "Bill pay", "ledger:post ledger:read", None)
    assert stored.startswith("scrypt$") and verify_secret(secret, stored)
    everything = " ".join(str(value) for row in await rows(setup.db, "SELECT * FROM api_clients") for value in row)
    assert secret not in everything
    # What is shown of a client never carries the secret or its hash.
    assert {f.name for f in fields(ClientInfo)} == {
        "client_id", "name", "allowed_scopes", "created_at", "disabled_at", "method"}
    assert client.method == "secret"
    [listed] = await list_clients(setup.db)
    assert listed == client and secret not in repr(listed) and stored not in repr(listed)


async def test_every_client_has_its_own_id_and_secret(setup):
    (a, secret_a), (b, secret_b) = [await add_client(setup.db, "Same name", "ledger:read") for _ in "ab"]
    assert a.client_id != b.client_id and secret_a != secret_b
    assert [c.client_id for c in await list_clients(setup.db)] == sorted([a.client_id, b.client_id])
    [[hash_a], [hash_b]] = await rows(setup.db, "SELECT secret_hash FROM api_clients ORDER BY id")
    assert not verify_secret(secret_a, hash_b) and not verify_secret(secret_b, hash_a)


@pytest.mark.parametrize(("name", "scopes", "message"), [
    ("bi", "ledger:read ledger:delete", f"client 'bi': unknown scope 'ledger:delete' {SCOPE_SHAPES}"),
    ("bi", "", "client 'bi' must be allowed at least one scope"),
    ("bi", " ledger:read", "client 'bi': malformed scope: empty scope token (scopes are separated by one space)"),
    ("", "ledger:read", "a client name is 1-200 printable characters, without leading or trailing spaces"),
    (" bi", "ledger:read", "a client name is 1-200 printable characters, without leading or trailing spaces"),
    ("b\ti", "ledger:read", "a client name is 1-200 printable characters, without leading or trailing spaces"),
    ("b" * 201, "ledger:read", "a client name is 1-200 printable characters, without leading or trailing spaces"),
])
async def test_bad_clients_are_refused_and_nothing_is_written(setup, name, scopes, message):
    with pytest.raises(IdentityError) as caught:
        await add_client(setup.db, name, scopes)
    assert str(caught.value) == message
    assert await rows(setup.db, "SELECT id FROM api_clients") == []


async def test_disabling_a_client(setup):
    client, _ = await add_client(setup.db, "bi", "ledger:read")
    other, _ = await add_client(setup.db, "other", "ledger:read")
    disabled = await disable_client(setup.db, client.client_id)
    assert disabled.disabled and is_utc_timestamp(disabled.disabled_at)
    assert disabled == ClientInfo(client.client_id, "bi", client.allowed_scopes, client.created_at,
                                  disabled.disabled_at)
    assert await list_clients(setup.db) == [disabled, other]
    with pytest.raises(IdentityError) as caught:
        await disable_client(setup.db, client.client_id)
    assert str(caught.value) == f"client {client.client_id} is already disabled (since {disabled.disabled_at})"
    with pytest.raises(IdentityError, match=r"^no client lgc_AAAAAAAAAAAAAAAA$"):
        await disable_client(setup.db, "lgc_AAAAAAAAAAAAAAAA")


async def test_something_that_is_not_a_client_id_is_not_echoed(setup):
    client, secret = await add_client(setup.db, "bi", "ledger:read")
    for call in (
        disable_client(setup.db, secret),
        allow(setup.db, secret, "SOFTCO", "bot"),
        disallow(setup.db, secret, "SOFTCO"),
        list_allowances(setup.db, secret),
    ):
        with pytest.raises(IdentityError) as caught:
            await call
        assert str(caught.value) == NOT_A_CLIENT_ID
    with pytest.raises(AccessRefused) as caught:
        await actor(setup.db, secret, None)
    assert (caught.value.kind, caught.value.reason) == ("unknown_client", "unknown client")


# --- authenticating a client ---------------------------------------------------------------


@pytest.fixture
def verifications(monkeypatch) -> list:
    """Every `verify_secret` call of `authenticate_client`, as (secret, stored is None)."""
    seen = []

    def counting(secret, stored):
        seen.append((secret, stored is None))
        return verify_secret(secret, stored)

    monkeypatch.setattr(identities, "verify_secret", counting)
    return seen


async def test_authenticate_client(setup, verifications):
    client, secret = await add_client(setup.db, "bi", "ledger:read")
    assert await authenticate_client(setup.db, client.client_id, secret) == client
    assert await authenticate_client(setup.db, client.client_id, secret + "x") is None
    assert await authenticate_client(setup.db, client.client_id, "") is None
    assert await authenticate_client(setup.db, client.client_id, None) is None
    other, other_secret = await add_client(setup.db, "other", "ledger:read")
    assert await authenticate_client(setup.db, client.client_id, other_secret) is None
    assert verifications == [
        (secret, False), (secret + "x", False), ("", False), (None, False), (other_secret, False)]


async def test_an_unknown_or_disabled_client_is_not_authenticated_and_costs_one_scrypt(setup, verifications):
    client, secret = await add_client(setup.db, "bi", "ledger:read")
    await disable_client(setup.db, client.client_id)
    assert await authenticate_client(setup.db, client.client_id, secret) is None
    assert verifications == [(secret, False)]  # the right secret, still refused
    verifications.clear()
    for unknown in ("lgc_AAAAAAAAAAAAAAAA", "not-an-id", "", None, "x" * 10_000):
        assert await authenticate_client(setup.db, unknown, secret) is None
    assert verifications == [(secret, True)] * 5


# --- users ---------------------------------------------------------------------------------


async def test_users_are_unique_per_entity_not_globally(setup):
    await add_role(setup.db, "auditor", AUDITOR)
    await add_role(setup.db, "poster", POSTER)
    bot = await add_user(setup.db, "SOFTCO", "bot", "auditor")
    assert bot == UserInfo("SOFTCO", "bot", "auditor", bot.created_at, None) and bot.active
    await add_user(setup.db, "HOTELCO", "bot", "poster")  # another entity: another user
    await add_user(setup.db, "SOFTCO", "ap-sync@softco", "poster")
    assert [(u.entity_code, u.username, u.role, u.active) for u in await list_users(setup.db)] == [
        ("HOTELCO", "bot", "poster", True),
        ("SOFTCO", "ap-sync@softco", "poster", True),
        ("SOFTCO", "bot", "auditor", True),
    ]
    assert [u.username for u in await list_users(setup.db, "HOTELCO")] == ["bot"]
    assert [u.username for u in await list_users(setup.db, "SOFTCO")] == ["ap-sync@softco", "bot"]
    with pytest.raises(IdentityError, match=r"^user 'bot' already exists in SOFTCO$"):
        await add_user(setup.db, "SOFTCO", "bot", "poster")
    assert await rows(setup.db, "SELECT entity_id, username FROM ws_users ORDER BY id") == [
        (setup.softco, "bot"), (setup.hotelco, "bot"), (setup.softco, "ap-sync@softco")]


@pytest.mark.parametrize(("entity", "username", "role", "message"), [
    ("NOPE", "bot", "auditor", "no entity with code 'NOPE'"),
    ("softco", "bot", "auditor", "no entity with code 'softco'"),
    ("SOFTCO", "bot", "nope", "no role 'nope'"),
    ("SOFTCO", "", "auditor", "a username is 1-64 letters, digits, '_', '.', '@' or '-'"),
    ("SOFTCO", "b o t", "auditor", "a username is 1-64 letters, digits, '_', '.', '@' or '-'"),
    ("SOFTCO", "bot", "", "a role name is 1-64 letters, digits, '_', '.' or '-'"),
])
async def test_bad_users_are_refused_and_nothing_is_written(setup, entity, username, role, message):
    await add_role(setup.db, "auditor", AUDITOR)
    with pytest.raises(IdentityError) as caught:
        await add_user(setup.db, entity, username, role)
    assert str(caught.value) == message
    assert await rows(setup.db, "SELECT id FROM ws_users") == []


async def test_listing_the_users_of_an_unknown_entity_is_refused(setup):
    with pytest.raises(IdentityError, match=r"^no entity with code 'NOPE'$"):
        await list_users(setup.db, "NOPE")
    assert await list_users(setup.db, "SOFTCO") == []


async def test_deactivating_a_user(setup):
    await add_role(setup.db, "auditor", AUDITOR)
    bot = await add_user(setup.db, "SOFTCO", "bot", "auditor")
    await add_user(setup.db, "HOTELCO", "bot", "auditor")
    gone = await deactivate_user(setup.db, "SOFTCO", "bot")
    assert gone == UserInfo("SOFTCO", "bot", "auditor", bot.created_at, gone.deactivated_at)
    assert not gone.active and is_utc_timestamp(gone.deactivated_at)
    assert [(u.entity_code, u.active) for u in await list_users(setup.db)] == [("HOTELCO", True), ("SOFTCO", False)]
    with pytest.raises(IdentityError) as caught:
        await deactivate_user(setup.db, "SOFTCO", "bot")
    assert str(caught.value) == f"user 'bot' of SOFTCO is already deactivated (since {gone.deactivated_at})"
    with pytest.raises(IdentityError, match=r"^no user 'ghost' in SOFTCO$"):
        await deactivate_user(setup.db, "SOFTCO", "ghost")
    with pytest.raises(IdentityError, match=r"^no entity with code 'NOPE'$"):
        await deactivate_user(setup.db, "NOPE", "bot")


# --- allow-lists and actors ----------------------------------------------------------------


@dataclass
class Wired:
    db: LedgerDatabase
    client: ClientInfo
    secret: str
    softco: int
    hotelco: int


@pytest.fixture
async def wired(setup) -> Wired:
    """Roles, a client, users in both entities; the client allowed for SOFTCO as `bot`."""
    await add_role(setup.db, "auditor", AUDITOR)
    await add_role(setup.db, "poster", POSTER)
    client, secret = await add_client(setup.db, "Bill pay", "ledger:read ledger:post")
    await add_user(setup.db, "SOFTCO", "bot", "auditor")
    await add_user(setup.db, "HOTELCO", "hotel-bot", "poster")
    assert await allow(setup.db, client.client_id, "SOFTCO", "bot") == Allowance(client.client_id, "SOFTCO", "bot")
    return Wired(setup.db, client, secret, setup.softco, setup.hotelco)


async def test_the_actor_of_an_allowed_client(wired):
    expected = Actor(
        client_id=wired.client.client_id, client_name="Bill pay",
        client_scopes=frozenset({"ledger:read", "ledger:post"}), entity_id=wired.softco,
        entity_code="SOFTCO", username="bot", role="auditor",
        role_scopes=frozenset(AUDITOR.split()), entity_name="Soft Co", entity_currency="USD",
    )
    assert await actor(wired.db, wired.client.client_id, "SOFTCO") == expected
    assert await actor(wired.db, wired.client.client_id, None) == expected  # its only entity
    assert await list_allowances(wired.db) == [Allowance(wired.client.client_id, "SOFTCO", "bot")]
    assert await list_allowances(wired.db, wired.client.client_id) == await list_allowances(wired.db)


async def test_the_actor_takes_one_sql_statement(wired):
    await add_user(wired.db, "HOTELCO", "bot", "poster")
    await allow(wired.db, wired.client.client_id, "HOTELCO", "bot")
    await actor(wired.db, wired.client.client_id, "SOFTCO")  # the pool's connection is set up
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(wired.db.engine.sync_engine, "before_cursor_execute", listener)
    try:
        await actor(wired.db, wired.client.client_id, "HOTELCO")
        with pytest.raises(AccessRefused):
            await actor(wired.db, wired.client.client_id, None)
    finally:
        event.remove(wired.db.engine.sync_engine, "before_cursor_execute", listener)
    assert len(seen) == 2


async def test_a_user_of_another_entity_cannot_be_mapped(wired):
    await add_client(wired.db, "x", "ledger:read")
    with pytest.raises(IdentityError) as caught:
        await allow(wired.db, wired.client.client_id, "HOTELCO", "bot")
    assert str(caught.value) == (
        "no user 'bot' in HOTELCO (there is one in SOFTCO; a client acts in an entity only as a "
        "user of that entity)"
    )
    with pytest.raises(IdentityError, match=r"^no user 'ghost' in HOTELCO$"):
        await allow(wired.db, wired.client.client_id, "HOTELCO", "ghost")
    await refused(wired.db, wired.client.client_id, "HOTELCO")
    # The database itself refuses it too: the allow-list's user key includes the entity.
    async with wired.db.engine.connect() as connection:
        bot = await connection.scalar(select(WsUser.id).where(WsUser.username == "bot"))
        client_pk = await connection.scalar(text("SELECT id FROM api_clients WHERE name = 'Bill pay'"))
    with pytest.raises(Exception, match="(?i)foreign key"):
        async with wired.db.engine.begin() as connection:
            await connection.execute(insert(ClientEntity).values(
                api_client_id=client_pk, entity_id=wired.hotelco, ws_user_id=bot, created_at="now"))
    assert await rows(wired.db, "SELECT entity_id FROM client_entities") == [(wired.softco,)]


async def test_allow_refusals(wired):
    client_id = wired.client.client_id
    cases = [
        ((client_id, "SOFTCO", "bot"),
         f"client {client_id} is already allowed for SOFTCO (as 'bot'): disallow it first to change the user"),
        ((client_id, "NOPE", "bot"), "no entity with code 'NOPE'"),
        (("lgc_AAAAAAAAAAAAAAAA", "SOFTCO", "bot"), "no client lgc_AAAAAAAAAAAAAAAA"),
        ((client_id, "SOFTCO", "not a name"), "a username is 1-64 letters, digits, '_', '.', '@' or '-'"),
    ]
    for arguments, message in cases:
        with pytest.raises(IdentityError) as caught:
            await allow(wired.db, *arguments)
        assert str(caught.value) == message
    await deactivate_user(wired.db, "HOTELCO", "hotel-bot")
    with pytest.raises(IdentityError, match=r"^user 'hotel-bot' of HOTELCO is deactivated$"):
        await allow(wired.db, client_id, "HOTELCO", "hotel-bot")
    await disable_client(wired.db, client_id)
    await add_user(wired.db, "HOTELCO", "other", "poster")
    with pytest.raises(IdentityError, match=f"^client {client_id} is disabled$"):
        await allow(wired.db, client_id, "HOTELCO", "other")
    assert await rows(wired.db, "SELECT entity_id FROM client_entities") == [(wired.softco,)]


async def test_disallow(wired):
    client_id = wired.client.client_id
    await disallow(wired.db, client_id, "SOFTCO")
    assert await list_allowances(wired.db) == []
    reason = await refused(wired.db, client_id, "SOFTCO")
    assert (reason.kind, reason.reason) == ("not_allowed", f"client {client_id} is not allowed for 'SOFTCO'")
    with pytest.raises(IdentityError, match=f"^client {client_id} is not allowed for SOFTCO$"):
        await disallow(wired.db, client_id, "SOFTCO")
    with pytest.raises(IdentityError, match=r"^no entity with code 'NOPE'$"):
        await disallow(wired.db, client_id, "NOPE")
    with pytest.raises(IdentityError, match=r"^no client lgc_AAAAAAAAAAAAAAAA$"):
        await disallow(wired.db, "lgc_AAAAAAAAAAAAAAAA", "SOFTCO")
    # Allowed again, as another user: a new entry.
    await add_user(wired.db, "SOFTCO", "bot2", "poster")
    await allow(wired.db, client_id, "SOFTCO", "bot2")
    assert (await actor(wired.db, client_id, None)).role == "poster"


async def test_every_refusal_of_actor(wired):
    client_id = wired.client.client_id
    cases = []
    cases.append(("lgc_AAAAAAAAAAAAAAAA", "SOFTCO", "unknown_client", "unknown client lgc_AAAAAAAAAAAAAAAA"))
    cases.append(("whatever", "SOFTCO", "unknown_client", "unknown client"))
    cases.append((None, None, "unknown_client", "unknown client"))
    # An entity not on the allow-list, and one that does not exist, are refused alike.
    cases.append((client_id, "HOTELCO", "not_allowed", f"client {client_id} is not allowed for 'HOTELCO'"))
    cases.append((client_id, "NOPE", "not_allowed", f"client {client_id} is not allowed for 'NOPE'"))
    cases.append((client_id, "x" * 100, "not_allowed", f"client {client_id} is not allowed for {'x' * 64 + '…'!r}"))
    lonely, _ = await add_client(wired.db, "lonely", "ledger:read")
    cases.append((lonely.client_id, None, "no_entity", f"client {lonely.client_id} is not allowed for any entity"))
    cases.append((lonely.client_id, "SOFTCO", "not_allowed", f"client {lonely.client_id} is not allowed for 'SOFTCO'"))
    for client, entity, kind, reason in cases:
        refusal = await refused(wired.db, client, entity)
        assert (refusal.kind, refusal.reason) == (kind, reason)

    # Several entities: a choice must be made.
    await add_user(wired.db, "HOTELCO", "bot", "poster")
    await allow(wired.db, client_id, "HOTELCO", "bot")
    refusal = await refused(wired.db, client_id, None)
    assert (refusal.kind, refusal.reason) == (
        "several_entities", f"client {client_id} is allowed for several entities (HOTELCO, SOFTCO): name one")
    assert (await actor(wired.db, client_id, "HOTELCO")).role == "poster"
    assert (await actor(wired.db, client_id, "SOFTCO")).role == "auditor"

    # A deactivated user: refused in its entity only.
    await deactivate_user(wired.db, "HOTELCO", "bot")
    refusal = await refused(wired.db, client_id, "HOTELCO")
    assert (refusal.kind, refusal.reason) == (
        "user_deactivated", f"user 'bot' of HOTELCO, as whom client {client_id} acts, is deactivated")
    assert (await actor(wired.db, client_id, "SOFTCO")).username == "bot"

    # A disabled client: refused everywhere, before anything else.
    await disable_client(wired.db, client_id)
    for entity in ("SOFTCO", "HOTELCO", None, "NOPE"):
        refusal = await refused(wired.db, client_id, entity)
        assert (refusal.kind, refusal.reason) == ("client_disabled", f"client {client_id} is disabled")


async def test_users_and_allow_lists_are_confined_like_ledger_rows(wired):
    """In a session confined to an entity, only that entity's users and allow-list entries
    exist; in a session of no entity, reading them needs ALL_ENTITIES."""
    await allow(wired.db, (await add_client(wired.db, "h", "ledger:read"))[0].client_id, "HOTELCO", "hotel-bot")
    async with wired.db.session(wired.softco) as session:
        assert (await session.scalars(select(WsUser.username))).all() == ["bot"]
        assert (await session.scalars(select(ClientEntity.entity_id))).all() == [wired.softco]
    async with wired.db.session(wired.hotelco) as session:
        assert (await session.scalars(select(WsUser.username))).all() == ["hotel-bot"]
        assert (await session.scalars(select(ClientEntity.entity_id))).all() == [wired.hotelco]
    async with wired.db.session(None) as session:
        with pytest.raises(EntityConfinementError):
            await session.scalars(select(WsUser.username))


async def test_database_errors_are_named_by_type_only(wired):
    async with wired.db.engine.begin() as connection:
        await connection.execute(text("DROP TABLE client_entities"))
    with pytest.raises(IdentityError) as caught:
        await allow(wired.db, wired.client.client_id, "HOTELCO", "hotel-bot")
    message = str(caught.value)
    assert message.startswith("the clients, users and roles could not be read or written: ")
    assert "client_entities" not in message and wired.client.client_id not in message


def test_role_info_is_frozen():
    role = RoleInfo("r", frozenset({"ledger:read"}), "2026-01-01T00:00:00+00:00")
    with pytest.raises(AttributeError):
        role.name = "other"  # type: ignore[misc]
