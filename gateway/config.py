"""Gateway settings: defaults, a TOML file, and environment overrides."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from resolvers.context import Limits

DEFAULT_DEMO_DB = Path("var") / "demo.db"


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the key."""


DEFAULT_AUDIENCE = "ledgergate"
DEFAULT_TOKEN_TTL = 900
MIN_TOKEN_TTL = 60
MAX_TOKEN_TTL = 24 * 3600

# The algorithms an external issuer may sign with: asymmetric signatures only, as
# `gateway.auth.tokens.verify` accepts (kept here so that reading the config needs no crypto).
EXTERNAL_ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "Ed25519",
)
DEFAULT_LEEWAY = 30
MAX_LEEWAY = 300
DEFAULT_JWKS_REFRESH_INTERVAL = 60
DEFAULT_JWKS_MAX_AGE = 3600
MAX_JWKS_AGE = 7 * 24 * 3600


@dataclass(frozen=True)
class ExternalIssuer:
    """An external identity provider whose access tokens /graphql accepts
    (`[[oauth.external]]`; `gateway.auth.jwks`, `gateway.auth.principal`).

    Attributes:
        issuer: the exact `iss` of its tokens (an http(s) URL without query or fragment).
        jwks_url: where its public keys are (http or https).
        audience: the value its tokens' `aud` must be or contain.
        clients: its client id (the `client_id` or `azp` claim) → the ledgergate client
            (`ledgergate clients add`) a token of that client acts as. Only the clients
            listed here: trusting an issuer does not let it speak for every integration.
        algorithms: the `alg` values accepted (asymmetric only; default RS256).
        leeway: clock skew allowed on exp, nbf and iat, in seconds (0..300).
        entity_claim: the claim naming the entity, or None: the client must then be allowed
            for exactly one entity.
        jwks_refresh_interval: least seconds between two fetches of the JWKS (a token of an
            unknown `kid`, a failed fetch retried), so forged kids cannot hammer the provider.
        jwks_max_age: seconds fetched keys are trusted before they are fetched again on the
            next token (a shorter `Cache-Control: max-age` of the response wins, down to
            `jwks_refresh_interval`).
    """

    issuer: str
    jwks_url: str
    audience: str
    clients: dict[str, str]
    algorithms: tuple[str, ...] = ("RS256",)
    leeway: int = DEFAULT_LEEWAY
    entity_claim: str | None = None
    jwks_refresh_interval: int = DEFAULT_JWKS_REFRESH_INTERVAL
    jwks_max_age: int = DEFAULT_JWKS_MAX_AGE


@dataclass(frozen=True)
class OAuthSettings:
    """The built-in authorization server (`gateway.auth.server`) and the external issuers.

    Attributes:
        issuer: the `iss` of its tokens and the base of its endpoints' URLs (RFC 8414: an
            http(s) URL without query or fragment); None: `http://{host}:{port}`.
        audience: the `aud` of its tokens.
        token_ttl: lifetime of an access token in seconds (60..86400; default 15 minutes).
        builtin: False: the built-in server issues nothing (its routes say so) and /graphql
            accepts only the external issuers' tokens.
        external: the external identity providers whose tokens /graphql accepts as well.
    """

    issuer: str | None = None
    audience: str = DEFAULT_AUDIENCE
    token_ttl: int = DEFAULT_TOKEN_TTL
    builtin: bool = True
    external: tuple[ExternalIssuer, ...] = ()


# What [rate_limit] allows, and the defaults: room for dashboards, screens and scripts
# (the README's examples, the demo) many times over, yet a runaway integration or a secret
# guessed at speed is stopped. Ints only: the limiter's arithmetic is then exact.
MAX_RATE = 1_000_000


@dataclass(frozen=True)
class RateLimitSettings:
    """Per-client rate limits (`gateway.rate_limit`); over one: HTTP 429 with Retry-After.

    Attributes:
        enabled: false: nothing is limited.
        requests_per_second: /graphql requests per integration client, on average.
        burst: /graphql requests a client may send at once (then one per 1/rate seconds).
        token_requests_per_minute: /oauth/token attempts per presented client id (known or
            not, successful or not) from one remote address; a minute's worth may come at once.
        token_requests_per_minute_per_client: the same from all addresses together: a
            ceiling well above the per-address one, so that guessing from one address
            cannot lock the client out.
        token_requests_per_minute_per_address: /oauth/token attempts per remote address
            (IPv6: per /64).
    """

    enabled: bool = True
    requests_per_second: int = 50
    burst: int = 100
    token_requests_per_minute: int = 20
    token_requests_per_minute_per_address: int = 60
    token_requests_per_minute_per_client: int = 600


@dataclass(frozen=True)
class DatabaseSettings:
    """`[database]` pools. GraphQL work shares `pool_size` + `max_overflow` connections, each
    request at most `connections_per_request` at once; authentication and /oauth/token have
    their own `auth_pool_size` connections, so they never wait behind GraphQL. A request
    that cannot get a connection in `pool_timeout` seconds fails UNAVAILABLE (503)."""

    pool_size: int = 10
    max_overflow: int = 20
    pool_timeout: float = 5.0
    connections_per_request: int = 2
    auth_pool_size: int = 3


@dataclass(frozen=True)
class OutboxSettings:
    """`[outbox]`: whether this process runs the outbox dispatcher (`gateway.outbox_dispatcher`;
    it runs only when some system takes deliveries), and how. After each failed attempt a
    message waits the next of `retry_delays` (seconds, ±`jitter` at random), and after the
    last it is DEAD; a claim leases a message for `lease_seconds`; a round claims at most
    `batch`, delivers `concurrency` at once, and an idle dispatcher looks again every
    `poll_seconds`."""

    dispatch: bool = True
    retry_delays: tuple[float, ...] = (10.0, 30.0, 90.0, 300.0, 1800.0, 7200.0)
    jitter: float = 0.2
    lease_seconds: float = 60.0
    batch: int = 100
    poll_seconds: float = 0.25
    concurrency: int = 8


@dataclass(frozen=True)
class Settings:
    """Everything `create_app` needs.

    Attributes:
        database_url: SQLAlchemy URL; `sqlite:///path.db` (embedded) or `postgresql://…`.
        host / port: where `serve` listens; loopback unless configured otherwise.
        graphiql: serve the in-browser IDE at /graphiql.
        introspection: "filtered" (a caller sees the types and fields its scopes allow) or
            "off" (every introspection query is refused).
        limits: page sizes (`first`) for every connection, and the limits every query must
            keep to before it runs (depth, aliases, tokens, estimated cost; `resolvers.limits`).
        max_body_bytes: largest request body accepted.
        sources_file: the sources config (`sources.config`): which systems to federate.
        secrets_key_file: the key file that encrypts the stored credentials of source
            systems and the token signing keys (`gateway.secrets`); `LEDGERGATE_SECRETS_KEY`
            takes precedence.
        rate_limit: per-client rate limits of /graphql and /oauth/token.
        compiled: complete plain-attribute selections with generated builders
            (`resolvers.compiled`, issue 5); false: graphql-core's normal path only, for
            diagnosis. Responses are the same either way.
    """

    database_url: str = f"sqlite:///{DEFAULT_DEMO_DB}"
    host: str = "127.0.0.1"
    port: int = 8000
    graphiql: bool = True
    introspection: str = "filtered"
    limits: Limits = field(default_factory=Limits)
    max_body_bytes: int = 1_000_000
    sources_file: Path | None = None
    secrets_key_file: Path | None = None
    oauth: OAuthSettings = field(default_factory=OAuthSettings)
    rate_limit: RateLimitSettings = field(default_factory=RateLimitSettings)
    compiled: bool = True
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)

    @property
    def issuer(self) -> str:
        """The authorization server's issuer identifier (no trailing slash)."""
        return (self.oauth.issuer or f"http://{self.host}:{self.port}").rstrip("/")


def load_settings(path: Path | None = None) -> Settings:
    """Read a TOML file like:

        [database]
        url = "postgresql://ledgergate@127.0.0.1:5432/ledgergate"
        pool_size = 10                             # GraphQL's pool (+ max_overflow = 20)
        pool_timeout = 5                           # seconds; then UNAVAILABLE (503, retry)
        connections_per_request = 2                # one request's share of that pool
        auth_pool_size = 3                         # authentication's and /oauth/token's own
        [http]
        host = "127.0.0.1"
        port = 8000
        graphiql = true
        introspection = "filtered"                 # or "off"
        [limits]
        default_page_size = 100
        max_page_size = 10000
        max_depth = 20
        max_aliases = 30
        max_tokens = 5000
        max_cost = 1000000
        default_list_size = 10
        [limits.field_costs]                       # expensive fields: "Type.field" = weight
        "Query.verifyLedger" = 250000              # (defaults: resolvers.context.DEFAULT_FIELD_COSTS)
        [sources]
        file = "sources.toml"                      # relative to this file
        [secrets]
        key_file = "/etc/ledgergate/secrets.key"   # relative to this file; mode 0600
        [oauth]
        issuer = "https://ledger.example.com"      # default http://{host}:{port}
        audience = "ledgergate"
        token_ttl = 900                            # seconds, 60..86400
        builtin = true                             # false: only external issuers' tokens
        [[oauth.external]]                         # an external identity provider; repeatable
        issuer = "https://idp.example.com/"
        jwks_url = "https://idp.example.com/keys"
        audience = "ledgergate"
        clients = { "idp-client-id" = "lgc_…" }    # its client ids → ledgergate clients
        algorithms = ["RS256"]
        leeway = 30
        entity_claim = "entity"                    # optional
        jwks_refresh_interval = 60
        jwks_max_age = 3600
        [rate_limit]
        enabled = true
        requests_per_second = 50                   # /graphql, per client
        burst = 100
        token_requests_per_minute = 20             # /oauth/token, per presented client id
        token_requests_per_minute_per_address = 60 # /oauth/token, per remote address
        [execution]
        compiled = true                            # false: graphql-core's path only
        [outbox]
        dispatch = true                            # run the dispatcher in this process
        retry_delays = [10, 30, 90, 300, 1800, 7200]   # seconds after each failure; then DEAD
        jitter = 0.2                               # each wait ± up to 20 %, at random
        lease_seconds = 60                         # a claim's lease (a killed process's expire)
        batch = 100                                # messages claimed per round
        concurrency = 8                            # deliveries at once
        poll_seconds = 0.25                        # an idle dispatcher looks again after this

    `LEDGERGATE_DATABASE_URL` overrides the database URL (so passwords need not sit in files).
    The credentials of source systems are in the database, encrypted (`gateway.secrets`).
    """
    settings = Settings()
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: not valid TOML: {error}") from None
        settings = _apply(settings, raw, path)
    if url := os.environ.get("LEDGERGATE_DATABASE_URL"):
        settings = replace(settings, database_url=url)
    return settings


def _section(raw: dict, name: str, path: Path) -> dict:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return value


_KINDS = {int: "an integer", str: "a string", bool: "true or false"}


def _typed(section: dict, key: str, kind: type, default, path: Path, name: str):
    value = section.get(key, default)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{path}: {name}.{key} must be {_KINDS[kind]}, got {value!r}")
    return value


# The keys of [limits] (the fields of `Limits`) and the least value each may take.
_LIMIT_MINIMUM = {
    "default_page_size": 1,
    "max_page_size": 1,
    "max_depth": 1,
    "max_aliases": 0,
    "max_tokens": 1,
    "max_cost": 1,
    "default_list_size": 1,
    "max_entry_lines": 1,
    "max_batch_entries": 1,
    "max_batch_lines": 1,
}


def _field_costs(section: dict, default: Limits, path: Path) -> tuple[tuple[str, int], ...]:
    """`[limits.field_costs]`: "Type.field" = weight, over the defaults (0 takes one out)."""
    table = section.get("field_costs", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [limits.field_costs] must be a table of \"Type.field\" = weight")
    costs = dict(default.field_costs)
    for name, weight in table.items():
        if name.count(".") != 1 or not all(part.isidentifier() for part in name.split(".")):
            raise ConfigError(f"{path}: limits.field_costs key {name!r} must be \"Type.field\"")
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 0:
            raise ConfigError(f"{path}: limits.field_costs.{name} must be an integer >= 0, got {weight!r}")
        costs[name] = weight
    return tuple((name, weight) for name, weight in costs.items() if weight)


def _limits(section: dict, default: Limits, path: Path) -> Limits:
    field_costs = _field_costs(section, default, path)
    section = {k: v for k, v in section.items() if k != "field_costs"}
    if unknown := set(section) - set(_LIMIT_MINIMUM):
        raise ConfigError(
            f"{path}: unknown key(s) limits.{sorted(unknown)}; expected {', '.join(_LIMIT_MINIMUM)}"
        )
    values = {
        key: _typed(section, key, int, getattr(default, key), path, "limits") for key in _LIMIT_MINIMUM
    }
    for key, minimum in _LIMIT_MINIMUM.items():
        if values[key] < minimum and key != "default_page_size":
            raise ConfigError(f"{path}: limits.{key} must be at least {minimum}, got {values[key]}")
    if not 1 <= values["default_page_size"] <= values["max_page_size"]:
        raise ConfigError(f"{path}: limits.default_page_size must be between 1 and max_page_size")
    return Limits(**values, field_costs=field_costs)


def _apply(settings: Settings, raw: dict, path: Path) -> Settings:
    known = {"database", "http", "limits", "sources", "secrets", "oauth", "rate_limit", "execution",
             "outbox"}
    if unknown := set(raw) - known:
        raise ConfigError(f"{path}: unknown section(s) {sorted(unknown)}; expected {sorted(known)}")
    database = _section(raw, "database", path)
    http = _section(raw, "http", path)
    limits = _section(raw, "limits", path)
    sources = _section(raw, "sources", path)
    if "secrets" in sources:
        raise ConfigError(
            f"{path}: sources.secrets (a plaintext secrets file) is no longer read: store each "
            "credential encrypted with `ledgergate secrets set NAME KEY` and name the key with "
            "[secrets] key_file or LEDGERGATE_SECRETS_KEY"
        )
    if unknown := set(sources) - {"file"}:
        raise ConfigError(f"{path}: unknown key(s) sources.{sorted(unknown)}; expected file")
    secrets = _section(raw, "secrets", path)
    if unknown := set(secrets) - {"key_file"}:
        raise ConfigError(f"{path}: unknown key(s) secrets.{sorted(unknown)}; expected key_file")
    host = _typed(http, "host", str, settings.host, path, "http")
    port = _typed(http, "port", int, settings.port, path, "http")
    execution = _section(raw, "execution", path)
    if unknown := set(execution) - {"compiled"}:
        raise ConfigError(f"{path}: unknown key(s) execution.{sorted(unknown)}; expected compiled")
    return Settings(
        database_url=_typed(database, "url", str, settings.database_url, path, "database"),
        host=host,
        port=port,
        graphiql=_typed(http, "graphiql", bool, settings.graphiql, path, "http"),
        introspection=_introspection(http, settings.introspection, path),
        limits=_limits(limits, settings.limits, path),
        max_body_bytes=_typed(
            http, "max_body_bytes", int, settings.max_body_bytes, path, "http"
        ),
        sources_file=_relative_path(sources, "file", path, "sources"),
        secrets_key_file=_relative_path(secrets, "key_file", path, "secrets"),
        oauth=_oauth(_section(raw, "oauth", path), settings.oauth, path, f"http://{host}:{port}"),
        rate_limit=_rate_limit(_section(raw, "rate_limit", path), settings.rate_limit, path),
        compiled=_typed(execution, "compiled", bool, settings.compiled, path, "execution"),
        database=_database(database, settings.database, path),
        outbox=_outbox(_section(raw, "outbox", path), settings.outbox, path),
    )


def _seconds(section: dict, key: str, default: float, path: Path, *, low: float = 0.0,
             high: float = 86400.0 * 7) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"{path}: outbox.{key} must be seconds in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def _outbox(section: dict, default: OutboxSettings, path: Path) -> OutboxSettings:
    keys = {"dispatch", "retry_delays", "jitter", "lease_seconds", "batch", "concurrency", "poll_seconds"}
    if unknown := set(section) - keys:
        raise ConfigError(f"{path}: unknown key(s) outbox.{sorted(unknown)}; expected {', '.join(sorted(keys))}")
    delays = section.get("retry_delays", list(default.retry_delays))
    if not isinstance(delays, list) or not delays or any(
            isinstance(d, bool) or not isinstance(d, int | float) or not 0 <= d <= 86400 * 7 for d in delays):
        raise ConfigError(f"{path}: outbox.retry_delays must be a non-empty list of seconds "
                          f"(each 0 to 604800), got {delays!r}")
    jitter = section.get("jitter", default.jitter)
    if isinstance(jitter, bool) or not isinstance(jitter, int | float) or not 0 <= jitter < 1:
        raise ConfigError(f"{path}: outbox.jitter must be at least 0 and below 1, got {jitter!r}")
    counts = {key: _typed(section, key, int, getattr(default, key), path, "outbox")
              for key in ("batch", "concurrency")}
    for key, value in counts.items():
        if not 1 <= value <= 10_000:
            raise ConfigError(f"{path}: outbox.{key} must be 1 to 10000, got {value}")
    return OutboxSettings(
        dispatch=_typed(section, "dispatch", bool, default.dispatch, path, "outbox"),
        retry_delays=tuple(float(d) for d in delays), jitter=float(jitter),
        lease_seconds=_seconds(section, "lease_seconds", default.lease_seconds, path, low=1.0),
        poll_seconds=_seconds(section, "poll_seconds", default.poll_seconds, path, low=0.01, high=60.0),
        **counts,
    )


def _database(section: dict, default: DatabaseSettings, path: Path) -> DatabaseSettings:
    keys = ("pool_size", "max_overflow", "connections_per_request", "auth_pool_size")
    if unknown := set(section) - {"url", "pool_timeout", *keys}:
        raise ConfigError(f"{path}: unknown key(s) database.{sorted(unknown)}; expected url, "
                          f"pool_timeout, {', '.join(keys)}")
    values = {key: _typed(section, key, int, getattr(default, key), path, "database") for key in keys}
    for key, value in values.items():
        if value < (0 if key == "max_overflow" else 1):
            raise ConfigError(f"{path}: database.{key} must be at least "
                              f"{0 if key == 'max_overflow' else 1}, got {value}")
    timeout = section.get("pool_timeout", default.pool_timeout)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 300:
        raise ConfigError(f"{path}: database.pool_timeout must be seconds in (0, 300], got {timeout!r}")
    return DatabaseSettings(pool_timeout=float(timeout), **values)


INTROSPECTION = ("filtered", "off")


def _introspection(http: dict, default: str, path: Path) -> str:
    value = _typed(http, "introspection", str, default, path, "http")
    if value not in INTROSPECTION:
        raise ConfigError(
            f"{path}: http.introspection must be one of {', '.join(INTROSPECTION)}, got {value!r}"
        )
    return value


_OAUTH_KEYS = ("issuer", "audience", "token_ttl", "builtin", "external")


def _http_url(value: str) -> bool:
    """An http(s) URL with a host, without query or fragment, printable, no spaces."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not parts.query
        and not parts.fragment
        and "?" not in value
        and "#" not in value
        and value.isprintable()
        and " " not in value
    )


def _oauth(section: dict, default: OAuthSettings, path: Path, builtin_issuer: str) -> OAuthSettings:
    if unknown := set(section) - set(_OAUTH_KEYS):
        raise ConfigError(
            f"{path}: unknown key(s) oauth.{sorted(unknown)}; expected {', '.join(_OAUTH_KEYS)}"
        )
    issuer = section.get("issuer", default.issuer)
    if issuer is not None:
        if not isinstance(issuer, str):
            raise ConfigError(f"{path}: oauth.issuer must be a string, got {issuer!r}")
        if not _http_url(issuer):
            raise ConfigError(
                f"{path}: oauth.issuer must be an http(s) URL without query or fragment "
                f"(RFC 8414), got {issuer!r}"
            )
    audience = _typed(section, "audience", str, default.audience, path, "oauth")
    if not _name_like(audience):
        raise ConfigError(f"{path}: oauth.audience must be a non-empty string, got {audience!r}")
    ttl = _typed(section, "token_ttl", int, default.token_ttl, path, "oauth")
    if not MIN_TOKEN_TTL <= ttl <= MAX_TOKEN_TTL:
        raise ConfigError(
            f"{path}: oauth.token_ttl must be between {MIN_TOKEN_TTL} and {MAX_TOKEN_TTL} "
            f"seconds, got {ttl}"
        )
    builtin = _typed(section, "builtin", bool, default.builtin, path, "oauth")
    tables = section.get("external", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{path}: oauth.external must be tables: [[oauth.external]]")
    own = (issuer or builtin_issuer).rstrip("/")
    external: list[ExternalIssuer] = []
    for index, table in enumerate(tables):
        entry = _external(table, f"oauth.external[{index}]", path)
        if entry.issuer.rstrip("/") == own:
            raise ConfigError(
                f"{path}: oauth.external[{index}].issuer is the built-in server's issuer "
                f"{own!r}; an external issuer must differ from it"
            )
        if any(e.issuer.rstrip("/") == entry.issuer.rstrip("/") for e in external):
            raise ConfigError(
                f"{path}: oauth.external[{index}].issuer {entry.issuer!r} is configured twice; "
                "issuers must be distinct"
            )
        external.append(entry)
    if not builtin and not external:
        raise ConfigError(
            f"{path}: oauth.builtin = false needs at least one [[oauth.external]] issuer, or "
            "no token could ever be accepted"
        )
    return OAuthSettings(issuer=issuer, audience=audience, token_ttl=ttl, builtin=builtin,
                         external=tuple(external))


_EXTERNAL_KEYS = (
    "issuer", "jwks_url", "audience", "clients", "algorithms", "leeway", "entity_claim",
    "jwks_refresh_interval", "jwks_max_age",
)
_EXTERNAL_REQUIRED = ("issuer", "jwks_url", "audience", "clients")
# The registered claims (RFC 7519 §4.1) and those the client id and scopes come from: an
# entity claim can be none of them.
_NOT_ENTITY_CLAIMS = frozenset({
    "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "azp", "scope", "scp",
})
_CLIENT_ID = re.compile(r"lgc_[A-Za-z0-9_-]{16}")  # as `ledgergate clients add` makes them


def _name_like(value: str) -> bool:
    return bool(value) and value.isprintable() and value == value.strip()


def _external(table: dict, name: str, path: Path) -> ExternalIssuer:
    if unknown := set(table) - set(_EXTERNAL_KEYS):
        raise ConfigError(
            f"{path}: unknown key(s) {name}.{sorted(unknown)}; expected {', '.join(_EXTERNAL_KEYS)}"
        )
    if missing := [key for key in _EXTERNAL_REQUIRED if key not in table]:
        raise ConfigError(f"{path}: {name} needs {', '.join(missing)}")
    issuer = _typed(table, "issuer", str, None, path, name)
    if not _http_url(issuer):
        raise ConfigError(
            f"{path}: {name}.issuer must be an http(s) URL without query or fragment, "
            f"got {issuer!r}"
        )
    jwks_url = _typed(table, "jwks_url", str, None, path, name)
    try:
        jwks_parts = urlsplit(jwks_url)
        jwks_parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        jwks_parts = None
    if (
        jwks_parts is None
        or jwks_parts.scheme not in ("http", "https")
        or not jwks_parts.hostname
        or not jwks_url.isprintable()
        or " " in jwks_url
    ):
        # Not echoed: the URL may carry credentials.
        raise ConfigError(f"{path}: {name}.jwks_url must be an http(s) URL")
    audience = _typed(table, "audience", str, None, path, name)
    if not _name_like(audience):
        raise ConfigError(f"{path}: {name}.audience must be a non-empty string, got {audience!r}")
    clients = table["clients"]
    if not isinstance(clients, dict) or not clients:
        raise ConfigError(
            f"{path}: {name}.clients must be a table of the issuer's client ids to ledgergate "
            'client ids, e.g. { "idp-client" = "lgc_…" }'
        )
    for external_id, client_id in clients.items():
        if not _name_like(external_id):
            raise ConfigError(f"{path}: {name}.clients: {external_id!r} is not a client id")
        if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
            raise ConfigError(
                f"{path}: {name}.clients.{external_id} must be a ledgergate client id "
                "(lgc_ and 16 letters, digits, '_' or '-', as `ledgergate clients add` printed)"
            )
    algorithms = table.get("algorithms", ["RS256"])
    if (
        not isinstance(algorithms, list)
        or not algorithms
        or not all(a in EXTERNAL_ALGORITHMS for a in algorithms)
    ):
        raise ConfigError(
            f"{path}: {name}.algorithms must be a non-empty list of {', '.join(EXTERNAL_ALGORITHMS)} "
            f"(asymmetric signatures only), got {algorithms!r}"
        )
    leeway = _typed(table, "leeway", int, DEFAULT_LEEWAY, path, name)
    if not 0 <= leeway <= MAX_LEEWAY:
        raise ConfigError(
            f"{path}: {name}.leeway must be between 0 and {MAX_LEEWAY} seconds, got {leeway}"
        )
    entity_claim = table.get("entity_claim")
    if entity_claim is not None and (
        not isinstance(entity_claim, str)
        or not _name_like(entity_claim)
        or entity_claim in _NOT_ENTITY_CLAIMS
    ):
        raise ConfigError(
            f"{path}: {name}.entity_claim must name a claim other than "
            f"{', '.join(sorted(_NOT_ENTITY_CLAIMS))}, got {entity_claim!r}"
        )
    interval = _typed(
        table, "jwks_refresh_interval", int, DEFAULT_JWKS_REFRESH_INTERVAL, path, name
    )
    if not 1 <= interval <= 3600:
        raise ConfigError(
            f"{path}: {name}.jwks_refresh_interval must be between 1 and 3600 seconds, got {interval}"
        )
    max_age = _typed(table, "jwks_max_age", int, DEFAULT_JWKS_MAX_AGE, path, name)
    if not interval <= max_age <= MAX_JWKS_AGE:
        raise ConfigError(
            f"{path}: {name}.jwks_max_age must be between jwks_refresh_interval ({interval}) and "
            f"{MAX_JWKS_AGE} seconds, got {max_age}"
        )
    return ExternalIssuer(
        issuer=issuer, jwks_url=jwks_url, audience=audience, clients=dict(clients),
        algorithms=tuple(dict.fromkeys(algorithms)), leeway=leeway, entity_claim=entity_claim,
        jwks_refresh_interval=interval, jwks_max_age=max_age,
    )


_RATES = (
    "requests_per_second",
    "burst",
    "token_requests_per_minute",
    "token_requests_per_minute_per_address",
    "token_requests_per_minute_per_client",
)


def _rate_limit(section: dict, default: RateLimitSettings, path: Path) -> RateLimitSettings:
    if unknown := set(section) - {"enabled", *_RATES}:
        raise ConfigError(
            f"{path}: unknown key(s) rate_limit.{sorted(unknown)}; expected enabled, "
            + ", ".join(_RATES)
        )
    values = {key: _typed(section, key, int, getattr(default, key), path, "rate_limit")
              for key in _RATES}
    for key, value in values.items():
        if not 1 <= value <= MAX_RATE:
            raise ConfigError(
                f"{path}: rate_limit.{key} must be between 1 and {MAX_RATE}, got {value}"
            )
    enabled = _typed(section, "enabled", bool, default.enabled, path, "rate_limit")
    return RateLimitSettings(enabled=enabled, **values)


def _relative_path(section: dict, key: str, path: Path, name: str) -> Path | None:
    """A file named in the config, relative to the config file itself."""
    value = section.get(key)
    if value is None:
        return None
    if not (isinstance(value, str) and value):
        raise ConfigError(f"{path}: {name}.{key} must be a file path, got {value!r}")
    return path.parent / value
