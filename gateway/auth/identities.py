"""Integration clients, web-services users, roles and the entities' allow-lists.

Two levels of credentials, as finance systems do it:

- an *integration client* (`api_clients`) authenticates with its generated `client_id` and
  a secret stored only as a salted hash, or — a client added with a JWK set — with a JWT
  signed by its private key (`private_key_jwt`; `client_key_set`, `use_assertion_jti`;
  such a client has no secret: its hash is NO_SECRET, which nothing matches); it may ask
  for at most its allowed scopes;
- it may reach an entity only if it is on that entity's allow-list (`client_entities`),
  where it acts as one *web-services user* of that entity (`ws_users`), whose *role*
  (`roles`) grants scopes.

A token's scopes are requested ∩ the client's ∩ the role's (`gateway.auth.scopes.grant`);
`actor` resolves what a token request, or a request bearing a token, acts as, and refuses
(`AccessRefused`) a disabled client, an entity not on its allow-list or a deactivated user.

Clients and roles are the gateway's; users and allow-list entries are one entity's each
(`EntityScoped`, so a session confined to an entity sees only its own). Everything here
runs on plain engine connections, outside `ledger.tenancy`'s confinement, because it is
cross-entity by nature: every statement names its entity explicitly, by a join on
`entities.code` or an `entity_id` predicate, and the allow-list's user key
(ws_user_id, entity_id) makes the database itself refuse a user of another entity. Each
operation is one transaction: an error leaves nothing half-written.

No message, log line or listing here ever carries a client secret or its hash.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

from joserfc.jwk import KeySet
from sqlalchemy import and_, insert, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.model import ApiClient, ClientAssertionJti, ClientEntity, Entity, Role, WsUser
from ledger.store import LedgerDatabase

from .client_keys import ClientKeysError, load_client_jwks, parse_client_jwks
from .scopes import check_known_shape, format_scope, parse_scope
from .secret_hash import hash_secret, new_client_secret, verify_secret

CLIENT_ID_PREFIX = "lgc_"
CLIENT_ID_PATTERN = re.compile(r"lgc_[A-Za-z0-9_-]{16}")
ROLE_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
CLIENT_NAME_MAX = 200
# The secret hash of a client that authenticates with private_key_jwt: not a hash any
# secret can match (`secret_hash.verify_secret` refuses what it cannot parse).
NO_SECRET = "!private_key_jwt"
SECRET = "secret"
PRIVATE_KEY_JWT = "private_key_jwt"

roles = Role.__table__
clients = ApiClient.__table__
users = WsUser.__table__
allowed = ClientEntity.__table__
entities = Entity.__table__
used_jtis = ClientAssertionJti.__table__


class IdentityError(ValueError):
    """An administration request that cannot be carried out; nothing was written."""


class AccessRefused(Exception):
    """A client may not act (in that entity) now.

    Attributes:
        reason: a sentence for logs and the audit trail (never a secret).
        kind: which refusal, for callers that map it to a protocol error: one of
            `unknown_client`, `client_disabled`, `not_allowed`, `no_entity`,
            `several_entities`, `user_deactivated`.
    """

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True)
class RoleInfo:
    name: str
    scopes: frozenset[str]
    created_at: str


@dataclass(frozen=True)
class ClientInfo:
    """An integration client as it may be shown: never its secret or the secret's hash."""

    client_id: str
    name: str
    allowed_scopes: frozenset[str]
    created_at: str
    disabled_at: str | None = None
    method: str = SECRET  # how it authenticates: SECRET or PRIVATE_KEY_JWT

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(frozen=True)
class UserInfo:
    entity_code: str
    username: str
    role: str
    created_at: str
    deactivated_at: str | None = None

    @property
    def active(self) -> bool:
        return self.deactivated_at is None


@dataclass(frozen=True)
class Allowance:
    """An allow-list entry: `client_id` may act in `entity_code` as `username`."""

    client_id: str
    entity_code: str
    username: str


@dataclass(frozen=True)
class Actor:
    """Whom a token request or a token acts as: a client, in one entity, as one of its
    users. `client_scopes` ∩ `role_scopes` bounds every scope it may hold. The entity's
    name and base currency come along so that a principal needs no further query."""

    client_id: str
    client_name: str
    client_scopes: frozenset[str]
    entity_id: int
    entity_code: str
    username: str
    role: str
    role_scopes: frozenset[str]
    entity_name: str
    entity_currency: str


# --- helpers -------------------------------------------------------------------------------


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _database_error(error: SQLAlchemyError) -> IdentityError:
    # SQLAlchemy's messages carry the statement and its parameters; name the failure only.
    cause = getattr(error, "orig", None)
    detail = f"{type(error).__name__}" + (f" ({type(cause).__name__})" if cause is not None else "")
    return IdentityError(f"the clients, users and roles could not be read or written: {detail}")


@contextlib.asynccontextmanager
async def _transaction(db: LedgerDatabase) -> AsyncIterator[AsyncConnection]:
    try:
        async with db.engine.begin() as connection:
            yield connection
    except SQLAlchemyError as error:
        raise _database_error(error) from None


def _scopes(text: str, who: str, what: str) -> str:
    """The stored form of an admin's `scopes`: well-formed, of ledgergate's shapes, not empty."""
    if not isinstance(text, str):
        raise IdentityError(f"{who}: scopes must be a space-separated string")
    try:
        scopes = check_known_shape(parse_scope(text))
    except ValueError as error:
        raise IdentityError(f"{who}: {error}") from None
    if not scopes:
        raise IdentityError(f"{who} must {what} at least one scope")
    return format_scope(scopes)


def _check_client_id(client_id: object) -> str:
    if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.fullmatch(client_id):
        # Not echoed: it may be a secret pasted in the wrong place.
        raise IdentityError(
            f"not a client id (client ids are {CLIENT_ID_PREFIX} and 16 letters, digits, "
            "'_' or '-', as `ledgergate clients add` printed)"
        )
    return client_id


def _check_role_name(name: object) -> str:
    if not isinstance(name, str) or not ROLE_PATTERN.fullmatch(name):
        raise IdentityError("a role name is 1-64 letters, digits, '_', '.' or '-'")
    return name


def _check_username(username: object) -> str:
    if not isinstance(username, str) or not USERNAME_PATTERN.fullmatch(username):
        raise IdentityError("a username is 1-64 letters, digits, '_', '.', '@' or '-'")
    return username


def _check_client_name(name: object) -> str:
    if (
        not isinstance(name, str)
        or not name.strip()
        or name != name.strip()
        or len(name) > CLIENT_NAME_MAX
        or not name.isprintable()
    ):
        raise IdentityError(
            f"a client name is 1-{CLIENT_NAME_MAX} printable characters, without leading or "
            "trailing spaces"
        )
    return name


async def _entity_id(connection: AsyncConnection, code: str) -> int:
    entity_id = await connection.scalar(select(entities.c.id).where(entities.c.code == code))
    if entity_id is None:
        raise IdentityError(f"no entity with code {code!r}")
    return entity_id


async def _client_row(connection: AsyncConnection, client_id: str):
    row = (
        await connection.execute(
            select(clients.c.id, clients.c.disabled_at).where(clients.c.client_id == client_id)
        )
    ).first()
    if row is None:
        raise IdentityError(f"no client {client_id}")
    return row


def _client_info(row) -> ClientInfo:
    return ClientInfo(
        client_id=row.client_id,
        name=row.name,
        allowed_scopes=parse_scope(row.allowed_scopes),
        created_at=row.created_at,
        disabled_at=row.disabled_at,
        method=SECRET if row.jwks is None else PRIVATE_KEY_JWT,
    )


_CLIENT_COLUMNS = (
    clients.c.client_id, clients.c.name, clients.c.allowed_scopes, clients.c.created_at,
    clients.c.disabled_at, clients.c.jwks,
)


def _client_jwks(jwks: object) -> str:
    if not isinstance(jwks, str):
        raise IdentityError("the JWK set must be JSON text")
    try:
        return parse_client_jwks(jwks)
    except ClientKeysError as error:
        raise IdentityError(str(error)) from None


# --- roles ---------------------------------------------------------------------------------


async def add_role(db: LedgerDatabase, name: str, scopes: str) -> RoleInfo:
    """A new role granting `scopes` (space-separated, ledgergate's scope shapes)."""
    _check_role_name(name)
    stored = _scopes(scopes, f"role {name!r}", "grant")
    now = _now()
    async with _transaction(db) as connection:
        if await connection.scalar(select(roles.c.id).where(roles.c.name == name)) is not None:
            raise IdentityError(f"role {name!r} already exists")
        await connection.execute(insert(roles).values(name=name, scopes=stored, created_at=now))
    return RoleInfo(name, parse_scope(stored), now)


async def list_roles(db: LedgerDatabase) -> list[RoleInfo]:
    async with _transaction(db) as connection:
        rows = await connection.execute(
            select(roles.c.name, roles.c.scopes, roles.c.created_at).order_by(roles.c.name)
        )
        return [RoleInfo(name, parse_scope(scopes), created) for name, scopes, created in rows]


# --- clients -------------------------------------------------------------------------------


async def add_client(db: LedgerDatabase, name: str, scopes: str) -> tuple[ClientInfo, str]:
    """A new integration client allowed `scopes`, and its secret: returned this once, stored
    only as a salted hash. It reaches no entity until `allow`ed."""
    _check_client_name(name)
    stored = _scopes(scopes, f"client {name!r}", "be allowed")
    secret = new_client_secret()
    secret_hash = await asyncio.to_thread(hash_secret, secret)
    client_id = CLIENT_ID_PREFIX + secrets.token_urlsafe(12)
    now = _now()
    async with _transaction(db) as connection:
        await connection.execute(
            insert(clients).values(
                client_id=client_id, name=name, secret_hash=secret_hash,
                allowed_scopes=stored, created_at=now,
            )
        )
    return ClientInfo(client_id, name, parse_scope(stored), now), secret


async def add_key_client(db: LedgerDatabase, name: str, scopes: str, jwks: str) -> ClientInfo:
    """A new integration client allowed `scopes` that authenticates with `private_key_jwt`,
    with the public keys of the JWK set `jwks` (JSON text; `client_keys.parse_client_jwks`
    says what is refused). It has no secret. It reaches no entity until `allow`ed."""
    _check_client_name(name)
    stored = _scopes(scopes, f"client {name!r}", "be allowed")
    key_set = _client_jwks(jwks)
    client_id = CLIENT_ID_PREFIX + secrets.token_urlsafe(12)
    now = _now()
    async with _transaction(db) as connection:
        await connection.execute(
            insert(clients).values(
                client_id=client_id, name=name, secret_hash=NO_SECRET, jwks=key_set,
                allowed_scopes=stored, created_at=now,
            )
        )
    return ClientInfo(client_id, name, parse_scope(stored), now, method=PRIVATE_KEY_JWT)


async def set_client_keys(db: LedgerDatabase, client_id: str, jwks: str) -> ClientInfo:
    """Replace the client's public keys with the JWK set `jwks` (to rotate them: assertions
    signed with a key no longer in the set are refused at once). A client that had a secret
    authenticates with private_key_jwt from now on, and its secret stops working."""
    _check_client_id(client_id)
    key_set = _client_jwks(jwks)
    return await _change_client(db, client_id, "is disabled", jwks=key_set, secret_hash=NO_SECRET)


async def _change_client(db: LedgerDatabase, client_id: str, if_disabled: str, **values) -> ClientInfo:
    """Set `values` on an active client in one transaction, and return it as it now is; a
    disabled one is refused ("client … {if_disabled} (since …)")."""
    async with _transaction(db) as connection:
        row = await _client_row(connection, client_id)
        if row.disabled_at is not None:
            raise IdentityError(f"client {client_id} {if_disabled} (since {row.disabled_at})")
        await connection.execute(update(clients).where(clients.c.id == row.id).values(**values))
        changed = (
            await connection.execute(select(*_CLIENT_COLUMNS).where(clients.c.id == row.id))
        ).one()
    return _client_info(changed)


async def list_clients(db: LedgerDatabase) -> list[ClientInfo]:
    """Every client, by name then id; never a secret or its hash."""
    async with _transaction(db) as connection:
        rows = await connection.execute(
            select(*_CLIENT_COLUMNS).order_by(clients.c.name, clients.c.client_id)
        )
        return [_client_info(row) for row in rows]


async def disable_client(db: LedgerDatabase, client_id: str) -> ClientInfo:
    """Disable a client for good: it gets no more tokens and its tokens are refused."""
    _check_client_id(client_id)
    return await _change_client(db, client_id, "is already disabled", disabled_at=_now())


async def enable_client(db: LedgerDatabase, client_id: str) -> ClientInfo:
    """Undo `disable_client`: the client gets tokens again, with the secret or keys it had.
    Its tokens issued before it was disabled and not yet expired are accepted again too
    (they live `token_ttl` at most); reset its secret as well if it was disabled because
    the secret leaked."""
    _check_client_id(client_id)
    async with _transaction(db) as connection:
        row = await _client_row(connection, client_id)
        if row.disabled_at is None:
            raise IdentityError(f"client {client_id} is not disabled")
        await connection.execute(update(clients).where(clients.c.id == row.id).values(disabled_at=None))
        changed = (
            await connection.execute(select(*_CLIENT_COLUMNS).where(clients.c.id == row.id))
        ).one()
    return _client_info(changed)


async def reset_client_secret(db: LedgerDatabase, client_id: str) -> tuple[ClientInfo, str]:
    """A new secret for the client (returned this once, stored only as a salted hash); the
    old secret stops working at once. Tokens already issued stay valid until they expire:
    disable the client to cut them off. A client that authenticated with private_key_jwt
    authenticates with the secret from now on: its keys are dropped."""
    _check_client_id(client_id)
    secret = new_client_secret()
    secret_hash = await asyncio.to_thread(hash_secret, secret)
    changed = await _change_client(db, client_id, "is disabled", secret_hash=secret_hash, jwks=None)
    return changed, secret


async def authenticate_client(db: LedgerDatabase, client_id: object, secret: object) -> ClientInfo | None:
    """The client if `secret` is its secret and it is not disabled, else None (also for a
    client that authenticates with private_key_jwt: it has no secret).

    An unknown or malformed id costs the same one scrypt as a wrong secret, so the answer
    does not tell whether the client exists. Database failures propagate.
    """
    row = None
    if isinstance(client_id, str) and CLIENT_ID_PATTERN.fullmatch(client_id):
        async with db.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(*_CLIENT_COLUMNS, clients.c.secret_hash).where(
                        clients.c.client_id == client_id
                    )
                )
            ).first()
    if row is not None and row.jwks is not None:
        row = None  # a key client: the dummy hash's cost, and no match
    # scrypt takes tens of milliseconds: not on the event loop.
    matches = await asyncio.to_thread(verify_secret, secret, None if row is None else row.secret_hash)
    if row is None or not matches or row.disabled_at is not None:
        return None
    return _client_info(row)


async def client_key_set(db: LedgerDatabase, client_id: object) -> tuple[ClientInfo, KeySet] | None:
    """The client and its public keys if it authenticates with private_key_jwt and is not
    disabled, else None (unknown, malformed id, disabled, or a client with a secret).
    Database failures propagate."""
    if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.fullmatch(client_id):
        return None
    async with db.engine.connect() as connection:
        row = (
            await connection.execute(select(*_CLIENT_COLUMNS).where(clients.c.client_id == client_id))
        ).first()
    if row is None or row.jwks is None or row.disabled_at is not None:
        return None
    return _client_info(row), load_client_jwks(row.jwks)


async def use_assertion_jti(db: LedgerDatabase, client_id: str, jti: str, expires_at: int,
                            now: int) -> bool:
    """Record that the client used the assertion `jti`, kept until `expires_at` (epoch
    seconds): True, or False if it was used before (a replay). The unique (client, jti) key
    decides, so two concurrent requests with one assertion cannot both pass. Expired
    records, which no valid assertion can collide with any more, are deleted first."""
    try:
        async with db.engine.begin() as connection:
            await connection.execute(sql_delete(used_jtis).where(used_jtis.c.expires_at < now))
            api_client_id = await connection.scalar(
                select(clients.c.id).where(clients.c.client_id == client_id)
            )
            if api_client_id is None:
                return False
            await connection.execute(
                insert(used_jtis).values(api_client_id=api_client_id, jti=jti, expires_at=expires_at)
            )
    except IntegrityError:
        return False
    return True


# --- users ---------------------------------------------------------------------------------


async def add_user(db: LedgerDatabase, entity_code: str, username: str, role_name: str) -> UserInfo:
    """A new web-services user of the entity, with a role. Usernames are unique per entity."""
    _check_username(username)
    _check_role_name(role_name)
    now = _now()
    async with _transaction(db) as connection:
        entity_id = await _entity_id(connection, entity_code)
        role_id = await connection.scalar(select(roles.c.id).where(roles.c.name == role_name))
        if role_id is None:
            raise IdentityError(f"no role {role_name!r}")
        taken = await connection.scalar(
            select(users.c.id).where(users.c.entity_id == entity_id, users.c.username == username)
        )
        if taken is not None:
            raise IdentityError(f"user {username!r} already exists in {entity_code}")
        await connection.execute(
            insert(users).values(
                entity_id=entity_id, username=username, role_id=role_id, created_at=now
            )
        )
    return UserInfo(entity_code, username, role_name, now)


async def list_users(db: LedgerDatabase, entity_code: str | None = None) -> list[UserInfo]:
    """The users of one entity, or of all, by entity code then username."""
    query = (
        select(
            entities.c.code, users.c.username, roles.c.name, users.c.created_at,
            users.c.deactivated_at,
        )
        .select_from(
            users.join(entities, entities.c.id == users.c.entity_id).join(
                roles, roles.c.id == users.c.role_id
            )
        )
        .order_by(entities.c.code, users.c.username)
    )
    async with _transaction(db) as connection:
        if entity_code is not None:
            query = query.where(users.c.entity_id == await _entity_id(connection, entity_code))
        return [UserInfo(*row) for row in await connection.execute(query)]


async def deactivate_user(db: LedgerDatabase, entity_code: str, username: str) -> UserInfo:
    """Deactivate a user: clients acting as it get no token, their tokens are refused."""
    return await _set_user_active(db, entity_code, username, active=False)


async def activate_user(db: LedgerDatabase, entity_code: str, username: str) -> UserInfo:
    """Undo `deactivate_user`: clients acting as the user get tokens again (and their
    unexpired tokens of before are accepted again)."""
    return await _set_user_active(db, entity_code, username, active=True)


async def _set_user_active(
    db: LedgerDatabase, entity_code: str, username: str, *, active: bool
) -> UserInfo:
    _check_username(username)
    async with _transaction(db) as connection:
        entity_id = await _entity_id(connection, entity_code)
        row = (
            await connection.execute(
                select(users.c.id, users.c.deactivated_at, users.c.created_at, roles.c.name)
                .join(roles, roles.c.id == users.c.role_id)
                .where(users.c.entity_id == entity_id, users.c.username == username)
            )
        ).first()
        if row is None:
            raise IdentityError(f"no user {username!r} in {entity_code}")
        if not active and row.deactivated_at is not None:
            raise IdentityError(
                f"user {username!r} of {entity_code} is already deactivated (since {row.deactivated_at})"
            )
        if active and row.deactivated_at is None:
            raise IdentityError(f"user {username!r} of {entity_code} is not deactivated")
        stamp = None if active else _now()
        await connection.execute(update(users).where(users.c.id == row.id).values(deactivated_at=stamp))
    return UserInfo(entity_code, username, row.name, row.created_at, stamp)


# --- the allow-lists -----------------------------------------------------------------------


async def allow(db: LedgerDatabase, client_id: str, entity_code: str, username: str) -> Allowance:
    """Put the client on the entity's allow-list, acting there as the entity's user
    `username`. Changing the user of an entry takes a `disallow` first."""
    _check_client_id(client_id)
    _check_username(username)
    async with _transaction(db) as connection:
        client = await _client_row(connection, client_id)
        if client.disabled_at is not None:
            raise IdentityError(f"client {client_id} is disabled")
        entity_id = await _entity_id(connection, entity_code)
        user = (
            await connection.execute(
                select(users.c.id, users.c.deactivated_at).where(
                    users.c.entity_id == entity_id, users.c.username == username
                )
            )
        ).first()
        if user is None:
            elsewhere = (
                await connection.scalars(
                    select(entities.c.code)
                    .join(users, users.c.entity_id == entities.c.id)
                    .where(users.c.username == username)
                    .order_by(entities.c.code)
                )
            ).all()
            hint = (
                f" (there is one in {', '.join(elsewhere)}; a client acts in an entity only as "
                "a user of that entity)" if elsewhere else ""
            )
            raise IdentityError(f"no user {username!r} in {entity_code}{hint}")
        if user.deactivated_at is not None:
            raise IdentityError(f"user {username!r} of {entity_code} is deactivated")
        current = await connection.scalar(
            select(users.c.username)
            .join(allowed, allowed.c.ws_user_id == users.c.id)
            .where(allowed.c.api_client_id == client.id, allowed.c.entity_id == entity_id)
        )
        if current is not None:
            raise IdentityError(
                f"client {client_id} is already allowed for {entity_code} (as {current!r}): "
                "disallow it first to change the user"
            )
        await connection.execute(
            insert(allowed).values(
                api_client_id=client.id, entity_id=entity_id, ws_user_id=user.id, created_at=_now()
            )
        )
    return Allowance(client_id, entity_code, username)


async def disallow(db: LedgerDatabase, client_id: str, entity_code: str) -> None:
    """Take the client off the entity's allow-list: its tokens for the entity are refused."""
    _check_client_id(client_id)
    async with _transaction(db) as connection:
        client = await _client_row(connection, client_id)
        entity_id = await _entity_id(connection, entity_code)
        removed = await connection.execute(
            sql_delete(allowed).where(
                allowed.c.api_client_id == client.id, allowed.c.entity_id == entity_id
            )
        )
        if removed.rowcount == 0:
            raise IdentityError(f"client {client_id} is not allowed for {entity_code}")


async def list_allowances(db: LedgerDatabase, client_id: str | None = None) -> list[Allowance]:
    """The allow-list entries of one client, or of all, by client id then entity code."""
    query = (
        select(clients.c.client_id, entities.c.code, users.c.username)
        .select_from(
            allowed.join(clients, clients.c.id == allowed.c.api_client_id)
            .join(entities, entities.c.id == allowed.c.entity_id)
            .join(
                users,
                and_(users.c.id == allowed.c.ws_user_id, users.c.entity_id == allowed.c.entity_id),
            )
        )
        .order_by(clients.c.client_id, entities.c.code)
    )
    if client_id is not None:
        _check_client_id(client_id)
        query = query.where(clients.c.client_id == client_id)
    async with _transaction(db) as connection:
        if client_id is not None:
            await _client_row(connection, client_id)
        return [Allowance(*row) for row in await connection.execute(query)]


# --- who acts ------------------------------------------------------------------------------


async def actor(db: LedgerDatabase, client_id: object, entity_code: str | None) -> Actor:
    """Whom `client_id` acts as in `entity_code` (None: in the one entity it is allowed
    for), or AccessRefused: an unknown or disabled client, an entity not on its allow-list
    (an entity that does not exist is refused the same way), no or several entities
    without a choice, or a deactivated user.

    One SQL statement: the client, outer-joined to its allow-list entries (for
    `entity_code` only, when given) with their entity, user and role.
    """
    if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.fullmatch(client_id):
        raise AccessRefused("unknown_client", "unknown client")
    entry = (
        allowed.join(entities, entities.c.id == allowed.c.entity_id)
        .join(
            users,
            and_(users.c.id == allowed.c.ws_user_id, users.c.entity_id == allowed.c.entity_id),
        )
        .join(roles, roles.c.id == users.c.role_id)
    )
    on = allowed.c.api_client_id == clients.c.id
    if entity_code is not None:
        on = and_(on, entities.c.code == entity_code)
    query = (
        select(
            clients.c.name, clients.c.allowed_scopes, clients.c.disabled_at,
            entities.c.id.label("entity_id"), entities.c.code, entities.c.name.label("entity_name"),
            entities.c.base_currency, users.c.username, users.c.deactivated_at,
            roles.c.name.label("role"), roles.c.scopes.label("role_scopes"),
        )
        .select_from(clients.outerjoin(entry, on))
        .where(clients.c.client_id == client_id)
        .order_by(entities.c.code)
    )
    async with db.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    if not rows:
        raise AccessRefused("unknown_client", f"unknown client {client_id}")
    first = rows[0]
    if first.disabled_at is not None:
        raise AccessRefused("client_disabled", f"client {client_id} is disabled")
    entries = [row for row in rows if row.entity_id is not None]
    if entity_code is not None and not entries:
        shown = entity_code if len(entity_code) <= 64 else entity_code[:64] + "…"
        raise AccessRefused("not_allowed", f"client {client_id} is not allowed for {shown!r}")
    if not entries:
        raise AccessRefused("no_entity", f"client {client_id} is not allowed for any entity")
    if len(entries) > 1:
        codes = ", ".join(row.code for row in entries)
        raise AccessRefused(
            "several_entities",
            f"client {client_id} is allowed for several entities ({codes}): name one",
        )
    row = entries[0]
    if row.deactivated_at is not None:
        raise AccessRefused(
            "user_deactivated",
            f"user {row.username!r} of {row.code}, as whom client {client_id} acts, is deactivated",
        )
    return Actor(
        client_id=client_id,
        client_name=first.name,
        client_scopes=parse_scope(first.allowed_scopes),
        entity_id=row.entity_id,
        entity_code=row.code,
        username=row.username,
        role=row.role,
        role_scopes=parse_scope(row.role_scopes),
        entity_name=row.entity_name,
        entity_currency=row.base_currency,
    )


__all__ = [
    "AccessRefused",
    "Actor",
    "Allowance",
    "ClientInfo",
    "IdentityError",
    "RoleInfo",
    "UserInfo",
    "actor",
    "add_client",
    "add_key_client",
    "add_role",
    "add_user",
    "allow",
    "authenticate_client",
    "client_key_set",
    "deactivate_user",
    "disable_client",
    "disallow",
    "list_allowances",
    "list_clients",
    "list_roles",
    "list_users",
    "reset_client_secret",
    "set_client_keys",
    "use_assertion_jti",
]
