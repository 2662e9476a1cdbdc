"""Gateway settings: defaults, a TOML file, and environment overrides."""

from __future__ import annotations

import os
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


@dataclass(frozen=True)
class OAuthSettings:
    """The built-in authorization server (`gateway.auth.server`).

    Attributes:
        issuer: the `iss` of its tokens and the base of its endpoints' URLs (RFC 8414: an
            http(s) URL without query or fragment); None: `http://{host}:{port}`.
        audience: the `aud` of its tokens.
        token_ttl: lifetime of an access token in seconds (60..86400; default 15 minutes).
    """

    issuer: str | None = None
    audience: str = DEFAULT_AUDIENCE
    token_ttl: int = DEFAULT_TOKEN_TTL


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
    compiled: bool = True

    @property
    def issuer(self) -> str:
        """The authorization server's issuer identifier (no trailing slash)."""
        return (self.oauth.issuer or f"http://{self.host}:{self.port}").rstrip("/")


def load_settings(path: Path | None = None) -> Settings:
    """Read a TOML file like:

        [database]
        url = "postgresql://ledgergate@127.0.0.1:5432/ledgergate"
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
        [sources]
        file = "sources.toml"                      # relative to this file
        [secrets]
        key_file = "/etc/ledgergate/secrets.key"   # relative to this file; mode 0600
        [oauth]
        issuer = "https://ledger.example.com"      # default http://{host}:{port}
        audience = "ledgergate"
        token_ttl = 900                            # seconds, 60..86400
        [execution]
        compiled = true                            # false: graphql-core's path only

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
}


def _limits(section: dict, default: Limits, path: Path) -> Limits:
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
    return Limits(**values)


def _apply(settings: Settings, raw: dict, path: Path) -> Settings:
    known = {"database", "http", "limits", "sources", "secrets", "oauth", "execution"}
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
    execution = _section(raw, "execution", path)
    if unknown := set(execution) - {"compiled"}:
        raise ConfigError(f"{path}: unknown key(s) execution.{sorted(unknown)}; expected compiled")
    return Settings(
        database_url=_typed(database, "url", str, settings.database_url, path, "database"),
        host=_typed(http, "host", str, settings.host, path, "http"),
        port=_typed(http, "port", int, settings.port, path, "http"),
        graphiql=_typed(http, "graphiql", bool, settings.graphiql, path, "http"),
        introspection=_introspection(http, settings.introspection, path),
        limits=_limits(limits, settings.limits, path),
        max_body_bytes=_typed(
            http, "max_body_bytes", int, settings.max_body_bytes, path, "http"
        ),
        sources_file=_relative_path(sources, "file", path, "sources"),
        secrets_key_file=_relative_path(secrets, "key_file", path, "secrets"),
        oauth=_oauth(_section(raw, "oauth", path), settings.oauth, path),
        compiled=_typed(execution, "compiled", bool, settings.compiled, path, "execution"),
    )


INTROSPECTION = ("filtered", "off")


def _introspection(http: dict, default: str, path: Path) -> str:
    value = _typed(http, "introspection", str, default, path, "http")
    if value not in INTROSPECTION:
        raise ConfigError(
            f"{path}: http.introspection must be one of {', '.join(INTROSPECTION)}, got {value!r}"
        )
    return value


def _oauth(section: dict, default: OAuthSettings, path: Path) -> OAuthSettings:
    if unknown := set(section) - {"issuer", "audience", "token_ttl"}:
        raise ConfigError(
            f"{path}: unknown key(s) oauth.{sorted(unknown)}; expected issuer, audience, token_ttl"
        )
    issuer = section.get("issuer", default.issuer)
    if issuer is not None:
        if not isinstance(issuer, str):
            raise ConfigError(f"{path}: oauth.issuer must be a string, got {issuer!r}")
        try:
            parts = urlsplit(issuer)
        except ValueError:
            parts = None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.query
            or parts.fragment
            or "?" in issuer
            or "#" in issuer
            or not issuer.isprintable()
            or " " in issuer
        ):
            raise ConfigError(
                f"{path}: oauth.issuer must be an http(s) URL without query or fragment "
                f"(RFC 8414), got {issuer!r}"
            )
    audience = _typed(section, "audience", str, default.audience, path, "oauth")
    if not audience or not audience.isprintable() or audience != audience.strip():
        raise ConfigError(f"{path}: oauth.audience must be a non-empty string, got {audience!r}")
    ttl = _typed(section, "token_ttl", int, default.token_ttl, path, "oauth")
    if not MIN_TOKEN_TTL <= ttl <= MAX_TOKEN_TTL:
        raise ConfigError(
            f"{path}: oauth.token_ttl must be between {MIN_TOKEN_TTL} and {MAX_TOKEN_TTL} "
            f"seconds, got {ttl}"
        )
    return OAuthSettings(issuer=issuer, audience=audience, token_ttl=ttl)


def _relative_path(section: dict, key: str, path: Path, name: str) -> Path | None:
    """A file named in the config, relative to the config file itself."""
    value = section.get(key)
    if value is None:
        return None
    if not (isinstance(value, str) and value):
        raise ConfigError(f"{path}: {name}.{key} must be a file path, got {value!r}")
    return path.parent / value
