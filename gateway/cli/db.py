"""`ledgergate db`: database administration."""

from __future__ import annotations

import argparse
import asyncio
import sys

from .options import add_config, load, upgrade_database


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = load(args)
    url = args.url or settings.database_url
    asyncio.run(upgrade_database(url))
    print("database is at the latest revision", file=sys.stderr)
    return 0


def register(commands) -> None:
    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="migrate the schema to the latest revision")
    add_config(upgrade)
    upgrade.add_argument("--url", help="database URL (overrides the config)")
    upgrade.set_defaults(func=cmd_db_upgrade)
