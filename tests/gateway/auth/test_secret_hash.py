"""Client secrets: salted scrypt hashes, constant-time verification, malformed rows refused."""

import base64
import hashlib
import re

import pytest

from gateway.auth import secret_hash
from gateway.auth.secret_hash import hash_secret, needs_rehash, new_client_secret, verify_secret

SECRET = "s3cr3t-Value_with-enough-entropy"
STORED = hash_secret(SECRET)


def unb64(text):
    return base64.b64decode(text + "=" * (-len(text) % 4))


def b64(data):
    return base64.b64encode(data).decode().rstrip("=")


def test_the_stored_form_names_scheme_and_parameters():
    match = re.fullmatch(r"scrypt\$16384\$8\$1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})", STORED)
    assert match
    salt, digest = unb64(match.group(1)), unb64(match.group(2))
    assert len(salt) == 16
    assert digest == hashlib.scrypt(SECRET.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    assert SECRET not in STORED


def test_every_hash_has_its_own_salt():
    assert hash_secret(SECRET) != hash_secret(SECRET)
    assert STORED.split("$")[4] != hash_secret(SECRET).split("$")[4]


def test_verify():
    assert verify_secret(SECRET, STORED) is True
    assert verify_secret(SECRET + "x", STORED) is False
    assert verify_secret(SECRET[:-1], STORED) is False
    assert verify_secret(SECRET.upper(), STORED) is False
    assert verify_secret("", STORED) is False
    assert verify_secret("x" * 5000, STORED) is False
    assert verify_secret(None, STORED) is False
    assert verify_secret(SECRET.encode(), STORED) is False
    assert verify_secret("\ud800", STORED) is False


def test_unicode_secrets_round_trip():
    stored = hash_secret("pässwörd-€")
    assert verify_secret("pässwörd-€", stored) is True
    assert verify_secret("passwort-€", stored) is False


def test_an_unknown_client_costs_one_scrypt_and_never_matches(monkeypatch):
    calls = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        calls.append(kwargs["n"])
        return real(*args, **kwargs)

    monkeypatch.setattr(secret_hash.hashlib, "scrypt", counting)
    assert verify_secret(SECRET, None) is False
    assert calls == [2**14]


def test_the_comparison_is_constant_time(monkeypatch):
    seen = []
    real = secret_hash.hmac.compare_digest

    def spy(a, b):
        seen.append((type(a), type(b), len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(secret_hash.hmac, "compare_digest", spy)
    assert verify_secret(SECRET, STORED) is True
    assert verify_secret("wrong", STORED) is False
    assert seen == [(bytes, bytes, 32, 32), (bytes, bytes, 32, 32)]


_, _, _, _, SALT, DIGEST = STORED.split("$")
MALFORMED = [
    "",
    "plain-text-secret",
    SECRET,
    "scrypt",
    "scrypt$16384$8$1$$",
    f"scrypt$16384$8$1${SALT}",
    f"scrypt$16384$8$1${SALT}${DIGEST}$extra",
    f"bcrypt$16384$8$1${SALT}${DIGEST}",
    f"SCRYPT$16384$8$1${SALT}${DIGEST}",
    f"scrypt$16385$8$1${SALT}${DIGEST}",  # n not a power of two
    f"scrypt$1$8$1${SALT}${DIGEST}",
    f"scrypt$0$8$1${SALT}${DIGEST}",
    f"scrypt$-16384$8$1${SALT}${DIGEST}",
    f"scrypt$1073741824$8$1${SALT}${DIGEST}",  # 2**30: gigabytes
    f"scrypt$16384$999$1${SALT}${DIGEST}",
    f"scrypt$16384$8$999${SALT}${DIGEST}",
    f"scrypt$1048576$8$1${SALT}${DIGEST}",  # 1 GiB of memory
    f"scrypt$32768$8$16${SALT}${DIGEST}",  # over the work bound
    f"scrypt$16384$8$1${SALT[:-4]}${DIGEST}",  # salt too short
    f"scrypt$16384$8$1${SALT}=${DIGEST}",
    f"scrypt$16384$8$1${SALT}${DIGEST[:-1]}!",
    f"scrypt$16384$8$1${SALT}${DIGEST}\n",
    f" scrypt$16384$8$1${SALT}${DIGEST}",
    f"scrypt$16384$8$1${SALT}${DIGEST[:-1]}B",  # stray bits in the last character
    f"scrypt$16384$8$1${SALT}${b64(bytes(8))}",  # digest too short
    f"scrypt$１６３８４$8$1${SALT}${DIGEST}",  # non-ASCII digits
    12345,
    b"scrypt$16384$8$1$",
]


@pytest.mark.parametrize("stored", MALFORMED)
def test_a_malformed_stored_string_is_no_match_and_no_exception(stored):
    assert verify_secret(SECRET, stored) is False


def test_other_parameters_still_verify_and_ask_for_a_rehash():
    salt = bytes(range(16))
    digest = hashlib.scrypt(SECRET.encode(), salt=salt, n=2**15, r=8, p=1, dklen=32, maxmem=2**26)
    older = f"scrypt$32768$8$1${b64(salt)}${b64(digest)}"
    assert verify_secret(SECRET, older) is True
    assert needs_rehash(older) is True
    assert needs_rehash(STORED) is False
    assert needs_rehash("garbage") is True


def test_errors_never_echo_the_secret():
    with pytest.raises(TypeError) as caught:
        hash_secret(b"bytes-secret")  # type: ignore[arg-type]
    assert "bytes-secret" not in str(caught.value)
    with pytest.raises(ValueError) as caught:
        hash_secret("y" * 5000)
    assert "yyyy" not in str(caught.value)
    with pytest.raises(ValueError):
        hash_secret("")


def test_new_client_secrets_are_long_urlsafe_and_distinct():
    secrets = {new_client_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", s) for s in secrets)
