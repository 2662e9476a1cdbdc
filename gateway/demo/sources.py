"""The demo's source systems as the gateway sees them: the shipped sources config
(`sources.toml`, the README's example), per-run credentials, and where the systems run."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from pathlib import Path

import httpx

from resolvers.sources.catalog import SourceCatalog
from sources.config import SourcesConfig, load_sources_config
from sources.demo.generate import generate_world
from sources.demo.records import DemoRecords
from sources.demo.services import DemoSources, create_hr_app, serve_demo_sources

from ..secrets import Secrets
from ..source_catalog import open_catalog

DEMO_SOURCES_FILE = Path(__file__).with_name("sources.toml")
# The HR subgraph's schema does not depend on the volume of its records.
SCHEMA_SCALE = 0.02


def demo_credentials() -> tuple[Secrets, dict[str, dict[str, str]]]:
    """Fresh credentials for one demo run: (the gateway's secrets by credentials name, the
    services' keyword arguments by system). Nothing to keep, nothing in git. The POS key is
    for other clients of its HTTP routes: the gateway reads the POS database itself. The
    CRM signs its pushes to the gateway with `push_secret`."""
    keys = {name: secrets.token_urlsafe(24) for name in ("crm", "hr", "ap", "pos")}
    client_secret = secrets.token_urlsafe(24)
    push_secret = secrets.token_urlsafe(32)
    gateway = {name: {"api_key": keys[name]} for name in ("crm", "hr", "ap")}
    gateway["crm"]["push_secret"] = push_secret
    gateway["usage"] = {"client_secret": client_secret}
    services = {name: {"api_key": key} for name, key in keys.items()}
    services["crm"]["push_secret"] = push_secret
    services["usage"] = {"client_secret": client_secret}
    return gateway, services


def relocate(config: SourcesConfig, running: DemoSources) -> SourcesConfig:
    """The demo config pointed at the systems as they actually run (their real ports and
    the POS database they were given); deep links keep the documented ports."""
    systems = []
    for system in config.systems:
        options = dict(system.options)
        if system.kind == "rest":
            options["base_url"] = running.url(system.name)
        elif system.kind == "graphql":
            options["url"] = running.url(system.name) + "/graphql"
        elif system.kind == "sql":
            options["url"] = running.pos_database_url
        systems.append(replace(system, options=options))
    return replace(config, systems=systems)


async def open_demo_catalog(running: DemoSources, credentials: Secrets) -> SourceCatalog:
    """The gateway's sources for the running demo systems."""
    return await open_catalog(relocate(load_sources_config(DEMO_SOURCES_FILE), running), secrets=credentials)


@contextlib.asynccontextmanager
async def demo_systems(
    records: DemoRecords,
    *,
    pos_db_path: str | os.PathLike[str],
    ports: Mapping[str, int] | None = None,
    hooks_url: str | None = None,
    crm_state_path: str | os.PathLike[str] | None = None,
) -> AsyncIterator[tuple[DemoSources, SourceCatalog]]:
    """The five demo systems running on loopback (`ports`: system → port, 0 for any free
    one; default 8101-8105) with fresh credentials, and the gateway's catalog for them.
    The CRM pushes its events to `hooks_url` (the gateway's `/hooks/crm`; none: it does not
    push) and keeps what it is told in `crm_state_path` (none: in memory). The CRM's API key
    is on `DemoSources.api_keys` (the README's walkthrough calls the CRM with it).
    The catalog is the caller's to close (an app's lifespan does); the systems stop on exit."""
    gateway_secrets, service_secrets = demo_credentials()
    if hooks_url is not None:
        service_secrets["crm"]["push_url"] = hooks_url
    if crm_state_path is not None:
        service_secrets["crm"]["state_path"] = str(crm_state_path)
    extra = {"ports": ports} if ports is not None else {}
    running = await serve_demo_sources(
        records, pos_db_path=pos_db_path, secrets=service_secrets, **extra
    )
    running.api_keys = {name: given["api_key"] for name, given in service_secrets.items() if "api_key" in given}
    try:
        yield running, await open_demo_catalog(running, gateway_secrets)
    finally:
        await running.stop()


async def schema_catalog(config: Path = DEMO_SOURCES_FILE, *, credentials: Secrets | None = None) -> SourceCatalog:
    """The demo configuration's catalog without starting any service: the HR subgraph is
    asked for its SDL in process. Nothing else connects until a query needs it."""
    if credentials is None:
        credentials, _ = demo_credentials()
    hr_app = create_hr_app(generate_world(scale=SCHEMA_SCALE), **credentials["hr"])
    hr = httpx.ASGITransport(app=hr_app)
    transports: Mapping[str, httpx.AsyncBaseTransport] = {"hr": hr}
    return await open_catalog(config, secrets=credentials, transports=transports)


async def demo_sdl(config: Path = DEMO_SOURCES_FILE) -> str:
    """The SDL the gateway serves with the sources of `config` (`schema.graphql` is the
    demo configuration's)."""
    from resolvers.schema import build_schema, print_sdl

    catalog = await schema_catalog(config)
    try:
        return print_sdl(build_schema(catalog))
    finally:
        await catalog.aclose()
