"""The `ledgergate` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import replace
from pathlib import Path

from .config import DEFAULT_DEMO_DB, ConfigError, Settings, load_settings

log = logging.getLogger("ledgergate")


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


async def _upgrade(url: str) -> None:
    from ledger.migrate import upgrade
    from ledger.store import LedgerDatabase

    db = LedgerDatabase.from_url(url)
    try:
        await upgrade(db.engine)
    finally:
        await db.dispose()


async def _build_demo(path: Path, scale: float) -> None:
    """Build into a side file and rename it into place only when complete."""
    from tqdm import tqdm

    from ledger.migrate import upgrade
    from ledger.store import LedgerDatabase

    from .demo.world import build_demo

    building = path.with_name(path.name + ".building")
    for leftover in _sqlite_files(building):
        leftover.unlink(missing_ok=True)
    db = LedgerDatabase.from_url(f"sqlite:///{building}")
    try:
        await upgrade(db.engine)
        with tqdm(desc="posting demo ledger", unit=" lines", file=sys.stderr) as bar:
            summary = await build_demo(db, scale=scale, progress=bar.update)
    finally:
        await db.dispose()
    building.replace(path)
    print(f"demo ledger ready: {summary}", file=sys.stderr)


async def _schema_is_current(url: str) -> str | None:
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


def _serve(settings: Settings) -> None:
    import uvicorn

    from .app import create_app

    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


def cmd_demo(args: argparse.Namespace) -> int:
    path = Path(args.db)
    path.parent.mkdir(parents=True, exist_ok=True)
    if args.reset:
        for file in _sqlite_files(path):
            file.unlink(missing_ok=True)
    if not path.exists():
        asyncio.run(_build_demo(path, args.scale))
    settings = Settings(database_url=f"sqlite:///{path}", host=args.host, port=args.port)
    asyncio.run(_upgrade(settings.database_url))
    print(
        f"ledgergate demo (insecure development mode: pick the company with the "
        f"X-Ledgergate-Entity header)\n  GraphiQL: http://{args.host}:{args.port}/graphiql\n"
        f"  GraphQL:  http://{args.host}:{args.port}/graphql",
        file=sys.stderr,
    )
    _serve(settings)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if not args.insecure_dev:
        print(
            "ledgergate serve: OAuth is not available yet; the only principal is the insecure "
            "development one. Re-run with --insecure-dev to accept that.",
            file=sys.stderr,
        )
        return 2
    settings = load_settings(Path(args.config) if args.config else None)
    settings = replace(
        settings, host=args.host or settings.host, port=args.port or settings.port
    )
    if problem := asyncio.run(_schema_is_current(settings.database_url)):
        print(f"ledgergate serve: {problem}", file=sys.stderr)
        return 2
    _serve(settings)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings(Path(args.config) if args.config else None)
    url = args.url or settings.database_url
    asyncio.run(_upgrade(url))
    print("database is at the latest revision", file=sys.stderr)
    return 0


def cmd_schema(_args: argparse.Namespace) -> int:
    from resolvers.schema import print_sdl

    sys.stdout.write(print_sdl())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ledgergate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="build the demo ledger if missing and serve it")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--scale", type=float, default=1.0, help="volume multiplier (1: ~32k lines in seconds; 31: ~1M lines)")
    demo.add_argument("--reset", action="store_true", help="rebuild the demo database")
    demo.add_argument("--db", default=str(DEFAULT_DEMO_DB), help="demo SQLite file")
    demo.set_defaults(func=cmd_demo)

    serve = commands.add_parser("serve", help="serve a configured ledger")
    serve.add_argument("--config", help="TOML configuration file")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--insecure-dev", action="store_true", help="use the development principal")
    serve.set_defaults(func=cmd_serve)

    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="migrate the schema to the latest revision")
    upgrade.add_argument("--config", help="TOML configuration file")
    upgrade.add_argument("--url", help="database URL (overrides the config)")
    upgrade.set_defaults(func=cmd_db_upgrade)

    schema = commands.add_parser("schema", help="print the GraphQL SDL")
    schema.set_defaults(func=cmd_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as error:
        print(f"ledgergate: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
