"""`ledgergate serve`: serve a configured ledger (and `serve_app`, which `demo` serves with)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace

from sources.errors import SourceConfigError

from ..config import ConfigError, Settings
from .options import add_config, load, schema_is_current


async def serve_app(settings: Settings, catalog) -> None:
    """uvicorn in the running event loop, so that the source systems' clients, opened at
    start, live in the loop that serves requests."""
    import uvicorn

    from ..access_log import redact_access_log
    from ..app import create_app

    app = create_app(settings, sources=catalog)  # its lifespan closes the catalog
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info")
    redact_access_log()  # after Config: it configures uvicorn's loggers
    await uvicorn.Server(config).serve()


async def _source_secrets(settings: Settings, config):
    """The decrypted credentials the sources config names (none named: no key needed)."""
    from ledger.store import LedgerDatabase

    from ..secrets import NAME_PATTERN, NO_SECRETS, load_secrets, require_key

    for system in config.systems:
        if system.credentials and not NAME_PATTERN.fullmatch(system.credentials):
            # Not echoed: it may be the secret itself, pasted.
            raise SourceConfigError(
                config.file, system.name,
                "credentials must be the name of stored secrets (1-64 letters, digits, '_', "
                "'.' or '-'), not the secret itself",
            )
    names = sorted({system.credentials for system in config.systems if system.credentials})
    if not names:
        return NO_SECRETS
    listed = ", ".join(repr(name) for name in names)
    key = require_key(settings.secrets_key_file, f"{config.file}: credentials {listed} need")
    db = LedgerDatabase.from_url(settings.database_url)
    try:
        secrets = await load_secrets(db.engine, key, names)
    finally:
        await db.dispose()
    for system in config.systems:
        if system.credentials and system.credentials not in secrets:
            raise SourceConfigError(
                config.file,
                system.name,
                f"credentials {system.credentials!r} are not stored: run "
                f"`ledgergate secrets set {system.credentials} KEY` (KEY: e.g. api_key)",
            )
    return secrets


async def _serve_configured(settings: Settings) -> None:
    from sources.config import load_sources_config

    from ..source_catalog import open_catalog

    if settings.sources_file is None:
        catalog = await open_catalog(None)
    else:
        config = load_sources_config(settings.sources_file)
        catalog = await open_catalog(config, secrets=await _source_secrets(settings, config))
    await serve_app(settings, catalog)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the configured ledger: /graphql takes the bearer tokens of the built-in
    authorization server, which needs the secrets key (its signing keys are encrypted with
    it)."""
    from ..secrets import KEY_ENV, KEYGEN_HINT, configured_key

    settings = load(args)
    settings = replace(settings, host=args.host or settings.host, port=args.port or settings.port)
    if settings.oauth.builtin and configured_key(settings.secrets_key_file) is None:
        # External issuers' tokens need no key of ours; the built-in server's signing keys do.
        raise ConfigError(
            "serve: /graphql takes bearer tokens, whose signing keys need the secrets key, but "
            f"none is configured: set {KEY_ENV} or [secrets] key_file in the gateway config "
            f"({KEYGEN_HINT})"
        )
    if problem := asyncio.run(schema_is_current(settings.database_url)):
        print(f"ledgergate serve: {problem}", file=sys.stderr)
        return 2
    asyncio.run(_serve_configured(settings))
    return 0


def register(commands) -> None:
    serve = commands.add_parser("serve", help="serve a configured ledger")
    add_config(serve)
    serve.add_argument("--host", help="the address to listen on (overrides the config)")
    serve.add_argument("--port", type=int, help="the port to listen on (overrides the config)")
    serve.set_defaults(func=cmd_serve)
