"""An external identity provider's public keys: its JWKS, fetched over HTTP and cached.

`JwksCache(url, …)`, told the time by its caller (`now`, seconds; the bearer resolver's
clock, so tests move one clock):

- `key_set(now)`: the keys to verify with. Fetched lazily, on the first token (so the gateway
  starts whether or not the provider is up), and again on the first token after they are
  `max_age` old (the response's `Cache-Control: max-age`, if shorter, bounded below by the
  refresh interval). A failed fetch keeps the keys fetched before and is logged; with no
  keys ever fetched it raises `JwksUnavailable` (→ 503 with Retry-After).
- `refreshed(now)`: after a token of an unknown `kid` (the provider may have rotated): the keys
  fetched anew, or None.
- At most one fetch per `refresh_interval`, whatever asks for it (first use, staleness, an
  unknown kid, a retry after a failure), so a flood of tokens with forged kids costs the
  provider one request per interval; and one at a time: concurrent callers wait for the
  fetch under way instead of starting their own.

A fetch: GET with a timeout, no redirects, at most `max_bytes` read; a JSON object whose
`keys` are imported one by one with joserfc, keeping only public signature keys (RSA, EC,
OKP with a `kid`; `use` absent or `sig`; `key_ops`, if any, allowing `verify`) and skipping
the rest (RFC 7517 §5: a key that is not understood is ignored). A response with no usable
key counts as a failure. The URL may carry credentials (`https://user:pass@…`): they are
sent as HTTP Basic, and logs and errors name the URL without them (`redacted`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

log = logging.getLogger("ledgergate.auth")

FETCH_TIMEOUT = 5.0
MAX_JWKS_BYTES = 256 * 1024
_KEY_CLASSES = {"RSA": RSAKey, "EC": ECKey, "OKP": OKPKey}
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)


class JwksUnavailable(Exception):
    """No keys were ever fetched and the provider cannot be reached now.

    Attributes:
        retry_after: whole seconds until the next fetch may be tried (at least 1).
    """

    def __init__(self, retry_after: int):
        super().__init__("the identity provider's keys cannot be fetched")
        self.retry_after = retry_after


class JwksError(Exception):
    """A fetch that failed; the message names the URL without credentials and quotes
    nothing of the response."""


def redacted(url: str) -> str:
    """The URL without credentials, query or fragment: safe to log."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "(an invalid URL)"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _without_credentials(url: str) -> tuple[str, httpx.BasicAuth | None]:
    """The URL without its user info, and that as HTTP Basic credentials: httpx logs the
    URL of every request (INFO), so the credentials must not be in it."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    netloc = parts.netloc.rpartition("@")[2]
    auth = httpx.BasicAuth(unquote(parts.username or ""), unquote(parts.password or ""))
    return urlunsplit(parts._replace(netloc=netloc)), auth


def _max_age(cache_control: str | None) -> int | None:
    if not cache_control:
        return None
    if "no-store" in cache_control.lower() or "no-cache" in cache_control.lower():
        return 0
    match = _MAX_AGE.search(cache_control)
    return int(match.group(1)) if match else None


def _signature_key(data: object) -> bool:
    if not isinstance(data, dict) or data.get("kty") not in _KEY_CLASSES:
        return False
    if not isinstance(data.get("kid"), str) or not data["kid"]:
        return False  # tokens name their key by kid; a key without one is never chosen
    if data.get("use", "sig") != "sig":
        return False
    ops = data.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return False
    # A provider publishing a private key is broken; do not hold its secret in memory.
    return not (_PRIVATE_MEMBERS & set(data))


def parse_key_set(body: bytes) -> tuple[KeySet, int]:
    """The usable signature keys of a JWKS document, and how many were skipped;
    JwksError if it is not a JWKS or has no usable key."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeError):
        raise JwksError("the response is not JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksError("the response is not a JWK set (no \"keys\" list)")
    keys = []
    for data in document["keys"]:
        if not _signature_key(data):
            continue
        try:
            keys.extend(KeySet.import_key_set({"keys": [data]}).keys)
        except (JoseError, ValueError, TypeError, KeyError):
            continue  # malformed parameters: skipped like an unknown kty
    skipped = len(document["keys"]) - len(keys)
    if not keys:
        raise JwksError(f"the JWK set has no usable signature key ({skipped} skipped)")
    return KeySet(keys), skipped


class JwksCache:
    """One issuer's JWKS (see the module's docstring).

    Args:
        url: the JWKS URL (http or https).
        issuer: the issuer it belongs to, for log lines.
        refresh_interval: least seconds between two fetches.
        max_age: seconds fetched keys are used before they are fetched again.
        timeout: seconds a fetch may take (connect, read) before it fails.
        max_bytes: the largest response read.
        transport: an httpx transport (tests), else httpx's default.
    """

    def __init__(
        self,
        url: str,
        *,
        issuer: str,
        refresh_interval: float,
        max_age: float,
        timeout: float = FETCH_TIMEOUT,
        max_bytes: int = MAX_JWKS_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        if not 0 < refresh_interval <= max_age:
            raise ValueError("jwks: 0 < refresh_interval <= max_age")
        self.url = url
        self.issuer = issuer
        self.refresh_interval = refresh_interval
        self.max_age = max_age
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.transport = transport
        self._request_url, self._auth = _without_credentials(url)
        self._keys: KeySet | None = None
        self._fetched_at = -math.inf  # when the keys were fetched
        self._age = 0.0  # and for how long they are used
        self._attempted = -math.inf  # the last fetch started
        self._pending: asyncio.Future | None = None

    @property
    def keys(self) -> KeySet | None:
        """The keys fetched last, or None."""
        return self._keys

    async def key_set(self, now: float) -> KeySet:
        # Ages are measured forwards only: a clock set back makes keys neither fresh for
        # ever nor a fetch impossible for as long.
        if self._keys is not None and 0 <= now - self._fetched_at < self._age:
            return self._keys
        await self._fetch_if_allowed(now)
        if self._keys is None:
            raise JwksUnavailable(self._retry_after(now))
        return self._keys

    async def refreshed(self, now: float) -> KeySet | None:
        """The keys fetched anew after an unknown `kid`, or None: not allowed yet (the
        interval since the last fetch has not passed) or the fetch failed."""
        fetched = await self._fetch_if_allowed(now)
        return self._keys if fetched else None

    def _retry_after(self, now: float) -> int:
        wait = self._attempted + self.refresh_interval - now
        return max(1, min(math.ceil(wait), math.ceil(self.refresh_interval)))

    async def _fetch_if_allowed(self, now: float) -> bool:
        """Wait for the fetch under way, or start one if the interval allows; whether keys
        were fetched."""
        if self._pending is None:
            if 0 <= now - self._attempted < self.refresh_interval:
                return False
            self._attempted = now
            self._pending = asyncio.ensure_future(self._fetch(now))
            self._pending.add_done_callback(self._done)
        # Shielded: a caller cancelled (its client went away) does not cancel the fetch the
        # others wait for.
        return await asyncio.shield(self._pending)

    def _done(self, _future: asyncio.Future) -> None:
        self._pending = None

    async def _fetch(self, now: float) -> bool:
        try:
            body, cache_control = await self._get()
            keys, skipped = parse_key_set(body)
        except Exception as error:  # noqa: BLE001 - whatever fails, the previous keys stay
            if not isinstance(error, JwksError):  # its message might quote the URL
                error = JwksError(f"unexpected {type(error).__name__}")
            kept = "keeping the keys fetched before" if self._keys is not None else "no keys yet"
            log.error("JWKS of issuer %s from %s: %s (%s)", self.issuer, redacted(self.url),
                      error, kept)
            return False
        age = self.max_age
        advertised = _max_age(cache_control)
        if advertised is not None:
            age = min(self.max_age, max(advertised, self.refresh_interval))
        self._keys = keys
        self._fetched_at, self._age = now, age
        log.info("JWKS of issuer %s from %s: %d key(s)%s", self.issuer, redacted(self.url),
                 len(keys.keys), f", {skipped} skipped" if skipped else "")
        return True

    async def _get(self) -> tuple[bytes, str | None]:
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout, follow_redirects=False,
                                  transport=self.transport) as http,
                http.stream("GET", self._request_url, headers={"Accept": "application/json"},
                            auth=self._auth) as response,
            ):
                if response.status_code != 200:
                    raise JwksError(f"HTTP {response.status_code}")
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                    raise JwksError(f"the response is larger than {self.max_bytes} bytes")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise JwksError(f"the response is larger than {self.max_bytes} bytes")
                return bytes(body), response.headers.get("cache-control")
        except httpx.HTTPError as error:
            # httpx's messages may quote the URL, credentials included: name the kind only.
            raise JwksError(f"the request failed ({type(error).__name__})") from None


__all__ = ["JwksCache", "JwksError", "JwksUnavailable", "parse_key_set", "redacted"]
