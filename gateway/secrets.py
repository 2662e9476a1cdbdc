"""Credentials of source systems, encrypted at rest in the ledger database.

A sources config names credentials with `credentials = "crm"`; each of their values
(`api_key`, `client_secret`, `password`, …) is one row of `source_secrets`, stored by
`ledgergate secrets set crm api_key` (the value comes from stdin or a prompt, never argv):

- AES-256-GCM (`cryptography`), a random 96-bit nonce per value, and the row's
  (name, key) as associated data: a ciphertext copied to another row does not decrypt.
- The secrets key (32 random bytes, base64url) never touches the database. It comes from
  `LEDGERGATE_SECRETS_KEY` or from the key file named by `[secrets] key_file` (mode 0600:
  a key file group or others may read is refused). `ledgergate secrets keygen` makes one.
- Each row records the id of the key that encrypted it (a fingerprint, not the key), so a
  wrong key is named as such before anything is decrypted, and `ledgergate secrets rotate`
  can re-encrypt every value under a new key in one transaction.

Values are never logged, printed, echoed in errors, or served; errors name the file, the
environment variable or the credentials, and a database error only by its type.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.model import SourceSecret

from .config import ConfigError

Secrets = Mapping[str, Mapping[str, str]]
NO_SECRETS: Secrets = MappingProxyType({})

KEY_ENV = "LEDGERGATE_SECRETS_KEY"
KEY_BYTES = 32
NONCE_BYTES = 12
FORMAT = b"\x01"  # AES-256-GCM: FORMAT + nonce + ciphertext and tag
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
KEY_PATTERN = re.compile(r"[A-Za-z0-9_]{1,64}")
KEY_MISMATCH = "the secrets key does not match the one the secrets were stored with"
KEYGEN_HINT = "make one with `ledgergate secrets keygen --out FILE`"
table = SourceSecret.__table__


class SecretsError(ConfigError):
    """Secrets that cannot be stored or read; the message never holds a value."""


@dataclass(frozen=True)
class SecretsKey:
    """The key that encrypts source credentials. `id` is a fingerprint, safe to store and show."""

    material: bytes
    source: str  # where it came from, for messages: the env variable or the key file

    def __post_init__(self) -> None:
        if len(self.material) != KEY_BYTES:
            raise ValueError("a secrets key is 32 bytes")

    def __repr__(self) -> str:  # never the material, whatever prints the object
        return f"SecretsKey(id={self.id!r}, source={self.source!r})"

    @property
    def id(self) -> str:
        return hashlib.sha256(b"ledgergate secrets key id\x00" + self.material).hexdigest()[:16]

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """AES-256-GCM with a fresh nonce: FORMAT + nonce + ciphertext and tag."""
        nonce = os.urandom(NONCE_BYTES)
        return FORMAT + nonce + AESGCM(self.material).encrypt(nonce, plaintext, associated_data)

    def unseal(self, blob: bytes, associated_data: bytes) -> bytes | None:
        """`seal`'s plaintext, or None when the blob is not in this format or does not
        authenticate (altered, or sealed with other associated data or another key)."""
        if blob[:1] != FORMAT or len(blob) < 1 + NONCE_BYTES + 16:
            return None
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return AESGCM(self.material).decrypt(nonce, sealed, associated_data)
        except InvalidTag:
            return None

    def encrypt(self, name: str, key: str, value: str) -> bytes:
        return self.seal(value.encode("utf-8"), _aad(name, key))

    def decrypt(self, name: str, key: str, blob: bytes) -> str:
        if blob[:1] != FORMAT or len(blob) < 1 + NONCE_BYTES + 16:
            raise SecretsError(f"the stored secret {name}.{key} is not in a format this version reads")
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return AESGCM(self.material).decrypt(nonce, sealed, _aad(name, key)).decode("utf-8")
        except InvalidTag:
            # The key's id matched (`load_secrets` checks it first), so the row changed.
            raise SecretsError(
                f"the stored secret {name}.{key} does not decrypt with the secrets key: "
                "it was altered or copied from another row; store it again"
            ) from None


def _aad(name: str, key: str) -> bytes:
    return b"ledgergate source secret\x00" + name.encode() + b"\x00" + key.encode()


# --- the key -------------------------------------------------------------------------------


def new_key_text() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def parse_key(text: str, source: str) -> SecretsKey:
    """A key from its base64url text (padding optional). The message names `source` only."""
    text = text.strip()
    material = b""
    if re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", text):
        with contextlib.suppress(ValueError):  # binascii.Error is one
            material = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if len(material) != KEY_BYTES:
        raise SecretsError(f"{source} is not a secrets key (32 random bytes, base64url); {KEYGEN_HINT}")
    return SecretsKey(material, source)


def _looks_like_key(text: str) -> bool:
    try:
        parse_key(text, "")
    except SecretsError:
        return False
    return True


def read_key_file(path: Path) -> SecretsKey:
    """The key in `path`, refused when group or others may access the file."""
    try:
        mode = path.stat().st_mode
        if os.name == "posix" and mode & 0o077:
            raise SecretsError(
                f"{path}: the secrets key file is accessible to group or others "
                f"(mode {stat.S_IMODE(mode):04o}); run `chmod 600 {path}`"
            )
        text = path.read_bytes().decode("ascii", errors="replace")  # not ASCII: not a key
    except FileNotFoundError:
        if _looks_like_key(path.name):  # the key itself pasted as key_file: do not echo it
            raise SecretsError(
                "[secrets] key_file names no file and looks like a key itself: put the key "
                f"in a file (mode 0600) and name that file; {KEYGEN_HINT}"
            ) from None
        raise SecretsError(f"{path}: no such secrets key file; {KEYGEN_HINT}") from None
    except OSError as error:
        raise SecretsError(f"{path}: the secrets key file cannot be read: {type(error).__name__}") from None
    return parse_key(text, str(path))


def configured_key(key_file: Path | None) -> SecretsKey | None:
    """`LEDGERGATE_SECRETS_KEY` if set, else the key file if configured, else None."""
    if text := os.environ.get(KEY_ENV):
        return parse_key(text, KEY_ENV)
    if key_file is not None:
        return read_key_file(key_file)
    return None


def require_key(key_file: Path | None, who_needs: str) -> SecretsKey:
    """The configured key; none: an error that starts with `who_needs` ("X needs")."""
    if (key := configured_key(key_file)) is None:
        raise SecretsError(
            f"{who_needs} the secrets key, but none is configured: set {KEY_ENV} or "
            f"[secrets] key_file in the gateway config ({KEYGEN_HINT})"
        )
    return key


def write_key_file(path: Path) -> SecretsKey:
    """A new key in a new file (mode 0600); an existing file is never overwritten."""
    text = new_key_text()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SecretsError(f"{path}: already exists; a key file is never overwritten") from None
    except OSError as error:
        raise SecretsError(f"{path}: cannot be created: {type(error).__name__}") from None
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(text + "\n")
    return parse_key(text, str(path))


def key_file_beside(path: Path, suffix: str = ".secrets.key") -> Path:
    """The key file kept beside a local database file (the demo's, a benchmark's): created
    (mode 0600) on first use, unless LEDGERGATE_SECRETS_KEY is set. The database's token
    signing keys are sealed with it, so it must outlive the process."""
    key_file = path.with_name(path.stem + suffix)
    if not key_file.exists() and not os.environ.get(KEY_ENV):
        write_key_file(key_file)
    return key_file


# --- the store -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredSecret:
    """What may be shown of a stored secret: everything but its value."""

    name: str
    key: str
    key_id: str
    updated_at: str


def check_names(name: str, key: str | None = None) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise SecretsError("a credentials name is 1-64 letters, digits, '_', '.' or '-'")
    if key is not None and not KEY_PATTERN.fullmatch(key):
        raise SecretsError("a secret's key is 1-64 letters, digits or '_' (e.g. api_key)")


def _database_error(error: SQLAlchemyError) -> SecretsError:
    # SQLAlchemy's messages carry the statement's parameters; name the failure only.
    cause = getattr(error, "orig", None)
    detail = f"{type(error).__name__}" + (f" ({type(cause).__name__})" if cause is not None else "")
    return SecretsError(f"the secrets could not be read or written: {detail}")


async def _foreign_key_ids(connection, key: SecretsKey) -> list[str]:
    rows = await connection.execute(select(table.c.key_id).where(table.c.key_id != key.id).distinct())
    return [row[0] for row in rows]


async def check_key(engine: AsyncEngine, key: SecretsKey) -> None:
    """Refuse `key` when stored secrets were encrypted with another one."""
    try:
        async with engine.connect() as connection:
            foreign = await _foreign_key_ids(connection, key)
    except SQLAlchemyError as error:
        raise _database_error(error) from None
    if foreign:
        raise SecretsError(KEY_MISMATCH)


async def store_secret(engine: AsyncEngine, key: SecretsKey, name: str, field: str, value: str) -> None:
    """Encrypt and store (or replace) `name.field`. Refused when other secrets were stored
    with another key: one store, one key (change it with `rotate`)."""
    check_names(name, field)
    if not value:
        raise SecretsError(f"no value given for {name}.{field}")
    ciphertext = key.encrypt(name, field, value)
    now = _now()
    try:
        async with engine.begin() as connection:
            if await _foreign_key_ids(connection, key):
                raise SecretsError(KEY_MISMATCH)
            where = (table.c.name == name) & (table.c.key == field)
            values = {"ciphertext": ciphertext, "key_id": key.id, "updated_at": now}
            changed = await connection.execute(update(table).where(where).values(**values))
            if changed.rowcount == 0:
                await connection.execute(insert(table).values(name=name, key=field, **values))
    except SQLAlchemyError as error:
        raise _database_error(error) from None


async def list_secrets(engine: AsyncEngine) -> list[StoredSecret]:
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(table.c.name, table.c.key, table.c.key_id, table.c.updated_at).order_by(
                    table.c.name, table.c.key
                )
            )
            return [StoredSecret(*row) for row in rows]
    except SQLAlchemyError as error:
        raise _database_error(error) from None


async def delete_secrets(engine: AsyncEngine, name: str, field: str | None = None) -> int:
    """Delete `name.field`, or every value of `name`; how many were deleted."""
    check_names(name, field)
    where = table.c.name == name
    if field is not None:
        where &= table.c.key == field
    try:
        async with engine.begin() as connection:
            return (await connection.execute(delete(table).where(where))).rowcount
    except SQLAlchemyError as error:
        raise _database_error(error) from None


async def load_secrets(engine: AsyncEngine, key: SecretsKey, names: Iterable[str]) -> Secrets:
    """The decrypted values of the credentials `names`, by name then key. Names with nothing
    stored are absent (the sources config then says which system misses them)."""
    names = sorted(set(names))
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(table.c.name, table.c.key, table.c.ciphertext, table.c.key_id).where(
                        table.c.name.in_(names)
                    )
                )
            ).all()
    except SQLAlchemyError as error:
        raise _database_error(error) from None
    secrets: dict[str, dict[str, str]] = {}
    for name, field, ciphertext, key_id in rows:
        if key_id != key.id:
            raise SecretsError(KEY_MISMATCH)
        secrets.setdefault(name, {})[field] = key.decrypt(name, field, bytes(ciphertext))
    return MappingProxyType({name: MappingProxyType(values) for name, values in secrets.items()})


async def rotate_secrets(engine: AsyncEngine, old: SecretsKey, new: SecretsKey) -> int:
    """Re-encrypt every stored value from `old` to `new` in one transaction; how many."""
    if old.id == new.id:
        raise SecretsError(f"{new.source} holds the key the secrets are already stored with")
    try:
        async with engine.begin() as connection:
            rows = (
                await connection.execute(
                    select(table.c.name, table.c.key, table.c.ciphertext, table.c.key_id)
                )
            ).all()
            now, rotated = _now(), 0
            for name, field, ciphertext, key_id in rows:
                if key_id == new.id:
                    continue  # already under the new key
                if key_id != old.id:
                    raise SecretsError(KEY_MISMATCH)
                value = old.decrypt(name, field, bytes(ciphertext))
                await connection.execute(
                    update(table)
                    .where((table.c.name == name) & (table.c.key == field))
                    .values(ciphertext=new.encrypt(name, field, value), key_id=new.id, updated_at=now)
                )
                rotated += 1
            # The signing keys of the authorization server are under the same key.
            from .auth.keystore import reencrypt

            await reencrypt(connection, old, new)
            return rotated
    except SQLAlchemyError as error:
        raise _database_error(error) from None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
