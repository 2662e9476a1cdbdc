"""The sources config: the TOML file that declares which systems the gateway federates, how
to reach them and which record types they serve, so that adding a system needs no Python.

    [systems.crm]
    kind = "rest"                      # a built-in kind or a plug-in (`sources.registry`)
    base_url = "http://127.0.0.1:8101" # any other key is the kind's own option
    credentials = "crm"                # the name of a secret, never the secret itself
    [systems.crm.policy]               # `resilience.Policy`; every key optional
    timeout = 2.0
    [systems.crm.types.SalesOrder]
    graphql_name = "CrmSalesOrder"     # default: system + type name
    key = "id"                         # default: "id"
    url = "http://127.0.0.1:8101/crm/sales-orders/{id}"
    batch_path = "/crm/sales-orders"   # any other key is the kind's option for this type
    [systems.crm.types.SalesOrder.fields]
    id = "ID!"                         # one of FIELD_TYPES; a trailing ! = never empty
    customerId = { type = "String", source = "customer_id", sensitive = false }
    [systems.crm.deliveries]           # the outbox's messages it takes: topic = path
    salesOrder = "/crm/ledger/sales-orders"
    [systems.crm.push]                 # it pushes signed events to /hooks/crm (`sources.push`)
    secret = "push_secret"             # the key of its credentials that holds the push secret
    tolerance = 300                    # seconds a push's timestamp may be off
    max_bytes = 65536

    [systems.hr]
    kind = "graphql"                   # record types are read from the subgraph at start
    url = "http://127.0.0.1:8103/graphql"
    url_templates = { Employee = "http://127.0.0.1:8103/employees/{id}" }

Every problem is a `SourceConfigError` naming the file, the system and what is wrong.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import tomllib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .base import FIELD_TYPES, FieldSpec, Ownership, RecordType, Source
from .errors import SourceConfigError, SourceError
from .options import positive_int
from .push import DEFAULT_MAX_BYTES, DEFAULT_TOLERANCE, PushSettings
from .registry import REGISTRY, SourceKindError, SourceRegistry
from .resilience import Policy, ResilientSource

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*\Z")
NAME_RULE = "letters, digits and _, not starting with a digit or __"

# The fields of the SourceRecord interface every record type implements in the schema.
RESERVED_FIELD_NAMES = ("system", "recordType", "recordId", "url", "ledgerLines")
KEY_TYPES = ("ID", "String", "Int")

# Which entity records belong to: on a system (for all its types) or on one type.
_OWNERSHIP_KEYS = ("owner", "entity", "shared")
_SYSTEM_KEYS = {
    "kind", "credentials", "policy", "types", "verify_links", "deliveries", "push", *_OWNERSHIP_KEYS,
}
_TYPE_KEYS = {"graphql_name", "key", "url", "fields", "verify_links", *_OWNERSHIP_KEYS}
OWNER_TYPES = ("ID", "String")
NO_OWNER = (
    "says no owner: set owner = \"FIELD\" (a field holding the entity code), "
    "entity = \"CODE\" (every record is that entity's) or shared = true (served to every "
    "entity on purpose), on the type or on its system"
)
_FIELD_KEYS = ("type", "source", "sensitive")

Discover = Callable[..., Awaitable[Sequence[RecordType]]]
NO_SECRETS: Mapping[str, Mapping[str, str]] = MappingProxyType({})


@dataclass(frozen=True)
class SystemConfig:
    """One configured source system.

    Attributes:
        options: the kind's own keys of `[systems.NAME]`, passed to its constructor.
        credentials: the name of the secret the kind is given, if any.
        record_types: as declared; empty for a graphql system until discovery.
        url_templates: deep links per record type of a graphql system, for discovery.
        ownership: the system's `owner` / `entity` / `shared`, for types that say none.
        owners: a graphql system's owner field per discovered record type.
        verify_links: the system's `verify_links`, for types that say nothing.
        deliveries: `[systems.NAME.deliveries]`: topic (`salesOrder`) → the path the
            outbox's messages of that topic are delivered to.
        push: `[systems.NAME.push]`: the system pushes signed events to `/hooks/NAME`
            (`sources.push`); None: it does not.
    """

    name: str
    kind: str
    options: Mapping[str, Any]
    policy: Policy
    credentials: str | None = None
    record_types: tuple[RecordType, ...] = ()
    url_templates: Mapping[str, str] = field(default_factory=dict)
    ownership: Ownership | None = None
    owners: Mapping[str, str] = field(default_factory=dict)
    verify_links: bool = False
    deliveries: Mapping[str, str] = field(default_factory=dict)
    push: PushSettings | None = None


@dataclass(frozen=True)
class SourcesConfig:
    file: str
    systems: list[SystemConfig]

    def system(self, name: str) -> SystemConfig:
        for system in self.systems:
            if system.name == name:
                return system
        raise KeyError(name)

    @property
    def record_types(self) -> list[RecordType]:
        return [t for system in self.systems for t in system.record_types]


def load_sources_config(path: str | Path, *, registry: SourceRegistry = REGISTRY) -> SourcesConfig:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceConfigError(str(path), None, "no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SourceConfigError(str(path), None, f"cannot be read: {error}") from None
    return parse_sources_config(text, str(path), registry=registry)


def parse_sources_config(
    text: str, file: str = "<sources config>", *, registry: SourceRegistry = REGISTRY
) -> SourcesConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SourceConfigError(file, None, f"not valid TOML: {error}") from None
    if unknown := sorted(set(raw) - {"systems"}):
        raise SourceConfigError(
            file, None, f"unknown top-level key(s) {unknown}; expected [systems.NAME] tables"
        )
    systems = raw.get("systems")
    if not isinstance(systems, dict) or not systems:
        raise SourceConfigError(
            file, None, "declares no source systems; add a [systems.NAME] table"
        )
    config = SourcesConfig(
        file, [_system(file, name, body, registry) for name, body in systems.items()]
    )
    check_unique_graphql_names(file, [(s.name, s.record_types) for s in config.systems])
    return config


def check_unique_graphql_names(
    file: str, record_types: Sequence[tuple[str, Sequence[RecordType]]]
) -> None:
    """Each GraphQL type name once, across every system (declared or discovered)."""
    seen: dict[str, tuple[str, str]] = {}
    for system, types in record_types:
        for record_type in types:
            if (first := seen.get(record_type.graphql_name)) is not None:
                raise SourceConfigError(
                    file,
                    system,
                    f"duplicate GraphQL type name {record_type.graphql_name!r}: types."
                    f"{record_type.name} here and types.{first[1]} of source {first[0]!r}",
                )
            seen[record_type.graphql_name] = (system, record_type.name)


def is_graphql_name(name: object) -> bool:
    """The rule for system, record type and GraphQL type names (and so for the system part
    of a `source:<system>:read` scope)."""
    return isinstance(name, str) and bool(_NAME.match(name)) and not name.startswith("__")


def _system(file: str, name: str, raw: object, registry: SourceRegistry) -> SystemConfig:
    def fail(problem: str) -> SourceConfigError:
        return SourceConfigError(file, name, problem)

    if not is_graphql_name(name):
        raise fail(f"system name {name!r} is not a GraphQL name ({NAME_RULE})")
    if not isinstance(raw, dict):
        raise fail(f"must be a table ([systems.{name}])")
    kind = raw.get("kind")
    if kind is None:
        raise fail(f"kind is missing; known kinds: {', '.join(registry.kinds())}")
    if not isinstance(kind, str) or kind not in registry:
        raise fail(registry.unknown(kind))
    credentials = raw.get("credentials")
    if credentials is not None and not (isinstance(credentials, str) and credentials):
        # Never echo the value: someone may have pasted the secret itself.
        raise fail("credentials must be the name of a secret (a string), not the secret itself")
    policy = _policy(fail, raw.get("policy", {}))
    ownership = _ownership(fail, f"[systems.{name}]", raw, None)
    verify_links = _flag(fail, f"[systems.{name}]", raw, "verify_links", False)
    keys = set(_SYSTEM_KEYS)
    url_templates: dict[str, str] = {}
    owners: dict[str, str] = {}
    if kind == "graphql":
        keys |= {"url_templates", "owners"}
        owners = _owners(fail, raw.get("owners", {}))
        if "types" in raw:
            raise fail(
                "the record types of a graphql system are read from its subgraph's SDL; "
                f"remove [systems.{name}.types] (deep links go in url_templates)"
            )
        if not (isinstance(raw.get("url"), str) and raw["url"]):
            raise fail("url is missing: the subgraph's GraphQL endpoint")
        url_templates = _url_templates(fail, raw.get("url_templates", {}))
        record_types: tuple[RecordType, ...] = ()
    else:
        types = raw.get("types")
        if not isinstance(types, dict) or not types:
            raise fail(f"declares no record types; add [systems.{name}.types.TYPE] tables")
        record_types = tuple(
            _record_type(fail, name, t, body, ownership, verify_links) for t, body in types.items()
        )
    options = {key: value for key, value in raw.items() if key not in keys}
    deliveries = _deliveries(fail, name, raw.get("deliveries", {}))
    if deliveries and not registry.source_class(kind).can_deliver:
        raise fail(f"kind {kind!r} cannot deliver messages: remove [systems.{name}.deliveries]")
    push = _push(fail, name, raw["push"], credentials) if "push" in raw else None
    return SystemConfig(
        name, kind, options, policy, credentials, record_types, url_templates, ownership, owners,
        verify_links, deliveries, push,
    )


def _push(fail: Callable[[str], SourceConfigError], name: str, raw: object,
          credentials: str | None) -> PushSettings:
    where = f"[systems.{name}.push]"
    if not isinstance(raw, dict):
        raise fail(f"{where} must be a table (secret, tolerance, max_bytes)")
    if unknown := sorted(set(raw) - {"secret", "tolerance", "max_bytes"}):
        raise fail(f"{where}: unknown key(s) {unknown}; expected secret, tolerance, max_bytes")
    if credentials is None:
        raise fail(f"{where}: the push secret is one of the system's credentials: set credentials")
    secret = raw.get("secret", PushSettings.secret)
    if not (isinstance(secret, str) and secret):
        raise fail(f"{where}: secret must name a key of the system's credentials, not be the secret")
    tolerance, max_bytes = raw.get("tolerance", DEFAULT_TOLERANCE), raw.get("max_bytes", DEFAULT_MAX_BYTES)
    if not positive_int(tolerance) or tolerance > 3600:
        raise fail(f"{where}: tolerance must be whole seconds, 1 to 3600, got {tolerance!r}")
    if not positive_int(max_bytes) or max_bytes > 10 * 1024 * 1024:
        raise fail(f"{where}: max_bytes must be 1 to 10485760, got {max_bytes!r}")
    return PushSettings(secret, tolerance, max_bytes)


def _deliveries(fail: Callable[[str], SourceConfigError], name: str, raw: object) -> dict[str, str]:
    where = f"[systems.{name}.deliveries]"
    if not isinstance(raw, dict):
        raise fail(f"{where} must be a table of topic = \"/path\"")
    found = {}
    for topic, path in raw.items():
        if not is_graphql_name(topic):
            raise fail(f"{where}: topic {topic!r} is not a name ({NAME_RULE})")
        if not (isinstance(path, str) and path.startswith("/") and "://" not in path):
            raise fail(f"{where}: {topic} must be a path on the system's base_url, starting with /")
        found[topic] = path
    return found


def _flag(fail: Callable[[str], SourceConfigError], where: str, raw: dict, key: str,
          default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise fail(f"{where}: {key} must be true or false, got {value!r}")
    return value


def _ownership(
    fail: Callable[[str], SourceConfigError], where: str, raw: dict, inherited: Ownership | None
) -> Ownership | None:
    given = {key: raw[key] for key in _OWNERSHIP_KEYS if key in raw}
    if not given:
        return inherited
    if len(given) > 1:
        raise fail(f"{where}: set one of owner, entity or shared, not {', '.join(given)}")
    [(key, value)] = given.items()
    if key == "shared":
        if value is not True:
            raise fail(f"{where}: shared must be true (leave it out otherwise), got {value!r}")
        return Ownership(shared=True)
    if not (isinstance(value, str) and value):
        raise fail(f"{where}: {key} must be a non-empty string, got {value!r}")
    return Ownership(field=value) if key == "owner" else Ownership(entity=value)


def _owners(fail: Callable[[str], SourceConfigError], raw: object) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(
        isinstance(v, str) and v for v in raw.values()
    ):
        raise fail("owners must be a table of record type = the field holding the entity code")
    return dict(raw)


def confined(
    fail: Callable[[str], SourceConfigError], record_type: RecordType, ownership: Ownership | None
) -> RecordType:
    """`record_type` with `ownership`, refused when there is none or its field cannot hold
    an entity code: a type the gateway cannot confine to the caller's entity is not served."""
    where = f"types.{record_type.name}"
    if ownership is None:
        raise fail(f"{where} {NO_OWNER}")
    if ownership.field is not None:
        names = [f.name for f in record_type.fields]
        if ownership.field not in names:
            raise fail(
                f"{where}: owner field {ownership.field!r} is not among its fields "
                f"({', '.join(names)})"
            )
        if (kind := record_type.field(ownership.field).type) not in OWNER_TYPES:
            raise fail(f"{where}: owner field {ownership.field!r} must be "
                       f"{' or '.join(OWNER_TYPES)}, not {kind}")
    return dataclasses.replace(record_type, ownership=ownership)


def _policy(fail: Callable[[str], SourceConfigError], raw: object) -> Policy:
    if not isinstance(raw, dict):
        raise fail("policy must be a table")
    if unknown := sorted(set(raw) - set(Policy.names())):
        raise fail(f"policy: unknown key(s) {unknown}; known keys: {', '.join(Policy.names())}")
    try:
        return Policy(**raw)
    except ValueError as error:
        raise fail(f"policy: {error}") from None


def _url_templates(fail: Callable[[str], SourceConfigError], raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise fail("url_templates must be a table of record type = deep-link URL")
    for type_name, template in raw.items():
        if not (isinstance(template, str) and "{id}" in template):
            raise fail(
                f"url_templates.{type_name} must be a URL containing {{id}}, got {template!r}"
            )
    return dict(raw)


def _record_type(
    fail: Callable[[str], SourceConfigError], system: str, name: str, raw: object,
    inherited: Ownership | None = None, verify_links: bool = False,
) -> RecordType:
    where = f"types.{name}"
    if not is_graphql_name(name):
        raise fail(f"{where}: {name!r} is not a GraphQL name ({NAME_RULE})")
    if not isinstance(raw, dict):
        raise fail(f"{where} must be a table")
    declared = raw.get("fields")
    if not isinstance(declared, dict) or not declared:
        raise fail(f"{where} declares no fields; add [systems.{system}.{where}.fields]")
    fields = tuple(_field(fail, f"{where}.fields", f, body) for f, body in declared.items())
    key = raw.get("key", "id")
    names = [spec.name for spec in fields]
    if key not in names:
        raise fail(f"{where}: key field {key!r} is not among its fields ({', '.join(names)})")
    key_type = fields[names.index(key)].type
    if key_type not in KEY_TYPES:
        raise fail(f"{where}: key field {key!r} must be {', '.join(KEY_TYPES)}, not {key_type}")
    graphql_name = raw.get("graphql_name", default_type_prefix(system) + name)
    if not is_graphql_name(graphql_name):
        raise fail(f"{where}: graphql_name {graphql_name!r} is not a GraphQL name ({NAME_RULE})")
    url = raw.get("url")
    if url is not None and not (isinstance(url, str) and "{id}" in url):
        raise fail(f"{where}: url must be a deep-link URL containing {{id}}, got {url!r}")
    options = {k: v for k, v in raw.items() if k not in _TYPE_KEYS}
    ownership = _ownership(fail, where, raw, inherited)
    verify = _flag(fail, where, raw, "verify_links", verify_links)
    return confined(
        fail, RecordType(system, name, graphql_name, key, fields, url, options, verify_links=verify),
        ownership,
    )


def _field(
    fail: Callable[[str], SourceConfigError], where: str, name: str, raw: object
) -> FieldSpec:
    where = f"{where}.{name}"
    if not is_graphql_name(name):
        raise fail(f"{where}: {name!r} is not a GraphQL name ({NAME_RULE})")
    if name in RESERVED_FIELD_NAMES:
        raise fail(
            f"{where}: {name!r} is a field of every source record "
            f"({', '.join(RESERVED_FIELD_NAMES)}); map it under another name with source = {name!r}"
        )
    source, sensitive = None, False
    if isinstance(raw, dict):
        if unknown := sorted(set(raw) - set(_FIELD_KEYS)):
            raise fail(f"{where}: unknown key(s) {unknown}; known keys: {', '.join(_FIELD_KEYS)}")
        if "type" not in raw:
            raise fail(f"{where}: type is missing; one of {', '.join(FIELD_TYPES)}")
        declared, source, sensitive = raw["type"], raw.get("source"), raw.get("sensitive", False)
        if source is not None and not (isinstance(source, str) and source):
            raise fail(f"{where}: source must be the field's name in the system, got {source!r}")
        if not isinstance(sensitive, bool):
            raise fail(f"{where}: sensitive must be true or false, got {sensitive!r}")
    else:
        declared = raw
    type_name = declared[:-1] if isinstance(declared, str) and declared.endswith("!") else declared
    if type_name not in FIELD_TYPES:
        raise fail(
            f"{where}: unknown type {declared!r}; known types: {', '.join(FIELD_TYPES)} "
            "(a trailing ! makes a field non-nullable)"
        )
    return FieldSpec(name, type_name, source, nullable=declared == type_name, sensitive=sensitive)


def default_type_prefix(system: str) -> str:
    """`crm` → `Crm`, `usage_tracker` → `UsageTracker`: what a record type's GraphQL name
    starts with unless `graphql_name` says otherwise."""
    return "".join(part[:1].upper() + part[1:] for part in system.split("_"))


async def build_sources(
    config: SourcesConfig,
    *,
    secrets: Mapping[str, Mapping[str, str]] = NO_SECRETS,
    transports: Mapping[str, Any] | None = None,
    discover: Discover | None = None,
    registry: SourceRegistry = REGISTRY,
) -> dict[str, Source]:
    """One `ResilientSource` per configured system, by name, each wrapping its kind.

    Discovers the record types of graphql systems first (`discover` defaults to
    `sources.graphql.discover_record_types`), so that a subgraph that cannot be read stops
    the start. `secrets` maps a credentials name to the values handed to the kind;
    `transports` maps a system name to an httpx transport, passed to the kind and to
    discovery as `transport=` (for tests and in-process systems). Each record type is on
    its source as `record_types`.
    """
    transports = transports or {}
    record_types: dict[str, tuple[RecordType, ...]] = {}
    for system in config.systems:
        if system.kind == "graphql":
            found = await _discover(
                config.file, system, transports.get(system.name), discover, secrets
            )
            record_types[system.name] = _own_discovered(config.file, system, found)
        else:
            record_types[system.name] = system.record_types
    check_unique_graphql_names(config.file, list(record_types.items()))
    built: dict[str, Source] = {}
    try:
        for system in config.systems:
            inner = _instantiate(
                config.file, system, record_types[system.name], secrets,
                transports.get(system.name), registry,
            )
            built[system.name] = ResilientSource(
                inner, system.policy, record_types=record_types[system.name]
            )
    except BaseException:
        for source in built.values():
            await source.aclose()
        raise
    return built


def _own_discovered(
    file: str, system: SystemConfig, found: Sequence[RecordType]
) -> tuple[RecordType, ...]:
    def fail(problem: str) -> SourceConfigError:
        return SourceConfigError(file, system.name, problem)

    names = {t.name for t in found}
    if unknown := sorted(set(system.owners) - names):
        raise fail(f"owners: the subgraph serves no record type {', '.join(unknown)}")
    return tuple(
        confined(
            fail, dataclasses.replace(t, verify_links=system.verify_links),
            Ownership(field=system.owners[t.name]) if t.name in system.owners else system.ownership,
        )
        for t in found
    )


def _instantiate(
    file: str,
    system: SystemConfig,
    record_types: tuple[RecordType, ...],
    secrets: Mapping[str, Mapping[str, str]],
    transport: Any,
    registry: SourceRegistry,
) -> Source:
    try:
        cls = registry.source_class(system.kind)
    except SourceKindError as error:
        raise SourceConfigError(file, system.name, str(error)) from None
    values: Mapping[str, str] = MappingProxyType({})
    if system.credentials is not None:
        if system.credentials not in secrets:
            raise SourceConfigError(
                file, system.name, f"credentials {system.credentials!r} are not among the secrets"
            )
        values = secrets[system.credentials]
    extra = {"transport": transport} if transport is not None else {}
    factory = getattr(cls, "from_config", cls)
    try:
        return factory(system.name, dict(system.options), record_types, values, **extra)
    except SourceConfigError:
        raise
    except UnicodeError as error:
        # Its message quotes the offending character, which may be one of a secret's.
        raise SourceConfigError(
            file, system.name,
            f"its options or credentials hold a character it cannot use ({type(error).__name__})",
        ) from None
    except ValueError as error:
        raise SourceConfigError(file, system.name, str(error)) from None


async def _discover(
    file: str,
    system: SystemConfig,
    transport: Any,
    discover: Discover | None,
    secrets: Mapping[str, Mapping[str, str]],
) -> Sequence[RecordType]:
    url = system.options["url"]
    if discover is None:
        try:
            from .graphql import discover_record_types as discover
        except ImportError as error:
            raise SourceConfigError(
                file, system.name, f"kind 'graphql' cannot be loaded: {error}"
            ) from None
    # A subgraph that asks for credentials asks on `_service` too.
    extra: dict[str, Any] = {}
    if system.options.get("auth") is not None:
        from .graphql import auth_headers

        try:
            values = secrets.get(system.credentials or "", {})
            extra["headers"] = auth_headers(system.options, values)
        except ValueError as error:
            raise SourceConfigError(file, system.name, str(error)) from None
    try:
        async with asyncio.timeout(system.policy.budget):
            return await discover(
                system.name, url, transport=transport, url_templates=dict(system.url_templates),
                **extra,
            )
    except TimeoutError:
        reason = f"no answer within {system.policy.budget:g} s"
    except SourceError as error:
        reason = str(error).removeprefix(f"{error.system}: ")
    except ValueError as error:
        reason = str(error)
    except Exception as error:  # whatever the discovery's HTTP client raised
        reason = f"{type(error).__name__}: {error}"
    raise SourceConfigError(file, system.name, f"cannot read the subgraph's SDL at {url}: {reason}")
