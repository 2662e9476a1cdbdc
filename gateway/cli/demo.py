"""`ledgergate demo` (build the demo ledger if missing, start its source systems and serve it)
and `ledgergate demo-source` (run one demo source system alone)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from ..config import DEFAULT_DEMO_DB, ConfigError, Settings
from . import serve
from .options import upgrade_database

DEMO_SEED = 7
DEMO_SYSTEMS = ("crm", "pos", "hr", "usage", "ap")
# Credentials of a demo system run alone, from the environment: none is built in.
DEMO_SOURCE_SECRET_ENV = {
    "crm": {"api_key": "LEDGERGATE_DEMO_CRM_API_KEY"},
    "pos": {"api_key": "LEDGERGATE_DEMO_POS_API_KEY"},
    "hr": {"api_key": "LEDGERGATE_DEMO_HR_API_KEY"},
    "usage": {"client_secret": "LEDGERGATE_DEMO_USAGE_CLIENT_SECRET"},
    "ap": {"api_key": "LEDGERGATE_DEMO_AP_API_KEY"},
}
DEMO_LINES_AT_SCALE_1 = 32_500
"""About how many lines the demo ledger has at scale 1 (its lines grow with the scale)."""


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


class _PlainProgress:
    """Progress of posting as a few whole lines, for a stream that is not a terminal (a log
    file, a pipe): a line about every quarter of the expected lines, never a carriage return."""

    def __init__(self, stream: TextIO, expected: int) -> None:
        self.stream = stream
        self.step = max(1_000, round(expected / 4, -3))
        self.lines = 0
        self.reported = 0
        self.started = time.monotonic()

    def update(self, lines: int) -> None:
        self.lines += lines
        if self.lines - self.reported >= self.step:
            self.reported = self.lines
            elapsed = time.monotonic() - self.started
            print(f"posting demo ledger: {self.lines:,} lines posted ({elapsed:.0f} s)",
                  file=self.stream, flush=True)


@contextlib.contextmanager
def _progress(stream: TextIO, expected: int):
    """`update(n)` for n lines posted: tqdm's bar on a terminal, else plain lines."""
    if stream.isatty():
        from tqdm import tqdm

        with tqdm(desc="posting demo ledger", unit=" lines", file=stream) as bar:
            yield bar.update
    else:
        yield _PlainProgress(stream, expected).update


async def _build_demo(path: Path, scale: float, *, stream: TextIO | None = None) -> None:
    """Build into a side file and rename it into place only when complete; tell `stream`
    (default: stderr) how it goes."""
    from ledger.migrate import upgrade
    from ledger.store import LedgerDatabase

    from ..demo.world import build_demo

    stream = sys.stderr if stream is None else stream
    expected = int(DEMO_LINES_AT_SCALE_1 * scale)
    print(f"building the demo ledger {path} (seed {DEMO_SEED}, scale {scale:g}: about "
          f"{expected:,} lines); it is built once and reused at the next start", file=stream,
          flush=True)
    building = path.with_name(path.name + ".building")
    for leftover in _sqlite_files(building):
        leftover.unlink(missing_ok=True)
    db = LedgerDatabase.from_url(f"sqlite:///{building}")
    try:
        await upgrade(db.engine)
        with _progress(stream, expected) as update:
            summary = await build_demo(db, seed=DEMO_SEED, scale=scale, progress=update)
    finally:
        await db.dispose()
    building.replace(path)
    print(f"demo ledger ready: {summary}", file=stream, flush=True)


def _demo_meta(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _crm_state(path: Path) -> Path:
    """What the demo CRM remembers of the ledger at `path` (`crm_state`): it goes when the
    ledger is rebuilt, since the new ledger's orders start again at version 1."""
    return path.with_name(path.stem + "-crm.json")


def _demo_scale(path: Path, asked: float | None) -> float:
    """The scale the demo ledger at `path` was built with: the source systems must serve
    the very records its lines link to."""
    meta = _demo_meta(path)
    try:
        built = json.loads(meta.read_text())["scale"]
    except (FileNotFoundError, KeyError, ValueError):
        raise ConfigError(
            f"{path} was built by an older ledgergate (no {meta.name}): run `ledgergate demo --reset`"
        ) from None
    if asked is not None and asked != built:
        raise ConfigError(
            f"{path} was built at scale {built:g}, not {asked:g}: add --reset to rebuild it"
        )
    return built


async def _demo_clients(settings: Settings, systems) -> list:
    from ledger.store import LedgerDatabase

    from ..auth.identities import IdentityError
    from ..demo.clients import provision_demo_clients

    db = LedgerDatabase.from_url(settings.database_url)
    try:
        return await provision_demo_clients(db, systems)
    except IdentityError as error:
        raise ConfigError(str(error)) from None
    finally:
        await db.dispose()


def _hooks_url(host: str, port: int) -> str:
    """Where the demo CRM pushes: the gateway's `/hooks/crm`, on loopback when it listens
    on every address."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}/hooks/crm" if ":" in host else f"http://{host}:{port}/hooks/crm"


async def _run_demo(settings: Settings, scale: float, pos_db: Path, crm_state: Path) -> None:
    from sources.demo.generate import generate_world

    from ..demo.sources import demo_systems

    records = await asyncio.to_thread(generate_world, DEMO_SEED, scale)
    async with contextlib.AsyncExitStack() as stack:
        try:
            running, catalog = await stack.enter_async_context(demo_systems(
                records, pos_db_path=pos_db, crm_state_path=crm_state,
                hooks_url=_hooks_url(settings.host, settings.port),
            ))
        except OSError as error:
            raise ConfigError(
                f"cannot start the demo source systems (ports 8101-8105): {error}"
            ) from None
        clients = await _demo_clients(settings, catalog.sources)
        base = f"http://{settings.host}:{settings.port}"
        listing = "\n".join(f"  {name:<6}    {running.url(name)}" for name in running.sources)
        print("\n".join(client.line() for client in clients), flush=True)
        # People sign in to the systems' deep links in a browser; passwords are fresh each run.
        sign_ins = [p.line(name) for name, r in running.sources.items() for p in r.people]
        print("\n".join(sign_ins), flush=True)
        # The README's walkthrough calls the CRM as a program would (win a deal, add a note).
        print(f"demo system crm: X-API-Key={running.api_keys['crm']}", flush=True)
        example = clients[0]
        print(
            f"ledgergate demo: every request needs a bearer token of one of the clients above\n"
            f"  token:    curl -s -u {example.client_id}:{example.secret} "
            f"-d grant_type=client_credentials -d entity=SOFTCO {base}/oauth/token\n"
            f"  GraphiQL: {base}/graphiql (paste the token into the Headers tab)\n"
            f"  GraphQL:  {base}/graphql\n"
            f"source systems (a deep link asks a person to sign in: see `demo sign-in` above):\n"
            f"{listing}",
            file=sys.stderr,
            flush=True,
        )
        await serve.serve_app(settings, catalog)


def cmd_demo(args: argparse.Namespace) -> int:
    path = Path(args.db)
    path.parent.mkdir(parents=True, exist_ok=True)
    if args.reset:
        for file in [*_sqlite_files(path), _demo_meta(path)]:
            file.unlink(missing_ok=True)
    if not path.exists():
        _crm_state(path).unlink(missing_ok=True)
        scale = 1.0 if args.scale is None else args.scale
        asyncio.run(_build_demo(path, scale))
        _demo_meta(path).write_text(json.dumps({"seed": DEMO_SEED, "scale": scale}) + "\n")
    from ..secrets import key_file_beside

    scale = _demo_scale(path, args.scale)
    settings = Settings(
        database_url=f"sqlite:///{path}", host=args.host, port=args.port,
        # Beside the ledger: it seals the ledger's token signing keys.
        secrets_key_file=key_file_beside(path),
    )
    asyncio.run(upgrade_database(settings.database_url))
    asyncio.run(_run_demo(settings, scale, path.with_name(path.stem + "-pos.db"), _crm_state(path)))
    return 0


def cmd_demo_source(args: argparse.Namespace) -> int:
    from sources.demo.services import run_demo_source

    wanted = DEMO_SOURCE_SECRET_ENV.get(args.name, {})
    credentials = {key: value for key, env in wanted.items() if (value := os.environ.get(env))}
    if unset := [env for key, env in wanted.items() if key not in credentials]:
        raise ConfigError(
            f"demo-source {args.name}: set {', '.join(unset)} to the credentials its clients "
            "must present (and store the same for the gateway with `ledgergate secrets set`)"
        )
    run_demo_source(
        args.name, args.port, scale=args.scale, host=args.host, pos_db_path=args.pos_db, **credentials
    )
    return 0


def register(commands) -> None:
    demo = commands.add_parser("demo", help="build the demo ledger if missing and serve it")
    demo.add_argument("--port", type=int, default=8000, help="the gateway's port (default 8000)")
    demo.add_argument("--host", default="127.0.0.1",
                      help="the gateway's address (default 127.0.0.1)")
    demo.add_argument("--scale", type=float, help="volume multiplier when building (default 1: ~32k lines in seconds; 31: ~1M lines)")
    demo.add_argument("--reset", action="store_true", help="rebuild the demo database")
    demo.add_argument("--db", default=str(DEFAULT_DEMO_DB), help="demo SQLite file")
    demo.set_defaults(func=cmd_demo)

    source = commands.add_parser("demo-source", help="run one demo source system alone")
    source.add_argument("name", choices=DEMO_SYSTEMS, help="the system to run")
    source.add_argument("--port", type=int, required=True, help="the port to listen on")
    source.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on (default 127.0.0.1)")
    source.add_argument("--scale", type=float, default=1.0, help="as the demo ledger was built")
    source.add_argument("--pos-db", default=str(DEFAULT_DEMO_DB.with_name("demo-pos.db")), help="pos: the database to (re)build and serve")
    source.set_defaults(func=cmd_demo_source)
