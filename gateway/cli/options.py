"""What more than one command group of `ledgergate` uses: the `--config` option, the
`command` helper that adds a subcommand taking it, and running an administration command's
work on the configured, up-to-date database."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from ..config import ConfigError, Settings, load_settings

CONFIG_HELP = "TOML configuration file"


def add_config(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give `parser` the `--config FILE` option every configured command takes."""
    parser.add_argument("--config", help=CONFIG_HELP)
    return parser


def command(group, name: str, func, help: str) -> argparse.ArgumentParser:
    """Add subcommand `name` (running `func(args)`, with `--config`) to `group`, the
    subparsers of a command group."""
    parser = group.add_parser(name, help=help)
    add_config(parser)
    parser.set_defaults(func=func)
    return parser


def load(args: argparse.Namespace) -> Settings:
    """The settings of `--config`, or of the environment and defaults without it."""
    return load_settings(Path(args.config) if args.config else None)


async def upgrade_database(url: str) -> None:
    from ledger.migrate import upgrade
    from ledger.store import LedgerDatabase

    db = LedgerDatabase.from_url(url)
    try:
        await upgrade(db.engine)
    finally:
        await db.dispose()


async def schema_is_current(url: str) -> str | None:
    """None when the database is at the code's revision, else what to tell the operator."""
    from ledger.migrate import current_revision, head_revision
    from ledger.store import LedgerDatabase

    db = LedgerDatabase.from_url(url)
    try:
        current = await current_revision(db.engine)
    except Exception as error:  # noqa: BLE001 - any failure to connect is reported as such
        return f"cannot read the database: {type(error).__name__}"
    finally:
        await db.dispose()
    head = head_revision()
    if current != head:
        return (
            f"the database schema is at revision {current or 'none'}, this version needs {head}: "
            "run `ledgergate db upgrade` first"
        )
    return None


def admin_settings(args: argparse.Namespace) -> Settings:
    """The settings of an administration command (`secrets`, `clients`, `users`, …), its
    database checked to be at the code's schema."""
    settings = load(args)
    alembic = logging.getLogger("alembic")
    level = alembic.level
    alembic.setLevel(logging.WARNING)  # reading the revision is not news for an admin command
    try:
        problem = asyncio.run(schema_is_current(settings.database_url))
    finally:
        alembic.setLevel(level)
    if problem:
        raise ConfigError(problem)
    return settings


def run_on_ledger(settings: Settings, work):
    """`work(db)` on the configured database (a `LedgerDatabase`), in a loop of its own."""
    from ledger.store import LedgerDatabase

    async def run():
        db = LedgerDatabase.from_url(settings.database_url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


def run_on_database(settings: Settings, work):
    """`work(engine)` on the configured database, in a loop of its own."""
    return run_on_ledger(settings, lambda db: work(db.engine))


def identities(args: argparse.Namespace, operation, *arguments):
    """`operation(db, *arguments)` of `gateway.auth.identities` on the configured database."""
    from ..auth.identities import IdentityError

    settings = admin_settings(args)
    try:
        return run_on_ledger(settings, lambda db: operation(db, *arguments))
    except IdentityError as error:
        raise ConfigError(str(error)) from None


def scope_text(scopes) -> str:
    from ..auth.scopes import format_scope

    return format_scope(scopes)


SCOPES_HELP = 'space-separated, e.g. "ledger:read statistical:read source:hr:read"'
ENTITY_HELP = "the entity's code, e.g. SOFTCO"
CLIENT_ID_HELP = "the client's id (lgc_…), as `clients add` printed it"
USERNAME_HELP = "the user's name within the entity"
