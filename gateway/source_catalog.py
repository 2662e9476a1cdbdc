"""Opening the configured source systems at start, before the app serves a request."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from resolvers.schema import core_type_names
from resolvers.sources.catalog import SourceCatalog
from sources.config import SourcesConfig, build_sources, load_sources_config
from sources.errors import SourceConfigError

from .secrets import NO_SECRETS, Secrets


async def open_catalog(
    sources: Path | SourcesConfig | None,
    *,
    secrets: Secrets = NO_SECRETS,
    transports: Mapping[str, Any] | None = None,
) -> SourceCatalog:
    """Every system of `sources` (a sources config file, or one already loaded), built and wrapped in its resilience policy, with
    GraphQL subgraphs' record types discovered. Raises `SourceConfigError` (naming the file,
    the system and the problem) for any configuration that cannot work; no file: no sources.
    """
    if sources is None:
        return SourceCatalog()
    config = sources if isinstance(sources, SourcesConfig) else load_sources_config(sources)
    built = await build_sources(config, secrets=secrets, transports=transports)
    record_types = [t for source in built.values() for t in source.record_types]
    taken = core_type_names()
    for record_type in record_types:
        if record_type.graphql_name in taken:
            for source in built.values():
                await source.aclose()
            raise SourceConfigError(
                config.file,
                record_type.system,
                f"types.{record_type.name}: GraphQL type name {record_type.graphql_name!r} is "
                "taken by ledgergate's own schema; set another graphql_name",
            )
    deliveries = {s.name: dict(s.deliveries) for s in config.systems if s.deliveries}
    pushes = {}
    for system in config.systems:
        if system.push is None:
            continue
        secret = secrets.get(system.credentials or "", {}).get(system.push.secret)
        if not secret:
            for source in built.values():
                await source.aclose()
            raise SourceConfigError(
                config.file, system.name,
                f"push: no {system.push.secret!r} among the credentials {system.credentials!r}: "
                f"`ledgergate secrets set {system.credentials} {system.push.secret}`")
        pushes[system.name] = (system.push, secret.encode())
    return SourceCatalog.of(built, record_types, deliveries, pushes)
