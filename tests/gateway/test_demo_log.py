"""The demo's log reads well in a file: building the demo ledger tells how it goes in a few
whole lines (no progress bar redrawn with carriage returns, one long line in a file), and the
five demo systems' servers do not each announce their start and stop."""

from __future__ import annotations

import asyncio
import io
import logging

from gateway.cli import _build_demo
from sources.demo.services.serve import TASK_PREFIX, _quiet_demo_sources


def test_building_the_demo_logs_whole_lines_to_a_stream_that_is_not_a_terminal(tmp_path):
    log = io.StringIO()
    asyncio.run(_build_demo(tmp_path / "demo.db", 0.05, stream=log))

    text = log.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert lines[0].startswith("building the demo ledger ")
    assert lines[-1].startswith("demo ledger ready: 2 entities")
    assert len(lines) <= 8
    assert (tmp_path / "demo.db").exists()


def test_uvicorn_news_of_the_demo_systems_is_dropped_and_of_other_servers_kept():
    _quiet_demo_sources()
    _quiet_demo_sources()  # once, however often
    server_log = logging.getLogger("uvicorn.error")
    assert len([f for f in server_log.filters if type(f).__name__ == "_QuietDemoSources"]) == 1

    async def serving(message: str, level: int) -> None:
        server_log.log(level, message)

    async def run() -> None:
        await asyncio.create_task(serving("demo started", logging.INFO), name=f"{TASK_PREFIX}hr")
        await asyncio.create_task(serving("demo failed", logging.ERROR), name=f"{TASK_PREFIX}hr")
        await asyncio.create_task(serving("gateway started", logging.INFO), name="gateway")

    heard: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: heard.append(record.getMessage())
    level = server_log.level
    server_log.addHandler(handler)  # uvicorn's own config may stop propagation to the root
    server_log.setLevel(logging.INFO)
    try:
        asyncio.run(run())
        server_log.info("outside any loop")
    finally:
        server_log.removeHandler(handler)
        server_log.setLevel(level)
    assert heard == ["demo failed", "gateway started", "outside any loop"]
