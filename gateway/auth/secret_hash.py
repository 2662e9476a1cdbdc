"""Client secrets, stored only as salted scrypt hashes.

The stored form is `scrypt$<n>$<r>$<p>$<salt>$<hash>` (salt and hash in unpadded standard
base64), so the cost can be raised later while older hashes still verify (`needs_rehash`).
Verification compares in constant time and never raises: a malformed stored string, an
unsupported cost or a secret that is not a str is simply no match, and no message anywhere
carries the secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

SCHEME = "scrypt"
N = 2**14
R = 8
P = 1
SALT_BYTES = 16
HASH_BYTES = 32
# Bounds on what a stored string may ask for: a corrupted or hostile row must not make one
# verification allocate gigabytes or spin for minutes.
_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16
_MAX_MEMORY = 256 * 2**20
_MAX_WORK = 2**21  # n * r * p: 16 times today's cost
_MAX_SECRET_BYTES = 4096
_STORED = re.compile(
    r"scrypt\$([1-9][0-9]{0,7})\$([1-9][0-9]{0,2})\$([1-9][0-9]{0,2})"
    r"\$([A-Za-z0-9+/]{22,88})\$([A-Za-z0-9+/]{22,88})"
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    if _b64(data) != text:  # non-canonical (stray bits in the last character)
        raise ValueError("non-canonical base64")
    return data


def _scrypt(secret: bytes, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, dklen=length, maxmem=_MAX_MEMORY + 2**20)


def new_client_secret() -> str:
    """A fresh client secret: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The stored form of `secret`, with a fresh random salt."""
    if not isinstance(secret, str):
        raise TypeError("secret must be a str")
    raw = secret.encode("utf-8")
    if not raw:
        raise ValueError("secret must not be empty")
    if len(raw) > _MAX_SECRET_BYTES:
        raise ValueError(f"secret must be at most {_MAX_SECRET_BYTES} bytes")
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(raw, salt, N, R, P, HASH_BYTES)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def _parse(stored: object) -> tuple[int, int, int, bytes, bytes] | None:
    if not isinstance(stored, str):
        return None
    match = _STORED.fullmatch(stored)
    if not match:
        return None
    n, r, p = (int(match.group(i)) for i in (1, 2, 3))
    if n < 2 or n & (n - 1) or n > _MAX_N or r > _MAX_R or p > _MAX_P:
        return None
    if 128 * r * n > _MAX_MEMORY or n * r * p > _MAX_WORK:
        return None
    try:
        salt, digest = _unb64(match.group(4)), _unb64(match.group(5))
    except (ValueError, binascii.Error):
        return None
    if len(salt) < SALT_BYTES or not 16 <= len(digest) <= 64:
        return None
    return n, r, p, salt, digest


# Verified against when there is no stored hash (an unknown client id), so that answering
# "no such client" takes as long as "wrong secret".
_DUMMY = f"{SCHEME}${N}${R}${P}${_b64(bytes(SALT_BYTES))}${_b64(bytes(HASH_BYTES))}"


def verify_secret(secret: object, stored: str | None) -> bool:
    """Whether `secret` matches the stored hash, compared in constant time.

    Never raises: a malformed or out-of-bounds stored string, or a secret that is not a
    non-empty str of at most 4096 bytes, is False. `stored=None` (no such client) still
    costs one scrypt, so the answer does not reveal whether the client exists.
    """
    parsed = _parse(_DUMMY if stored is None else stored)
    if parsed is None:
        return False
    n, r, p, salt, expected = parsed
    ok = isinstance(secret, str)
    try:
        raw = secret.encode("utf-8") if isinstance(secret, str) else b""
    except UnicodeEncodeError:  # lone surrogates
        raw, ok = b"", False
    if not raw or len(raw) > _MAX_SECRET_BYTES:
        raw, ok = b"\0", False
    try:
        actual = _scrypt(raw, salt, n, r, p, len(expected))
    except (ValueError, MemoryError):
        return False
    same = hmac.compare_digest(actual, expected)
    return same and ok and stored is not None


def needs_rehash(stored: str) -> bool:
    """Whether a (well-formed) stored hash uses other parameters than today's."""
    parsed = _parse(stored)
    if parsed is None:
        return True
    n, r, p, salt, digest = parsed
    return (n, r, p, len(salt), len(digest)) != (N, R, P, SALT_BYTES, HASH_BYTES)
