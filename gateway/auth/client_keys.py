"""The public keys of a client that authenticates with `private_key_jwt`: its JWK set as an
administrator gives it (`ledgergate clients add --jwks` / `clients set-keys`), checked, and
as it is stored and read back.

`parse_client_jwks` refuses, with a message naming the key (its position and kid): a file
that is not JSON or not a JWK set, no keys, more than MAX_KEYS, a private key (any of `d`,
`p`, `q`, `dp`, `dq`, `qi`, `oth`) — the client's private half must never reach the
gateway —, a symmetric key (`kty` oct: a shared secret, exactly what this method avoids),
a key type or curve that none of ALGORITHMS uses, an RSA key under 2048 bits, a key not for
signatures (`use`, `key_ops`), an `alg` other than ALGORITHMS, a malformed key and two keys
with one kid. What is stored is the keys' public members as joserfc exports them, so the
stored text never holds more than was checked.
"""

from __future__ import annotations

import json
import warnings

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from .tokens import MIN_RSA_BITS, usable_key

# Asymmetric only: `none` and HS* (which a public key could "sign" with) are never accepted.
ALGORITHMS = ("ES256", "PS256", "RS256")
MAX_KEYS = 10
MAX_JWKS_BYTES = 64 * 1024
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth")
_CLASSES = {"RSA": RSAKey, "EC": ECKey}


class ClientKeysError(ValueError):
    """The JWK set cannot be a client's key set; the message says why (no key material)."""


def _name(index: int, data: dict) -> str:
    kid = data.get("kid")
    shown = f" (kid {kid[:64]!r})" if isinstance(kid, str) and kid else ""
    return f"key {index + 1}{shown}"


def _check_key(index: int, data: object) -> dict:
    if not isinstance(data, dict):
        raise ClientKeysError(f"key {index + 1} is not a JSON object")
    name = _name(index, data)
    private = [member for member in _PRIVATE_MEMBERS if member in data]
    if private:
        raise ClientKeysError(
            f"{name} is a private key (it has {', '.join(private)}): give only the public keys; "
            "the private key stays with the client"
        )
    kty = data.get("kty")
    if kty == "oct" or "k" in data:
        raise ClientKeysError(
            f"{name} is a symmetric key (kty oct): private_key_jwt needs public RSA or EC keys"
        )
    if kty not in _CLASSES:
        raise ClientKeysError(f"{name} has kty {str(kty)[:20]!r}: use RSA or EC (P-256) keys")
    if "kid" in data and (not isinstance(data["kid"], str) or not data["kid"]):
        raise ClientKeysError(f"{name}: kid must be a non-empty string")
    if data.get("use", "sig") != "sig":
        raise ClientKeysError(f"{name} is not for signatures (use {str(data['use'])[:20]!r})")
    if "alg" in data and data["alg"] not in ALGORITHMS:
        raise ClientKeysError(
            f"{name} has alg {str(data['alg'])[:20]!r}: use one of {', '.join(ALGORITHMS)}"
        )
    try:
        with warnings.catch_warnings():  # a small RSA key is refused below, by name
            warnings.simplefilter("ignore")
            key = _CLASSES[kty].import_key(data)
    except (JoseError, ValueError, TypeError, KeyError):
        raise ClientKeysError(f"{name} is not a valid {kty} JWK") from None
    if not any(usable_key(key, alg) for alg in ALGORITHMS):
        if isinstance(key, RSAKey) and key.public_key.key_size < MIN_RSA_BITS:
            raise ClientKeysError(
                f"{name} is an RSA key of {key.public_key.key_size} bits: at least "
                f"{MIN_RSA_BITS} are needed"
            )
        if isinstance(key, ECKey) and key.curve_name != "P-256":
            raise ClientKeysError(f"{name} is on curve {key.curve_name}: ES256 needs P-256")
        raise ClientKeysError(f"{name} cannot verify signatures (see its alg and key_ops)")
    return key.as_dict(private=False)


def parse_client_jwks(text: str) -> str:
    """The JWK set to store for a client (JSON text of the checked public keys), or
    ClientKeysError saying what is wrong with it."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_JWKS_BYTES:
        raise ClientKeysError(f"the JWK set is larger than {MAX_JWKS_BYTES} bytes")
    try:
        document = json.loads(text)
    except ValueError:
        raise ClientKeysError("the JWK set is not JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ClientKeysError('not a JWK set: a JSON object with a "keys" list is expected')
    if not document["keys"]:
        raise ClientKeysError("the JWK set has no keys")
    if len(document["keys"]) > MAX_KEYS:
        raise ClientKeysError(f"the JWK set has {len(document['keys'])} keys: at most {MAX_KEYS}")
    keys = [_check_key(index, data) for index, data in enumerate(document["keys"])]
    kids = [key["kid"] for key in keys if "kid" in key]
    if len(set(kids)) != len(kids):
        raise ClientKeysError("two keys of the JWK set have the same kid")
    return json.dumps({"keys": keys}, separators=(",", ":"), sort_keys=True)


def load_client_jwks(stored: str) -> KeySet:
    """The key set stored by `parse_client_jwks`."""
    return KeySet.import_key_set(json.loads(stored))
