"""The gateway killed with SIGKILL in the middle of deliveries, then started again: every
message reaches the demo CRM (on loopback), none is applied twice."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from gateway.secrets import read_key_file, store_secret
from ledger import outbox
from ledger.documents import sales_orders as so
from ledger.documents.sales_order import OrderLineDraft
from ledger.drafts import SourceRef
from sources.demo.generate import generate_world
from sources.demo.services import create_crm_app
from sources.demo.services.crm_ledger import LedgerOrders, sources_toml
from sources.demo.services.serve import serving
from tests.callers import key_file_for_tests

ROOT = Path(__file__).resolve().parent.parent.parent
KEY = "crm-kill-test-key"
ORDERS = 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gateway(config: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--config", str(config)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={k: v for k, v in os.environ.items() if k != "LEDGERGATE_DATABASE_URL"})


async def _until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


async def test_a_gateway_killed_mid_delivery_delivers_everything_once_after_a_restart(world, tmp_path):
    crm = LedgerOrders()
    crm.faults.delay = 0.02  # each delivery takes a while: the kill lands in the middle
    key_file = key_file_for_tests()
    await store_secret(world.db.engine, read_key_file(key_file), "crm", "api_key", KEY)
    async with world.db.session(world.acme) as s:
        await so.set_book(s, journal="SALES", receivable="1100", revenue="4000", cash="1000")
        await s.commit()
    for n in range(ORDERS):
        async with world.db.session(world.acme) as s:
            await so.create_order(s, so.OrderDraft("C1", "USD", (OrderLineDraft("X", Decimal(1), Decimal(5)),),
                                                   SourceRef("crm", "Opportunity", f"OPP-K{n}")),
                                  f"k{n}", notify=("crm",))
    async with serving(create_crm_app(generate_world(7, 0.05), api_key=KEY, ledger_orders=crm)) as url:
        (tmp_path / "sources.toml").write_text(sources_toml(url, timeout=2.0))
        database_url = world.db.engine.url.render_as_string(hide_password=False)
        config = tmp_path / "ledgergate.toml"
        config.write_text(f"""
[database]
url = "{database_url}"
[http]
port = {_free_port()}
[sources]
file = "sources.toml"
[secrets]
key_file = "{key_file}"
[outbox]
lease_seconds = 2
batch = 5
concurrency = 2
""")
        first = _gateway(config)
        try:
            await _until(lambda: _some(crm), 60, "the first gateway delivers")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        held_by_the_killed = (await outbox.backlog(world.db.engine))["PENDING"]
        assert held_by_the_killed > 0  # it died with work left
        second = _gateway(config)
        try:
            await _until(lambda: _drained(world), 90, "the second gateway delivers the rest")
        finally:
            second.terminate()
            second.wait(10)
    assert len(crm.applied) == len(set(crm.applied)) == ORDERS
    assert {number for _, number, _ in crm.applied} == {so.order_number(n + 1) for n in range(ORDERS)}


async def _some(crm: LedgerOrders) -> bool:
    return len(crm.applied) >= 5


async def _drained(world) -> bool:
    counts = await outbox.backlog(world.db.engine)
    return counts["PENDING"] == 0 and counts["DEAD"] == 0
