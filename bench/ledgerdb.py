"""Where a benchmark's ledger lives: `--db` is a SQLite file path or any SQLAlchemy URL
(`sqlite:///…`, `postgresql://…`), and the same URL reaches every process of a run (the
gateways, the baseline, the benchmark itself).

- `database_url`: a path or URL → a URL (a path becomes `sqlite:///<absolute path>`).
- `ensure_demo`: migrate to the code's head; build the demo ledger at a scale there unless
  it has an entity already. A SQLite file is built under a side name and renamed into place
  when complete; a database at a URL is built in place (an interrupted build leaves a
  partial ledger that later runs would reuse: drop the database and build again) and
  ANALYZEd after, as `bench.statements` does.
- `key_file_for`: the bench ledger's secrets key: beside a SQLite file, as
  `gateway.secrets.key_file_beside` keeps it; for another URL, in `var/` under a name
  made of a hash of the URL (`var/bench-<sha256[:12]>.secrets.key`), since there is no file
  to put it beside.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import sys
import time
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


def database_url(db: str | Path) -> str:
    """`db` as a SQLAlchemy URL: a URL as given, a file path as `sqlite:///<absolute path>`."""
    db = str(db)
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).resolve()}"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def describe(url: str) -> str:
    """A URL fit for a log line or a results table: no password."""
    path = sqlite_path(url)
    if path is not None:
        return f"SQLite {path.name}"
    parsed = make_url(url)
    return f"{parsed.get_backend_name()} {parsed.host}:{parsed.port}/{parsed.database}"


def run_sync(make_coroutine):
    """Run `make_coroutine()` to completion from synchronous code, also when the caller is
    itself inside an event loop (its own loop, in a thread of its own)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


async def _has_entities(db) -> bool:
    from ledger.model import Entity
    from ledger.tenancy import ALL_ENTITIES

    async with db.session(None) as s:
        return bool(await s.scalar(select(func.count()).select_from(Entity).execution_options(**ALL_ENTITIES)))


async def _build(url: str, scale: float, progress: bool) -> None:
    from gateway.demo.world import build_demo
    from ledger.migrate import upgrade
    from ledger.store import LedgerDatabase

    db = LedgerDatabase.from_url(url)
    try:
        await upgrade(db.engine)
        if await _has_entities(db):
            return
        if progress:
            from tqdm import tqdm

            with tqdm(desc=f"building scale {scale:g}", unit=" lines", file=sys.stderr,
                      mininterval=10) as bar:
                await build_demo(db, scale=scale, progress=bar.update)
        else:
            await build_demo(db, scale=scale)
        if db.engine.dialect.name == "postgresql":
            async with db.engine.connect() as conn:
                await conn.execute(text("ANALYZE"))
    finally:
        await db.dispose()


async def ensure_demo(url: str, scale: float, *, progress: bool = True) -> float | None:
    """Migrate the ledger at `url`; build the demo at `scale` there if it has no entity.
    The seconds the build took, or None when the ledger was there already."""
    from ledger.migrate import upgrade
    from ledger.store import LedgerDatabase

    path = sqlite_path(url)
    if path is not None and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        building = path.with_name(path.name + ".building")
        for leftover in building.parent.glob(building.name + "*"):
            leftover.unlink()
        started = time.perf_counter()
        await _build(f"sqlite:///{building}", scale, progress)
        building.replace(path)
        return time.perf_counter() - started
    db = LedgerDatabase.from_url(url)
    try:
        await upgrade(db.engine)
        if await _has_entities(db):
            return None
    finally:
        await db.dispose()
    started = time.perf_counter()
    await _build(url, scale, progress)
    return time.perf_counter() - started


def key_file_for(url: str) -> Path:
    """The bench ledger's secrets key file (created, mode 0600, on first use). Made now, it
    cannot open signing keys an earlier run sealed with another key: those are dropped
    (bench ledgers only), and the gateway makes a new one on first use."""
    from gateway.secrets import key_file_beside

    path = sqlite_path(url)
    if path is None:
        VAR.mkdir(exist_ok=True)
        digest = hashlib.sha256(make_url(url).render_as_string(hide_password=False).encode()).hexdigest()
        path = VAR / f"bench-{digest[:12]}.db"  # the name the key file is made from
    existed = path.with_name(path.stem + ".secrets.key").exists()  # where key_file_beside keeps it
    key_file = key_file_beside(path)
    if not existed and (sqlite_path(url) is None or sqlite_path(url).exists()):
        run_sync(lambda: _drop_signing_keys(url))
    return key_file


async def _drop_signing_keys(url: str) -> None:
    from sqlalchemy import inspect

    from ledger.store import create_engine

    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            if await conn.run_sync(lambda c: inspect(c).has_table("signing_keys")):
                await conn.execute(text("DELETE FROM signing_keys"))
    finally:
        await engine.dispose()
