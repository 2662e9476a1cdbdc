"""Credentials for source systems: a TOML file outside the repository, one table per name.

    # /etc/ledgergate/secrets.toml (readable by the gateway's user only)
    [crm]
    api_key = "…"
    [usage]
    client_secret = "…"

A sources config names a table with `credentials = "crm"`; the kind receives its keys.
The values are never logged, echoed in errors, or served. (Encryption at rest is issue 4's.)
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from .config import ConfigError

Secrets = Mapping[str, Mapping[str, str]]
NO_SECRETS: Secrets = MappingProxyType({})


def load_secrets(path: Path | None) -> Secrets:
    """The secrets file at `path` (none: no secrets). Errors name the file and the table,
    never a value."""
    if path is None:
        return NO_SECRETS
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such secrets file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot be read: {type(error).__name__}") from None
    except tomllib.TOMLDecodeError:
        # The decoder's message quotes the offending line, which may hold a secret.
        raise ConfigError(f"{path}: not valid TOML") from None
    secrets: dict[str, Mapping[str, str]] = {}
    for name, table in raw.items():
        if not isinstance(table, dict) or not all(
            isinstance(value, str) for value in table.values()
        ):
            raise ConfigError(f"{path}: [{name}] must be a table of string values")
        secrets[name] = MappingProxyType(dict(table))
    return MappingProxyType(secrets)
