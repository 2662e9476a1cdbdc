"""REST source systems over HTTP (httpx): a batch endpoint where the system has one, else one
GET per id, a bounded number at a time.

    [systems.crm]
    kind = "rest"
    base_url = "http://127.0.0.1:8101"
    auth = "api_key"                     # or "oauth2_client_credentials", or leave it out
    api_key_header = "X-API-Key"         # api_key: the key is secrets["api_key"]
    # token_url = "/oauth/token"         # oauth2: client_id, scope; secrets["client_secret"]
    max_concurrency = 8                  # requests in flight at once
    http_timeout = 30.0                  # a backstop; the policy's timeout is the real one
    [systems.crm.types.SalesOrder]
    batch_path = "/crm/sales-orders"     # GET {base}{batch_path}?ids=a,b,c -> [..] or {"items": [..]}
    max_batch = 200                      # optional: ids per request
    [systems.usage.types.UsageRecord]
    item_path = "/usage/records/{id}"    # GET per id; 404 = no such record
    [systems.crm.deliveries]             # the write side (`ledger.outbox`): topic = path
    salesOrder = "/crm/ledger/sales-orders"   # POST {base}{path}, JSON, Idempotency-Key

An id containing a comma cannot travel in `?ids=` and is left absent. JSON numbers are read
as exact `Decimal`s, never floats.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import warnings
from collections.abc import Awaitable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from .base import FetchRequest, FetchResult, RecordType, Source, collect
from .errors import DeliveryRefused, SourceProtocolError, SourceTimeout, SourceUnavailable
from .options import positive_int, refuse_unknown, seconds

AUTH_KINDS = ("api_key", "oauth2_client_credentials")
SYSTEM_OPTIONS = frozenset(
    {"base_url", "auth", "api_key_header", "token_url", "client_id", "scope",
     "max_concurrency", "http_timeout"}
)
TYPE_OPTIONS = frozenset({"batch_path", "item_path", "max_batch"})
DEFAULT_MAX_CONCURRENCY = 8
DEFAULT_HTTP_TIMEOUT = 30.0
# Statuses worth calling again later; every other 4xx would fail the same way again.
RETRYABLE_STATUSES = frozenset({408, 425, 429})
_HEADER = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


def redact(message: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message


@contextlib.contextmanager
def map_exceptions(system: str, *, secrets: Iterable[str] = ()) -> Iterator[None]:
    """httpx's (and authlib's) exceptions as `sources.errors`, with `secrets` blanked out."""
    try:
        yield
    except httpx.TimeoutException as error:
        raise SourceTimeout(system, _describe(error, secrets)) from None
    except httpx.HTTPStatusError as error:
        raise status_error(system, error.response, "token endpoint") from None
    except (httpx.DecodingError, httpx.TooManyRedirects) as error:
        raise SourceProtocolError(system, _describe(error, secrets)) from None
    except httpx.HTTPError as error:  # connect, read, write, remote protocol, bad URL
        raise SourceUnavailable(system, _describe(error, secrets)) from None
    except httpx.InvalidURL as error:
        raise SourceUnavailable(system, _describe(error, secrets)) from None


def _describe(error: Exception, secrets: Iterable[str]) -> str:
    detail = str(error) or "no detail"
    try:
        request = error.request  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # not every error knows its request
        where = ""
    else:
        where = f" ({request.method} {request.url.copy_with(query=None)})"
    return redact(f"{type(error).__name__}: {detail}{where}"[:300], secrets)


def status_error(system: str, response: httpx.Response, what: str) -> SourceUnavailable:
    status = response.status_code
    said = f"{what} answered HTTP {status}"
    if status >= 500 or status in RETRYABLE_STATUSES:
        return SourceUnavailable(system, said)
    if status in (401, 403):
        return SourceUnavailable(system, f"{said}: the system refused our credentials")
    return SourceProtocolError(system, said)


def decode_json(system: str, response: httpx.Response, what: str) -> Any:
    """The body as JSON (numbers with a fraction as `Decimal`), or a `SourceProtocolError`."""
    try:
        return json.loads(response.content, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        raise SourceProtocolError(
            system, f"{what} answered HTTP {response.status_code} with a body that is not JSON ({kind})"
        ) from None


async def gather_or_cancel(calls: Iterable[Awaitable[Any]]) -> list[Any]:
    """Run `calls` together; the first failure cancels the others and is raised."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


@dataclass(frozen=True)
class Route:
    """Where the records of one type are: `batch_path` or `item_path`, never both."""

    batch_path: str | None = None
    item_path: str | None = None
    max_batch: int | None = None

    @classmethod
    def of(cls, record_type: RecordType) -> Route:
        options = record_type.options
        where = f"types.{record_type.name}"
        refuse_unknown(options, TYPE_OPTIONS, "rest", where)
        batch, item = options.get("batch_path"), options.get("item_path")
        if (batch is None) == (item is None):
            raise ValueError(
                f"{where}: give exactly one of batch_path (GET path?ids=a,b) "
                "or item_path (GET a path with {id}, one record per call)"
            )
        for key, path in (("batch_path", batch), ("item_path", item)):
            if path is not None and not (isinstance(path, str) and path.startswith("/")):
                raise ValueError(f"{where}: {key} must be a path starting with /, got {path!r}")
        if item is not None and "{id}" not in item:
            raise ValueError(f"{where}: item_path must contain {{id}}, got {item!r}")
        max_batch = options.get("max_batch")
        if max_batch is not None and not positive_int(max_batch):
            raise ValueError(f"{where}: max_batch must be a positive integer, got {max_batch!r}")
        return cls(batch, item, max_batch)


class RestSource(Source):
    """A REST system; see the module docstring for its options.

    `transport` replaces the network (an `httpx.ASGITransport` around an app in process, an
    `httpx.MockTransport`); authentication and everything else work as over the network.

    Attributes:
        record_types: the types it serves, as configured.
        client: the `httpx.AsyncClient` (authlib's `AsyncOAuth2Client` for oauth2).
    """

    def __init__(
        self,
        name: str,
        options: Mapping[str, Any],
        record_types: Sequence[RecordType],
        secrets: Mapping[str, str],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.name = name
        self.record_types = tuple(record_types)
        refuse_unknown(options, SYSTEM_OPTIONS, "rest")
        base_url = _base_url(options.get("base_url"))
        self._routes = {t.name: Route.of(t) for t in self.record_types}
        max_concurrency = options.get("max_concurrency", DEFAULT_MAX_CONCURRENCY)
        if not positive_int(max_concurrency):
            raise ValueError(f"max_concurrency must be a positive integer, got {max_concurrency!r}")
        timeout = seconds(options, "http_timeout", DEFAULT_HTTP_TIMEOUT)
        self._slots = asyncio.Semaphore(max_concurrency)
        self._token_lock = asyncio.Lock()
        self._oauth = False
        common = {"base_url": base_url, "transport": transport, "timeout": timeout}
        auth = options.get("auth")
        if auth is None:
            self._secrets: tuple[str, ...] = ()
            self.client = httpx.AsyncClient(**common)
        elif auth == "api_key":
            headers = api_key_headers(options, secrets)
            self._secrets = tuple(headers.values())
            self.client = httpx.AsyncClient(headers=headers, **common)
        elif auth == "oauth2_client_credentials":
            self.client = self._oauth_client(options, secrets, common)
        else:
            raise ValueError(f"auth must be one of {', '.join(AUTH_KINDS)}, got {auth!r}")

    def _oauth_client(
        self, options: Mapping[str, Any], secrets: Mapping[str, str], common: dict[str, Any]
    ) -> httpx.AsyncClient:
        for key in ("token_url", "client_id"):
            if not (isinstance(options.get(key), str) and options[key]):
                raise ValueError(f"auth = 'oauth2_client_credentials' needs {key}")
        scope = options.get("scope")
        if scope is not None and not isinstance(scope, str):
            raise ValueError(f"scope must be a space-separated string, got {scope!r}")
        client_secret = _secret(secrets, "client_secret", "oauth2_client_credentials")
        self._secrets = (client_secret,)
        self._oauth = True
        # Imported here, as api-key systems never need it; authlib's import-time nudge
        # towards its httpx2 integration is not for ledgergate's operators.
        # authlib.deprecate puts an "always" filter first when imported, so it must be
        # imported before ours goes in front of it.
        import authlib.deprecate  # noqa: F401

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "The httpx module is deprecated")
            from authlib.integrations.httpx_client import AsyncOAuth2Client

        return AsyncOAuth2Client(
            client_id=options["client_id"],
            client_secret=client_secret,
            scope=scope,
            token_endpoint=options["token_url"],
            grant_type="client_credentials",
            **common,
        )

    async def fetch(self, request: FetchRequest) -> FetchResult:
        record_type = request.record_type
        route = self._routes.get(record_type.name) or Route.of(record_type)
        ids = [i for i in dict.fromkeys(request.ids) if i]
        if route.item_path is not None:
            calls = (self._one(route.item_path, record_id) for record_id in ids)
            found = await gather_or_cancel(calls)
            raw = [record for record in found if record is not None]
        else:
            ids = [i for i in ids if "," not in i]
            size = route.max_batch or max(len(ids), 1)
            chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
            batches = await gather_or_cancel(self._batch(route.batch_path, c) for c in chunks)
            raw = [record for batch in batches for record in batch]
        return collect(request, raw)

    can_deliver = True

    async def deliver(self, path: str, idempotency_key: str, payload: Mapping[str, Any]) -> None:
        """POST the message as JSON with an `Idempotency-Key` header. 2xx: taken. 5xx, 408,
        425, 429, a timeout or a broken connection: `SourceUnavailable`/`SourceTimeout`
        (retry later, same key). Any other answer: `DeliveryRefused`."""
        body = json.dumps(payload, separators=(",", ":"), default=str).encode()
        headers = {"Idempotency-Key": idempotency_key, "Content-Type": "application/json"}
        async with self._slots:
            with map_exceptions(self.name, secrets=self._hidden()), self._token_errors():
                token = await self._token()
                response = await self.client.post(path, content=body, headers=headers)
                if response.status_code == 401 and self._oauth:
                    await self._token(stale=token)
                    response = await self.client.post(path, content=body, headers=headers)
        status = response.status_code
        if 200 <= status < 300:
            return
        what = f"POST {path}"
        if status >= 500 or status in RETRYABLE_STATUSES or status in (401, 403):
            raise status_error(self.name, response, what)
        said = redact(response.text[:200], self._hidden()).strip()
        raise DeliveryRefused(self.name, f"{what} answered HTTP {status}" + (f": {said}" if said else ""))

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _batch(self, path: str, ids: list[str]) -> list[Any]:
        response = await self._get(path, {"ids": ",".join(ids)})
        if response.status_code != 200:
            raise status_error(self.name, response, f"GET {path}")
        body = decode_json(self.name, response, f"GET {path}")
        if isinstance(body, Mapping) and isinstance(body.get("items"), list):
            return body["items"]
        if isinstance(body, list):
            return body
        raise SourceProtocolError(
            self.name, f'GET {path} answered neither a JSON list nor {{"items": [...]}}'
        )

    async def _one(self, item_path: str, record_id: str) -> Any:
        path = item_path.replace("{id}", quote(record_id, safe=""))
        response = await self._get(path)
        if response.status_code == 404:
            return None
        what = f"GET {item_path}"
        if response.status_code != 200:
            raise status_error(self.name, response, what)
        body = decode_json(self.name, response, what)
        if not isinstance(body, Mapping):
            raise SourceProtocolError(self.name, f"{what} answered JSON that is not an object")
        return body

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        async with self._slots:
            with map_exceptions(self.name, secrets=self._hidden()), self._token_errors():
                token = await self._token()
                response = await self.client.get(path, params=params)
                if response.status_code == 401 and self._oauth:
                    # Revoked before it expired: one new token, one more try.
                    await self._token(stale=token)
                    response = await self.client.get(path, params=params)
                return response

    async def _token(self, stale: str | None = None) -> str | None:
        """The access token in use: fetched on first use and when `stale` was refused;
        authlib's client renews it when it expires."""
        if not self._oauth:
            return None
        current = _access_token(self.client)
        if current is not None and current != stale:
            return current
        async with self._token_lock:
            current = _access_token(self.client)
            if current is None or current == stale:
                await self.client.fetch_token()  # type: ignore[attr-defined]
                current = _access_token(self.client)
                if current is None:
                    raise ValueError("no access_token")
            return current

    @contextlib.contextmanager
    def _token_errors(self) -> Iterator[None]:
        if not self._oauth:
            yield
            return
        from authlib.integrations.base_client import OAuthError

        try:
            yield
        except OAuthError as error:
            reason = redact(f"{error.error}: {error.description}"[:200], self._hidden())
            raise SourceUnavailable(
                self.name, f"the token endpoint refused a token ({reason})"
            ) from None
        except ValueError:  # authlib's word for a token response that is no token
            raise SourceProtocolError(
                self.name, "the token endpoint answered something that is not a token"
            ) from None

    def _hidden(self) -> tuple[str, ...]:
        token = _access_token(self.client) if self._oauth else None
        return (*self._secrets, token) if token else self._secrets


def _access_token(client: Any) -> str | None:
    token = client.token
    value = token.get("access_token") if isinstance(token, Mapping) else None
    return value if isinstance(value, str) and value else None


def _base_url(value: object) -> str:
    if not (isinstance(value, str) and value):
        raise ValueError("base_url is missing: the system's root URL, e.g. http://127.0.0.1:8101")
    parts = urlsplit(value)
    if "@" in parts.netloc:
        # Never echo it: the password is in it.
        raise ValueError("base_url must not carry credentials; use auth and the system's credentials")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def api_key_headers(options: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, str]:
    """``{api_key_header: secrets["api_key"]}``, for every kind that takes ``auth = "api_key"``."""
    header = options.get("api_key_header", "X-API-Key")
    if not (isinstance(header, str) and _HEADER.match(header)):
        raise ValueError(f"api_key_header must be an HTTP header name, got {header!r}")
    return {header: _secret(secrets, "api_key", "api_key")}


def _secret(secrets: Mapping[str, str], key: str, auth: str) -> str:
    value = secrets.get(key)
    if not (isinstance(value, str) and value):
        raise ValueError(f"auth = {auth!r} needs the secret {key!r} in the system's credentials")
    return value
