"""Remote GraphQL systems: an Apollo Federation 2 subgraph, read through `_entities`.

    [systems.hr]
    kind = "graphql"
    url = "http://127.0.0.1:8103/graphql"
    url_templates = { Employee = "http://127.0.0.1:8103/employees/{id}" }
    auth = "api_key"                     # or leave it out
    api_key_header = "X-API-Key"         # api_key: the key is secrets["api_key"]

Its record types are the subgraph's entities, read from `_service { sdl }` at start
(`discover_record_types`, `sources.discovery`). A fetch is one POST per batch,

    query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Employee { id name } } }

with one representation `{"__typename": "Employee", "id": ...}` per id and only the fields the
client selected (and the key): no over-fetching. The remote type is the record type's name
unless its options say `remote_type`.

An answer with `errors` and no data fails the batch (`SourceUnavailable`, with the
subgraph's message); partial data with errors gives the records that came back.

With ``auth = "api_key"`` every request, discovery's included, carries the system's
``api_key`` secret in ``api_key_header``; the key is blanked out of every error message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from .base import FetchRequest, FetchResult, RecordType, Source, collect
from .discovery import record_types_from_sdl
from .errors import SourceProtocolError, SourceUnavailable
from .options import refuse_unknown, seconds
from .rest import DEFAULT_HTTP_TIMEOUT, api_key_headers, decode_json, map_exceptions, status_error

__all__ = [
    "GraphQLSource", "auth_headers", "discover_record_types", "entities_query", "map_exceptions"
]

SYSTEM_OPTIONS = frozenset({"url", "http_timeout", "auth", "api_key_header"})
AUTH_KINDS = ("api_key",)
TYPE_OPTIONS = frozenset({"remote_type"})
SERVICE_QUERY = "{ _service { sdl } }"
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*\Z")
_INT_KEY = re.compile(r"-?[1-9][0-9]{0,9}|0")


def auth_headers(options: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, str]:
    """The headers that authenticate every request to the subgraph (none without `auth`)."""
    auth = options.get("auth")
    if auth is None:
        return {}
    if auth != "api_key":
        raise ValueError(f"auth must be one of {', '.join(AUTH_KINDS)}, got {auth!r}")
    return api_key_headers(options, secrets)


def entities_query(remote_type: str, fields: Sequence[str]) -> str:
    """The `_entities` query for a batch of `remote_type`, selecting `fields` (remote names)."""
    return (
        "query($representations: [_Any!]!) { _entities(representations: $representations) "
        f"{{ ... on {remote_type} {{ {' '.join(fields)} }} }} }}"
    )


async def post_query(
    system: str,
    client: httpx.AsyncClient,
    url: str,
    query: str,
    variables: Mapping[str, Any] | None = None,
    *,
    secrets: Sequence[str] = (),
) -> tuple[Mapping[str, Any], list[Any]]:
    """POST a GraphQL request; (data, errors), or the `sources.errors` exception for an
    answer without data."""
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = dict(variables)
    with map_exceptions(system, secrets=secrets):
        response = await client.post(url, json=payload)
    what = f"POST {urlsplit(url).path or '/'}"
    try:
        body = decode_json(system, response, what)
    except SourceProtocolError:
        if response.status_code != 200:
            raise status_error(system, response, what) from None
        raise
    errors = body.get("errors") if isinstance(body, Mapping) else None
    errors = errors if isinstance(errors, list) else []
    data = body.get("data") if isinstance(body, Mapping) else None
    if data is None and errors:
        raise SourceUnavailable(system, f"the subgraph answered errors: {_messages(errors)}")
    if response.status_code != 200:
        raise status_error(system, response, what)
    if not isinstance(data, Mapping):
        raise SourceProtocolError(system, f"{what} answered no GraphQL data")
    return data, errors


def _messages(errors: list[Any]) -> str:
    first = errors[0].get("message") if isinstance(errors[0], Mapping) else None
    text = first if isinstance(first, str) and first else "an error without a message"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{text[:200]}{more}"


async def discover_record_types(
    system: str,
    url: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    url_templates: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> list[RecordType]:
    """The record types of the subgraph at `url`, from its `_service { sdl }` (asked with
    `headers`: `auth_headers`).

    Raises `SourceUnavailable` (or a subclass) when the SDL cannot be read, `SourceTimeout`
    when it does not come in time, `ValueError` when it has no entity or does not parse."""
    url = _http_url(url)
    headers = dict(headers or {})
    async with httpx.AsyncClient(
        transport=transport, timeout=DEFAULT_HTTP_TIMEOUT, headers=headers
    ) as client:
        data, _ = await post_query(
            system, client, url, SERVICE_QUERY, secrets=tuple(headers.values())
        )
    service = data.get("_service")
    sdl = service.get("sdl") if isinstance(service, Mapping) else None
    if not isinstance(sdl, str):
        raise SourceProtocolError(system, "the subgraph answered _service without an sdl")
    return record_types_from_sdl(system, sdl, url_templates=url_templates)


class GraphQLSource(Source):
    """A Federation subgraph; see the module docstring.

    Attributes:
        record_types: the types it serves (discovered).
        url: the subgraph's GraphQL endpoint.
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
        refuse_unknown(options, SYSTEM_OPTIONS, "graphql")
        self.url = _http_url(options.get("url"))
        timeout = seconds(options, "http_timeout", DEFAULT_HTTP_TIMEOUT)
        self._remote = {t.name: _remote_type(t) for t in self.record_types}
        headers = auth_headers(options, secrets)
        self._secrets = tuple(headers.values())
        self.client = httpx.AsyncClient(transport=transport, timeout=timeout, headers=headers)

    async def fetch(self, request: FetchRequest) -> FetchResult:
        record_type = request.record_type
        remote_type = self._remote.get(record_type.name) or _remote_type(record_type)
        key = record_type.field(record_type.key)
        representations = [
            {"__typename": remote_type, key.remote_name: value}
            for value in _key_values(request.ids, integers=key.type == "Int")
        ]
        if not representations:
            return FetchResult()
        selected = dict.fromkeys(
            record_type.field(name).remote_name for name in (record_type.key, *request.fields)
        )
        query = entities_query(remote_type, list(selected))
        data, errors = await post_query(
            self.name, self.client, self.url, query, {"representations": representations},
            secrets=self._secrets,
        )
        entities = data.get("_entities")
        if entities is None and errors:
            raise SourceUnavailable(self.name, f"the subgraph answered errors: {_messages(errors)}")
        if not isinstance(entities, list):
            raise SourceProtocolError(self.name, "the subgraph answered no _entities list")
        return collect(request, entities)

    async def aclose(self) -> None:
        await self.client.aclose()


def _remote_type(record_type: RecordType) -> str:
    where = f"types.{record_type.name}"
    refuse_unknown(record_type.options, TYPE_OPTIONS, "graphql", where)
    remote = record_type.options.get("remote_type", record_type.name)
    if not (isinstance(remote, str) and _NAME.match(remote)):
        raise ValueError(f"{where}: remote_type must be a GraphQL type name, got {remote!r}")
    for spec in record_type.fields:
        if not _NAME.match(spec.remote_name):
            raise ValueError(
                f"{where}: field {spec.name} maps to {spec.remote_name!r}, not a GraphQL field name"
            )
    return remote


def _key_values(ids: Sequence[str], *, integers: bool) -> list[Any]:
    unique = [i for i in dict.fromkeys(ids) if i]
    if not integers:
        return unique
    # An id that is not an Int as the record itself spells it (no leading zero, within
    # GraphQL's 32 bits) cannot be an Int key: it is simply absent. Only that spelling, so
    # "1" and "01" never send representation 1 twice (which `collect` would call invalid).
    return [int(i) for i in unique if _INT_KEY.fullmatch(i) and -(2**31) <= int(i) < 2**31]


def _http_url(value: object) -> str:
    if not (isinstance(value, str) and value):
        raise ValueError("url is missing: the subgraph's GraphQL endpoint")
    parts = urlsplit(value)
    if "@" in parts.netloc:
        raise ValueError("url must not carry credentials")  # never echoed: a password is in it
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"url must be an http(s) URL, got {value!r}")
    return value
