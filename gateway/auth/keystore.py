"""The authorization server's signing keys, persisted in the ledger database.

Each key is one row of `signing_keys`: its private JWK (JSON) AES-256-GCM encrypted with the
secrets key (`gateway.secrets.SecretsKey.seal`), with associated data naming the table and
the kid, so a ciphertext copied to another row does not decrypt. The row records which
secrets key encrypted it (a fingerprint), so a wrong key is named as such; `ledgergate
secrets rotate` re-encrypts these rows with the source secrets (`reencrypt`).

The newest key not retired is the current one, which signs; the others not retired stay
published in the JWK Set so that tokens they signed still verify. A key stopped signing when
its successor was created: `retire_expired` retires every key that stopped signing longer
than the token lifetime plus a leeway ago, when no token it signed can still be valid.
Retiring destroys the private key (the row keeps its kid and times, for the record).

No error, log line or listing carries key material.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ledger.model import SigningKey as SigningKeyRow

from ..secrets import SecretsError, SecretsKey
from .keys import KeyRing, SigningKey, generate_signing_key

table = SigningKeyRow.__table__
log = logging.getLogger("ledgergate.oauth")

DEFAULT_LEEWAY = 60
KEY_MISMATCH = "the secrets key does not match the one the signing keys were stored with"


class KeyStoreError(SecretsError):
    """Signing keys that cannot be read or changed; the message never holds key material."""


@dataclass(frozen=True)
class StoredKey:
    """What may be shown of a signing key: never its private half."""

    kid: str
    created_at: str
    retired_at: str | None
    current: bool

    @property
    def status(self) -> str:
        if self.current:
            return "current"
        return f"retired {self.retired_at}" if self.retired_at else "published"


def _time(moment: dt.datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware")
    # Fixed width (32 characters), so text order is time order.
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _aad(kid: str) -> bytes:
    return b"ledgergate signing key\x00" + kid.encode("ascii")


def _database_error(error: SQLAlchemyError) -> KeyStoreError:
    cause = getattr(error, "orig", None)
    detail = f"{type(error).__name__}" + (f" ({type(cause).__name__})" if cause is not None else "")
    return KeyStoreError(f"the signing keys could not be read or written: {detail}")


def _seal(secrets_key: SecretsKey, key: SigningKey) -> bytes:
    plaintext = json.dumps(key.key.as_dict(private=True), separators=(",", ":")).encode()
    return secrets_key.seal(plaintext, _aad(key.kid))


def _open(secrets_key: SecretsKey, row) -> SigningKey:
    if row.key_id != secrets_key.id:
        raise KeyStoreError(KEY_MISMATCH)
    plaintext = secrets_key.unseal(bytes(row.ciphertext), _aad(row.kid))
    if plaintext is None:
        raise KeyStoreError(
            f"signing key {row.kid} does not decrypt with the secrets key: it was altered or "
            "copied from another row; rotate and retire it"
        )
    try:
        jwk = json.loads(plaintext)
        return SigningKey.from_private_dict(
            {"kid": row.kid, "jwk": jwk, "created_at": row.created_at, "retired_at": None}
        )
    except ValueError:  # from_private_dict's messages name the kid, never key material
        raise KeyStoreError(f"signing key {row.kid} is not a usable RS256 key") from None


async def _rows(connection: AsyncConnection):
    """Every key, newest first."""
    query = select(table).order_by(table.c.created_at.desc(), table.c.kid.desc())
    return (await connection.execute(query)).all()


def _current_kid(rows) -> str | None:
    return next((row.kid for row in rows if row.retired_at is None), None)


async def _insert(connection: AsyncConnection, secrets_key: SecretsKey, key: SigningKey) -> None:
    await connection.execute(
        insert(table).values(
            kid=key.kid,
            ciphertext=_seal(secrets_key, key),
            key_id=secrets_key.id,
            created_at=_time(key.created_at),
            retired_at=None,
        )
    )


async def _new_key(now: dt.datetime, after: str | None) -> SigningKey:
    if after is not None:  # keep creation times strictly increasing: they order the ring
        latest = dt.datetime.fromisoformat(after)
        if now <= latest:
            now = latest + dt.timedelta(microseconds=1)
    # RSA key generation takes tens of milliseconds: not on the event loop.
    return await asyncio.to_thread(generate_signing_key, now)


def _ring(secrets_key: SecretsKey, rows) -> KeyRing | None:
    published = [_open(secrets_key, row) for row in rows if row.retired_at is None]
    return KeyRing(tuple(published)) if published else None


async def load_ring(engine: AsyncEngine, secrets_key: SecretsKey) -> KeyRing | None:
    """The published keys, current first; None when there is none yet."""
    try:
        async with engine.connect() as connection:
            rows = await _rows(connection)
    except SQLAlchemyError as error:
        raise _database_error(error) from None
    return _ring(secrets_key, rows)


async def rotate(engine: AsyncEngine, secrets_key: SecretsKey, now: dt.datetime) -> KeyRing:
    """A new current key; the previous ones stay published until retired."""
    try:
        async with engine.connect() as connection:
            rows = await _rows(connection)
        _ring(secrets_key, rows)  # the stored keys must be readable with this secrets key
        key = await _new_key(now, rows[0].created_at if rows else None)
        async with engine.begin() as connection:
            await _insert(connection, secrets_key, key)
            rows = await _rows(connection)
    except SQLAlchemyError as error:
        raise _database_error(error) from None
    ring = _ring(secrets_key, rows)
    assert ring is not None
    return ring


async def list_keys(engine: AsyncEngine) -> list[StoredKey]:
    """Every key, newest first (no secrets key needed: nothing is decrypted)."""
    try:
        async with engine.connect() as connection:
            rows = await _rows(connection)
    except SQLAlchemyError as error:
        raise _database_error(error) from None
    current = _current_kid(rows)
    return [StoredKey(row.kid, row.created_at, row.retired_at, row.kid == current) for row in rows]


async def _retire(connection: AsyncConnection, kids: list[str], now: dt.datetime) -> None:
    if kids:
        await connection.execute(
            update(table)
            .where(table.c.kid.in_(kids), table.c.retired_at.is_(None))
            # The private key is destroyed: a retired key never signs or verifies again.
            .values(retired_at=_time(now), ciphertext=b"")
        )


async def retire(engine: AsyncEngine, kid: str, now: dt.datetime) -> StoredKey:
    """Withdraw a replaced key from the JWK Set now: tokens it signed stop verifying."""
    try:
        async with engine.begin() as connection:
            rows = await _rows(connection)
            row = next((row for row in rows if row.kid == kid), None)
            if row is None:
                raise KeyStoreError(f"no signing key {kid[:64]!r}")
            if row.retired_at is not None:
                raise KeyStoreError(f"signing key {kid} is already retired (since {row.retired_at})")
            if row.kid == _current_kid(rows):
                raise KeyStoreError(
                    f"signing key {kid} is the current key: rotate first (`ledgergate keys rotate`)"
                )
            await _retire(connection, [kid], now)
    except SQLAlchemyError as error:
        raise _database_error(error) from None
    return StoredKey(kid, row.created_at, _time(now), False)


def _expired(rows, now: dt.datetime, ttl: int, leeway: int = DEFAULT_LEEWAY) -> list[str]:
    """The published keys replaced (their successor created) at or before `now - ttl -
    leeway`: no token they signed can still be valid. `rows` newest first."""
    cutoff = _time(now - dt.timedelta(seconds=ttl + leeway))
    current = _current_kid(rows)
    return [
        rows[i].kid
        for i in range(1, len(rows))  # rows[i - 1] succeeded rows[i]
        if rows[i].retired_at is None and rows[i].kid != current and rows[i - 1].created_at <= cutoff
    ]


async def retire_expired(
    engine: AsyncEngine, now: dt.datetime, ttl: int, leeway: int = DEFAULT_LEEWAY
) -> list[str]:
    """Retire every replaced key that stopped signing (its successor was created) at or
    before `now - ttl - leeway`, so no token it signed can still be valid; their kids."""
    try:
        async with engine.begin() as connection:
            due = _expired(await _rows(connection), now, ttl, leeway)
            await _retire(connection, due, now)
    except SQLAlchemyError as error:
        raise _database_error(error) from None
    return due


async def reencrypt(connection: AsyncConnection, old: SecretsKey, new: SecretsKey) -> int:
    """Re-encrypt every published key from `old` to `new` (in the caller's transaction, that
    of `ledgergate secrets rotate`); how many."""
    rotated = 0
    for row in await _rows(connection):
        if row.retired_at is not None or row.key_id == new.id:
            continue
        key = _open(old, row)
        await connection.execute(
            update(table)
            .where(table.c.kid == row.kid)
            .values(ciphertext=_seal(new, key), key_id=new.id)
        )
        rotated += 1
    return rotated


class KeyRingCache:
    """The ring a running gateway signs with and publishes, reloaded from the database when
    older than `max_age` seconds, so keys rotated or retired by `ledgergate keys` (another
    process) are picked up; the first key is created on first use.

    With `retire_after` (the token lifetime, seconds), each reload first retires the keys
    replaced long enough ago that no token they signed can still be valid
    (`retire_expired`): after a rotation the old key stays published for the tokens it
    signed, then leaves the JWKS by itself, without anyone running `keys retire --expired`.
    The retirement happens in the reload's own transaction, on the rows it read anyway.
    """

    def __init__(self, engine: AsyncEngine, secrets_key: SecretsKey, *, max_age: float = 30.0,
                 retire_after: int | None = None, clock=lambda: dt.datetime.now(dt.UTC)):
        self.engine = engine
        self.secrets_key = secrets_key
        self.max_age = max_age
        self.retire_after = retire_after
        self.clock = clock
        self._ring: KeyRing | None = None
        self._loaded = 0.0
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._ring = None

    async def ring(self) -> KeyRing:
        if self._ring is not None and time.monotonic() - self._loaded < self.max_age:
            return self._ring
        async with self._lock:
            if self._ring is None or time.monotonic() - self._loaded >= self.max_age:
                self._ring = await self._load(self.clock())
                self._loaded = time.monotonic()
            return self._ring

    async def _load(self, now: dt.datetime) -> KeyRing:
        """One read of the keys; the expired ones retired in the same transaction."""
        try:
            async with self.engine.begin() as connection:
                rows = await _rows(connection)
                due = [] if self.retire_after is None else _expired(rows, now, self.retire_after)
                if due:
                    await _retire(connection, due, now)
        except SQLAlchemyError as error:
            raise _database_error(error) from None
        if due:
            log.info("signing keys retired (no valid token can need them): %s", ", ".join(due))
        ring = _ring(self.secrets_key, [row for row in rows if row.kid not in due])
        return ring if ring is not None else await rotate(self.engine, self.secrets_key, now)
