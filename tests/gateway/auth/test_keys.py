"""Signing keys: RFC 7638 kids, a public JWK Set without private members, rotation and
retirement, private serialisation that refuses what is not a proper signing key."""

import datetime as dt
import json
import warnings

import pytest
from joserfc.jwk import RSAKey, thumbprint

from gateway.auth.keys import KeyRing, SigningKey, generate_signing_key

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


@pytest.fixture(scope="module")
def key():
    return generate_signing_key(T0)


@pytest.fixture(scope="module")
def ring():
    """Three keys: the current one, one replaced an hour ago, one replaced two hours ago."""
    ring = KeyRing.new(T0)
    ring = ring.rotate(T0 + dt.timedelta(hours=1))
    return ring.rotate(T0 + dt.timedelta(hours=2))


def test_a_generated_key_is_a_private_2048_bit_rsa_key_named_by_its_thumbprint(key):
    assert key.key.is_private
    assert key.key.private_key.key_size == 2048
    public = key.key.as_dict(private=False)
    # "lgk_" keeps it safe on a command line: a bare thumbprint may begin with "-".
    assert key.kid == "lgk_" + thumbprint({"kty": "RSA", "n": public["n"], "e": public["e"]})
    assert key.created_at == T0
    assert key.retired_at is None
    assert key.retired is False


def test_times_must_be_timezone_aware_and_are_kept_in_utc(key):
    with pytest.raises(ValueError, match="timezone-aware"):
        SigningKey(kid=key.kid, key=key.key, created_at=dt.datetime(2026, 3, 1))
    cet = dt.timezone(dt.timedelta(hours=1))
    moved = SigningKey(kid=key.kid, key=key.key, created_at=dt.datetime(2026, 3, 1, 13, tzinfo=cet))
    assert moved.created_at == T0
    assert moved.created_at.tzinfo is dt.UTC


def test_a_kid_that_is_not_the_thumbprint_is_refused(key):
    with pytest.raises(ValueError, match="kid is not the RFC 7638 thumbprint"):
        SigningKey(kid="my-key", key=key.key, created_at=T0)


def test_small_and_public_keys_are_refused():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = RSAKey.generate_key(1024)
    with pytest.raises(ValueError, match="at least 2048 bits"):
        SigningKey(kid=small.thumbprint(), key=small, created_at=T0)
    with pytest.raises(ValueError, match="at least 2048"):
        generate_signing_key(T0, size=1024)
    public = RSAKey.generate_key(2048, private=False)
    with pytest.raises(ValueError, match="private RSA key"):
        SigningKey(kid=public.thumbprint(), key=public, created_at=T0)


def test_the_public_jwk_has_exactly_the_public_members(key):
    jwk = key.public_jwk()
    assert set(jwk) == {"kty", "n", "e", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["kid"], jwk["alg"], jwk["use"], jwk["e"]) == ("RSA", key.kid, "RS256", "sig", "AQAB")


def test_the_jwk_set_carries_no_private_member(ring):
    jwks = ring.jwks()
    assert [k["kid"] for k in jwks["keys"]] == [k.kid for k in ring.keys]
    for jwk in jwks["keys"]:
        for member in PRIVATE_MEMBERS:
            assert member not in jwk
    text = json.dumps(jwks)
    for k in ring.keys:
        private = k.key.as_dict(private=True)
        for member in ("d", "p", "q", "dp", "dq", "qi"):
            assert private[member] not in text


def test_the_published_keys_import_as_public_keys(ring):
    keyset = ring.public_key_set()
    assert [k.kid for k in keyset.keys] == [k.kid for k in ring.keys]
    assert not any(k.is_private for k in keyset.keys)


def test_no_repr_shows_private_material(key, ring):
    d = key.key.as_dict(private=True)["d"]
    assert d not in repr(key)
    assert d not in repr(ring)
    assert repr(key).startswith(f"SigningKey(kid='{key.kid}', created_at=")


def test_private_serialisation_round_trips_through_json(ring):
    data = json.loads(json.dumps(ring.to_private_dict()))
    again = KeyRing.from_private_dict(data)
    assert again == ring
    assert again.current.kid == ring.current.kid
    assert again.current.key.as_dict(private=True) == ring.current.key.as_dict(private=True)
    assert [k.created_at for k in again.keys] == [k.created_at for k in ring.keys]
    assert data["keys"][0]["jwk"]["d"] == ring.current.key.as_dict(private=True)["d"]


def test_a_retired_at_survives_serialisation(ring):
    retired = ring.retire(ring.keys[2].kid, now=T0 + dt.timedelta(hours=3))
    again = KeyRing.from_private_dict(json.loads(json.dumps(retired.to_private_dict())))
    assert [k.retired_at for k in again.keys] == [None, None, T0 + dt.timedelta(hours=3)]


def broken(key, **changes):
    data = key.to_private_dict()
    jwk = dict(data["jwk"])
    for name, value in changes.pop("jwk", {}).items():
        if value is None:
            jwk.pop(name)
        else:
            jwk[name] = value
    return {**data, "jwk": jwk, **changes}


@pytest.mark.parametrize(("changes", "message"), [
    ({"kid": "other"}, "signing key other: jwk kid differs"),
    ({"kid": None}, "signing key: kid missing"),
    ({"alg": "HS256"}, "alg must be RS256"),
    ({"jwk": {"d": None}}, "must be a private RSA JWK"),
    ({"jwk": {"kty": "oct"}}, "must be a private RSA JWK"),
    ({"jwk": {"p": None}}, "jwk is not a valid RSA key"),
    ({"jwk": {"n": "AQAB"}}, "RSA keys must be at least 2048 bits"),
    ({"jwk": {"n": "!!"}}, "jwk is not a valid RSA key"),
    ({"jwk": {"e": "Aw"}}, "jwk is not a valid RSA key"),
    ({"jwk": {"d": 5}}, "jwk is not a valid RSA key"),
    ({"jwk": {"kid": None}, "kid": "A" * 43}, "kid is not the RFC 7638 thumbprint"),
    ({"created_at": "yesterday"}, "created_at is not an ISO 8601 time"),
    ({"created_at": "2026-03-01T12:00:00"}, "timezone-aware"),
    ({"created_at": None}, "created_at must be an ISO 8601 string"),
    ({"retired_at": 5}, "retired_at must be an ISO 8601 string"),
])
def test_loading_refuses_what_is_not_a_proper_signing_key_without_quoting_it(key, changes, message):
    with pytest.raises(ValueError) as caught:
        SigningKey.from_private_dict(broken(key, **changes))
    assert message in str(caught.value)
    private = key.key.as_dict(private=True)
    for member in ("d", "p", "q"):
        assert private[member] not in str(caught.value)
    assert caught.value.__cause__ is None


def test_loading_refuses_a_small_key():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = RSAKey.generate_key(1024)
    data = {"kid": small.thumbprint(), "created_at": T0.isoformat(), "jwk": small.as_dict(private=True)}
    with pytest.raises(ValueError, match="at least 2048 bits"):
        SigningKey.from_private_dict(data)


def test_a_ring_with_duplicate_or_retired_current_keys_is_refused(key):
    with pytest.raises(ValueError, match="duplicate kid"):
        KeyRing((key, key))
    with pytest.raises(ValueError, match="current key is retired"):
        KeyRing((SigningKey(key.kid, key.key, T0, retired_at=T0),))
    with pytest.raises(ValueError, match="at least one"):
        KeyRing(())
    with pytest.raises(ValueError, match="a list of keys"):
        KeyRing.from_private_dict({"keys": "x"})


def test_rotation_makes_a_new_current_key_and_keeps_the_old_one_published(key):
    ring = KeyRing((key,))
    later = T0 + dt.timedelta(days=30)
    rotated = ring.rotate(later)
    assert rotated.current.kid not in (key.kid,)
    assert rotated.current.created_at == later
    assert [k.kid for k in rotated.keys] == [rotated.current.kid, key.kid]
    assert [k["kid"] for k in rotated.jwks()["keys"]] == [rotated.current.kid, key.kid]
    assert ring.keys == (key,)  # the ring is immutable


def test_rotation_cannot_go_back_in_time(key):
    with pytest.raises(ValueError, match="before the current key"):
        KeyRing((key,)).rotate(T0 - dt.timedelta(seconds=1))


def test_retiring_withdraws_a_key_from_the_jwk_set(ring):
    old = ring.keys[1]
    later = T0 + dt.timedelta(hours=3)
    retired = ring.retire(old.kid, now=later)
    assert retired.get(old.kid).retired_at == later
    assert [k["kid"] for k in retired.jwks()["keys"]] == [ring.keys[0].kid, ring.keys[2].kid]
    assert [k.kid for k in retired.public_key_set().keys] == [ring.keys[0].kid, ring.keys[2].kid]
    assert retired.retire(old.kid, now=later + dt.timedelta(hours=1)) is retired
    assert retired.current is ring.current
    assert [k.kid for k in retired.purge_retired().keys] == [ring.keys[0].kid, ring.keys[2].kid]


def test_the_current_key_cannot_be_retired_nor_an_unknown_one(ring):
    with pytest.raises(ValueError, match="rotate first"):
        ring.retire(ring.current.kid, now=T0)
    with pytest.raises(KeyError):
        ring.retire("nope", now=T0)


def test_retire_older_than_counts_from_when_a_key_stopped_signing(ring):
    # keys[2] signed until T0+1h, keys[1] until T0+2h, keys[0] still signs.
    at = T0 + dt.timedelta(hours=5)
    assert ring.retire_older_than(T0 + dt.timedelta(minutes=59), now=at) is ring
    one = ring.retire_older_than(T0 + dt.timedelta(hours=1), now=at)
    assert [k.retired_at for k in one.keys] == [None, None, at]
    two = ring.retire_older_than(T0 + dt.timedelta(hours=2), now=at)
    assert [k.retired_at for k in two.keys] == [None, at, at]
    # The current key is never retired, however old.
    assert ring.retire_older_than(T0 + dt.timedelta(days=999), now=at).current.retired_at is None
    # Keys retired before keep their retirement time.
    assert two.retire_older_than(T0 + dt.timedelta(hours=2), now=at + dt.timedelta(hours=1)) is two
