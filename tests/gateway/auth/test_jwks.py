"""`gateway.auth.jwks`: an external provider's JWKS fetched from a real server on 127.0.0.1
(`tests.gateway.idp_support`), cached, refreshed at most once per interval, kept when a
later fetch fails; the clock is the caller's `now`, so no test sleeps."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from joserfc.jwk import OctKey, RSAKey

from gateway.auth.jwks import JwksCache, JwksError, JwksUnavailable, parse_key_set, redacted
from tests.gateway.idp_support import IdP, closed_port_url, ec_key, rsa_key, running

INTERVAL, MAX_AGE = 60, 3600


@pytest.fixture(scope="module")
def keys():
    return rsa_key("k1"), rsa_key("k2"), ec_key("e1")


def cache(url: str, **options) -> JwksCache:
    options.setdefault("refresh_interval", INTERVAL)
    options.setdefault("max_age", MAX_AGE)
    return JwksCache(url, issuer="https://idp.example.com/", **options)


def kids(key_set) -> list[str]:
    return sorted(k.kid for k in key_set.keys)


async def test_fetched_on_first_use_then_cached_until_max_age(keys):
    idp = IdP(keys=[keys[0]])
    async with running(idp) as url:
        jwks = cache(url)
        assert idp.fetches == 0  # nothing at construction: start-up needs no provider
        assert kids(await jwks.key_set(1000)) == ["k1"]
        assert kids(await jwks.key_set(1000 + MAX_AGE - 1)) == ["k1"]
        assert idp.fetches == 1
        idp.keys = [keys[1]]
        assert kids(await jwks.key_set(1000 + MAX_AGE)) == ["k2"]
        assert idp.fetches == 2


@pytest.mark.parametrize("header, age", [
    ("public, max-age=300", 300),        # shorter than jwks_max_age: the response wins
    ("max-age=5", INTERVAL),              # but never below the refresh interval
    ("max-age=86400", MAX_AGE),           # nor above jwks_max_age
    ("no-store", INTERVAL),
])
async def test_cache_control_max_age_bounded(keys, header, age):
    idp = IdP(keys=[keys[0]], cache_control=header)
    async with running(idp) as url:
        jwks = cache(url)
        await jwks.key_set(0)
        await jwks.key_set(age - 1)
        assert idp.fetches == 1
        await jwks.key_set(age)
        assert idp.fetches == 2


async def test_an_unknown_kid_refreshes_at_most_once_per_interval(keys):
    idp = IdP(keys=[keys[0]])
    async with running(idp) as url:
        jwks = cache(url)
        await jwks.key_set(0)
        # Within the interval since the first fetch: no refresh, however many forged kids.
        for moment in range(0, INTERVAL, 3):
            assert await jwks.refreshed(moment) is None
        assert idp.fetches == 1
        idp.keys = [keys[0], keys[1]]  # rotated at the provider
        fresh = await jwks.refreshed(INTERVAL)
        assert kids(fresh) == ["k1", "k2"] and idp.fetches == 2
        for moment in range(INTERVAL, 2 * INTERVAL, 3):
            assert await jwks.refreshed(moment) is None
        assert idp.fetches == 2
        assert kids(await jwks.key_set(2 * INTERVAL - 1)) == ["k1", "k2"]  # no fetch either
        assert idp.fetches == 2


async def test_concurrent_callers_wait_for_one_fetch(keys):
    idp = IdP(keys=[keys[0]])
    async with running(idp) as url:
        jwks = cache(url)
        sets = await asyncio.gather(*(jwks.key_set(0) for _ in range(20)))
        assert idp.fetches == 1
        assert all(s is sets[0] for s in sets)
        # The same for refreshes of many tokens with an unknown kid at once.
        idp.keys = [keys[1]]
        fresh = await asyncio.gather(*(jwks.refreshed(INTERVAL) for _ in range(20)))
        assert idp.fetches == 2
        assert all(kids(f) == ["k2"] for f in fresh)


async def test_provider_down_at_first_use_then_back(keys, caplog):
    caplog.set_level(logging.INFO)
    idp = IdP(keys=[keys[0]], status=503)
    async with running(idp) as url:
        jwks = cache(url)
        with pytest.raises(JwksUnavailable) as raised:
            await jwks.key_set(100)
        assert raised.value.retry_after == INTERVAL
        assert "HTTP 503 (no keys yet)" in caplog.text
        # Retried no sooner than the interval: meanwhile unavailable without a request.
        with pytest.raises(JwksUnavailable) as raised:
            await jwks.key_set(100 + INTERVAL - 10)
        assert raised.value.retry_after == 10
        assert idp.fetches == 1
        idp.status = 200
        assert kids(await jwks.key_set(100 + INTERVAL)) == ["k1"]
        assert idp.fetches == 2


async def test_provider_down_later_keeps_the_keys(keys, caplog):
    caplog.set_level(logging.INFO)
    idp = IdP(keys=[keys[0]])
    async with running(idp) as url:
        jwks = cache(url)
        first = await jwks.key_set(0)
        idp.status = 500
        assert await jwks.key_set(MAX_AGE + 1) is first  # stale, refetch failed: kept
        assert await jwks.refreshed(MAX_AGE + 1 + INTERVAL) is None
        assert idp.fetches == 3
        assert "HTTP 500 (keeping the keys fetched before)" in caplog.text


async def test_unreachable_provider_and_credentials_in_the_url(keys, caplog):
    caplog.set_level(logging.DEBUG)
    url = closed_port_url().replace("http://", "http://svc:hunter2@")
    jwks = cache(url, timeout=2.0)
    with pytest.raises(JwksUnavailable) as raised:
        await jwks.key_set(0)
    assert "hunter2" not in str(raised.value) and "hunter2" not in caplog.text
    assert "the request failed (ConnectError)" in caplog.text
    assert redacted(url) in caplog.text and "svc" not in redacted(url)
    # The credentials do reach the provider (as HTTP Basic), only never a log line.
    idp = IdP(keys=[keys[0]])
    async with running(idp) as served:
        jwks = cache(served.replace("http://", "http://svc:hunter2@"))
        await jwks.key_set(0)
    assert idp.authorization == "Basic c3ZjOmh1bnRlcjI="
    assert "hunter2" not in caplog.text


async def test_a_response_over_the_size_cap_is_a_failure(keys, caplog):
    caplog.set_level(logging.INFO)
    idp = IdP(body=json.dumps({"keys": [keys[0].as_dict(private=False)], "pad": "x" * 5000}).encode())
    async with running(idp) as url:
        with pytest.raises(JwksUnavailable):
            await cache(url, max_bytes=4096).key_set(0)
        assert "larger than 4096 bytes" in caplog.text
        assert kids(await cache(url, max_bytes=8192).key_set(0)) == ["k1"]


@pytest.mark.parametrize("status", [301, 404])
async def test_redirects_are_not_followed_and_errors_fail(keys, status):
    idp = IdP(keys=[keys[0]], status=status)
    async with running(idp) as url:
        with pytest.raises(JwksUnavailable):
            await cache(url).key_set(0)


def test_only_public_signature_keys_are_kept(keys):
    rsa, _, ec = keys
    public = rsa.as_dict(private=False)
    document = {"keys": [
        public,
        ec.as_dict(private=False),
        {**public, "kid": "enc", "use": "enc"},
        {**public, "kid": "ops", "key_ops": ["encrypt"]},
        {**public, "kid": "ops-ok", "key_ops": ["verify"]},
        {k: v for k, v in public.items() if k != "kid"},
        {**RSAKey.generate_key(2048, parameters={"kid": "private"}).as_dict(private=True)},
        {**OctKey.generate_key(256, parameters={"kid": "hmac"}).as_dict(private=True)},
        {"kty": "ML-DSA", "kid": "pq", "pub": "AAAA"},
        {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
        "not a key",
    ]}
    key_set, skipped = parse_key_set(json.dumps(document).encode())
    assert kids(key_set) == ["e1", "k1", "ops-ok"]
    assert skipped == 8


@pytest.mark.parametrize("body, message", [
    (b"<html>", "the response is not JSON"),
    (b"[]", "not a JWK set"),
    (b'{"keys": {}}', "not a JWK set"),
    (b'{"keys": [{"kty": "oct", "kid": "a", "k": "AAAA"}]}', r"no usable signature key \(1 skipped\)"),
])
def test_not_a_usable_key_set(body, message):
    with pytest.raises(JwksError, match=message):
        parse_key_set(body)


def test_redacted():
    assert redacted("https://u:p@idp.example.com:8443/keys?token=x#f") == "https://idp.example.com:8443/keys"
    assert redacted("http://[::1]:9/k") == "http://[::1]:9/k"


def test_the_interval_cannot_exceed_the_max_age():
    with pytest.raises(ValueError):
        JwksCache("https://idp/keys", issuer="i", refresh_interval=100, max_age=50)
