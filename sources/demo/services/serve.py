"""Running the demo source systems on loopback: all five in one event loop, or one alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from ..generate import generate_world
from ..records import DEMO_HOST, POS, SYSTEM_PORTS, DemoRecords
from .ap import create_ap_app
from .crm import create_crm_app
from .hr import create_hr_app
from .people import DemoPerson, demo_people
from .pos import build_pos_database, create_pos_app
from .usage import create_usage_app

ServiceFactory = Callable[..., Any]

SERVICES: dict[str, ServiceFactory] = {
    "crm": create_crm_app,
    "pos": create_pos_app,
    "hr": create_hr_app,
    "usage": create_usage_app,
    "ap": create_ap_app,
}
"""System name → factory ``(records, *, people, **secrets) -> ASGI app``."""

CREDENTIALS: dict[str, tuple[str, ...]] = {
    "crm": ("api_key",),
    "pos": ("api_key",),
    "hr": ("api_key",),
    "usage": ("client_secret",),
    "ap": ("api_key",),
}
"""The secrets each system's factory needs: never defaulted, so none is in the code."""


def missing_credentials(name: str, given: Mapping[str, str]) -> list[str]:
    return [key for key in CREDENTIALS.get(name, ()) if not given.get(key)]

DEFAULT_POS_DB = Path("var") / "demo-pos.db"
"""Where the POS database is written unless told otherwise (beside the demo ledger)."""

STARTUP_TIMEOUT = 10.0
# Batches of ids travel in query strings; h11's default cap on a request head is 16 KiB.
MAX_REQUEST_HEAD = 1024 * 1024


TASK_PREFIX = "demo-source-"
"""The name of each embedded demo system's server task begins so (`serve_demo_sources`)."""


class _QuietDemoSources(logging.Filter):
    """Drops uvicorn's INFO news (started, startup complete, shutting down, …) of the demo
    systems' servers, five times over in the demo's log; their warnings and errors pass, and
    so does everything of other servers (the gateway's) in the same process."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no running loop
            return True
        return task is None or not task.get_name().startswith(TASK_PREFIX)


def _quiet_demo_sources() -> None:
    """Install `_QuietDemoSources` on uvicorn's server logger (once, however often called)."""
    server_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDemoSources) for f in server_log.filters):
        server_log.addFilter(_QuietDemoSources())


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the process that embeds it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class RunningSource:
    name: str
    url: str
    server: uvicorn.Server
    task: asyncio.Task
    people: tuple[DemoPerson, ...] = ()
    """Who may sign in to its deep links (`DemoPerson.line` says how)."""


@dataclass
class DemoSources:
    """The demo systems, running; ``await stop()`` (or ``async with``) ends them.

    Attributes:
        sources: system name → its running server and root URL (the real port, also when
            asked for port 0).
        pos_database_url: the SQLAlchemy URL of the POS database.
        api_keys: system → the API key its clients send, where its starter shares it.
    """

    sources: dict[str, RunningSource] = field(default_factory=dict)
    pos_database_url: str | None = None
    api_keys: dict[str, str] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return self.sources[name].url

    async def stop(self) -> None:
        for running in self.sources.values():
            running.server.should_exit = True
        await asyncio.gather(*(r.task for r in self.sources.values()), return_exceptions=True)

    async def __aenter__(self) -> DemoSources:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextlib.asynccontextmanager
async def serving(
    app: Any, *, host: str = DEMO_HOST, port: int = 0, lifespan: str = "on"
) -> AsyncIterator[str]:
    """Any ASGI `app` under uvicorn in the running event loop, on `host` at `port` (0: a free
    one), for as long as the block lasts; yields its root URL (tests, benchmarks)."""
    sock = _bind(host, port)
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan=lifespan, timeout_graceful_shutdown=2
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_TIMEOUT
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped while starting")
            if loop.time() > deadline:
                raise TimeoutError(f"server not started after {STARTUP_TIMEOUT} s")
            await asyncio.sleep(0.01)
        yield _url(host, sock.getsockname()[1])
    finally:
        server.should_exit = True
        await task
        sock.close()


async def serve_demo_sources(
    records: DemoRecords,
    *,
    host: str = DEMO_HOST,
    ports: Mapping[str, int] = SYSTEM_PORTS,
    pos_db_path: str | os.PathLike[str] = DEFAULT_POS_DB,
    secrets: Mapping[str, Mapping[str, str]] | None = None,
    people: Mapping[str, tuple[DemoPerson, ...]] | None = None,
) -> DemoSources:
    """Build the POS database and start the five systems in the running event loop.

    `ports` maps each system to its port (0 picks a free one; see `DemoSources.url`);
    `pos_db_path` is a file path or SQLAlchemy URL; `secrets` maps a system to keyword
    arguments of its factory (``{"crm": {"api_key": ...}, "usage": {"client_secret": ...}}``);
    `people` maps a system to who may sign in to its deep links (default: `demo_people`, with
    fresh passwords, on `RunningSource.people`).
    Returns once every server accepts connections; raises `OSError` if a port is taken (after
    stopping whatever had started).
    """
    secrets = secrets or {}
    missing = [f"{n}.{key}" for n in SERVICES for key in missing_credentials(n, secrets.get(n, {}))]
    if missing:
        raise ValueError(f"demo source credentials missing: {', '.join(missing)}")
    _quiet_demo_sources()  # `DemoSources` are listed by whoever starts them
    running = DemoSources()
    running.pos_database_url = await asyncio.to_thread(build_pos_database, pos_db_path, records)
    try:
        for name, factory in SERVICES.items():
            who = tuple(people[name]) if people and name in people else demo_people(name)
            sock = _bind(host, ports.get(name, SYSTEM_PORTS[name]))
            config = uvicorn.Config(
                factory(records, people=who, **secrets.get(name, {})),
                log_config=None,
                access_log=False,
                h11_max_incomplete_event_size=MAX_REQUEST_HEAD,
                timeout_graceful_shutdown=5,
            )
            server = _EmbeddedServer(config)
            task = asyncio.create_task(server.serve(sockets=[sock]), name=f"{TASK_PREFIX}{name}")
            url = _url(host, sock.getsockname()[1])
            running.sources[name] = RunningSource(name, url, server, task, who)
        await _started(running)
    except BaseException:
        await running.stop()
        raise
    return running


async def _started(running: DemoSources) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT
    while not all(r.server.started for r in running.sources.values()):
        for r in running.sources.values():
            if r.task.done():
                r.task.result()  # re-raises why it stopped
                raise RuntimeError(f"demo source {r.name} stopped while starting")
        if loop.time() > deadline:
            raise TimeoutError(f"demo sources not started after {STARTUP_TIMEOUT} s")
        await asyncio.sleep(0.01)


def run_demo_source(
    name: str,
    port: int,
    *,
    seed: int = 7,
    scale: float = 1.0,
    host: str = DEMO_HOST,
    pos_db_path: str | os.PathLike[str] = DEFAULT_POS_DB,
    **secrets: str,
) -> None:
    """Run one demo system in the foreground until interrupted (``ledgergate demo-source``).

    The records come from `generate_world(seed, scale)`, the same ids the demo ledger links
    to when built with the same seed and scale. ``pos`` also (re)builds its database at
    `pos_db_path` first. Its people get fresh passwords, printed before it starts.
    """
    if name not in SERVICES:
        raise ValueError(f"unknown demo source {name!r}; choose from {', '.join(SERVICES)}")
    if missing := missing_credentials(name, secrets):
        raise ValueError(f"demo source {name} needs {', '.join(missing)}")
    records = generate_world(seed, scale)
    if name == POS:
        url = build_pos_database(pos_db_path, records)
        print(f"pos database: {url}", flush=True)
    people = demo_people(name)
    print("\n".join(person.line(name) for person in people), flush=True)
    config = uvicorn.Config(
        SERVICES[name](records, people=people, **secrets),
        host=host,
        port=port,
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD,
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C after a graceful shutdown
        uvicorn.Server(config).run()
