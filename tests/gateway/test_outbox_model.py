"""A stateful property test of the outbox, in the spirit of TigerBeetle's simulator: random
interleavings of sales order changes, dispatcher rounds, receiver faults (500 before
applying, 500 after applying, too slow to answer), dispatchers killed in the middle of a
delivery and their leases running out, and operators retrying dead letters. After every
step: nothing applied twice by the receiver (the demo CRM's own store, over its HTTP
interface), no order's status ever going back there, and never ahead of the ledger. At the
end, with the faults gone: every message delivered, and the receiver holding each order
exactly as the ledger has it.

Reproducible: Hypothesis runs derandomized (the same examples every run)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import httpx
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, update

from gateway.config import OutboxSettings
from gateway.outbox_dispatcher import OutboxDispatcher
from ledger import outbox
from ledger.documents import sales_orders as so
from ledger.documents.model import SalesOrder
from ledger.documents.sales_order import OrderLineDraft
from ledger.drafts import SourceRef
from ledger.outbox import OutboxMessage
from resolvers.sources.catalog import SourceCatalog
from sources.demo.generate import generate_world
from sources.demo.services import create_crm_app
from sources.demo.services.crm_ledger import Faults, LedgerOrders
from sources.errors import SourceError
from sources.resilience import Policy, ResilientSource
from sources.rest import RestSource
from tests.conftest import ACME_ACCOUNTS, World, _entity, fresh_database

KEY = "crm-model-key"
DAY = dt.date(2026, 3, 15)
RECORDS = generate_world(7, 0.05)
# Far more than one run needs: a run ends dead only if faults outlast the schedule.
SCHEDULE = OutboxSettings(retry_delays=(0.0, 0.0, 0.0), jitter=0.0, lease_seconds=30.0)
STEPS = {"OPEN": so.fulfil, "FULFILLED": so.invoice}


class OutboxMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = tempfile.mkdtemp(prefix="ledgergate-outbox-model-")
        self.database_cm = fresh_database(Path(self.folder))
        db = self.run(self.database_cm.__aenter__())
        self.world = World(db, self.run(_entity(db, "ACME", "Acme", "USD", ACME_ACCOUNTS)), 0)
        self.run(self._book())
        self.crm = LedgerOrders()
        app = create_crm_app(RECORDS, api_key=KEY, ledger_orders=self.crm)
        rest = RestSource("crm", {"base_url": "http://crm.test", "auth": "api_key",
                                  "api_key_header": "X-API-Key"}, (), {"api_key": KEY},
                          transport=httpx.ASGITransport(app=app))
        source = ResilientSource(rest, Policy(timeout=0.2, deadline=0.2))
        self.catalog = SourceCatalog({"crm": source}, {}, deliveries={"crm": {"salesOrder": "/crm/ledger/sales-orders"}})
        self.orders = 0
        self.keys = 0
        self.dispatchers = 0
        self.seen: dict[str, int] = {}  # the receiver's version of each order, as last checked

    def run(self, work):
        return self.loop.run_until_complete(work)

    async def _book(self):
        async with self.world.db.session(self.world.acme) as s:
            await so.set_book(s, journal="SALES", receivable="1100", revenue="4000", cash="1000")
            await s.commit()

    def key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    # --- the ledger changes -------------------------------------------------------------

    @initialize()
    def two_orders(self):
        self.create()
        self.create()

    @precondition(lambda self: self.orders < 4)
    @rule()
    def create(self):
        self.orders += 1
        draft = so.OrderDraft("C1", "USD", (OrderLineDraft("X", Decimal(1), Decimal("100")),),
                              SourceRef("crm", "Opportunity", f"OPP-{self.orders}"))

        async def work():
            async with self.world.db.session(self.world.acme) as s:
                await so.create_order(s, draft, self.key(), notify=("crm",))
        self.run(work())

    @precondition(lambda self: self.orders > 0)
    @rule(n=st.integers(1, 4), amount=st.sampled_from(["30", "70", "100"]))
    def advance(self, n, amount):
        number = so.order_number(min(n, self.orders))

        async def work():
            async with self.world.db.session(self.world.acme) as s:
                state, due = (await s.execute(select(SalesOrder.state, SalesOrder.invoiced - SalesOrder.paid)
                                              .where(SalesOrder.number == number))).one()
            async with self.world.db.session(self.world.acme) as s:
                if state in STEPS:
                    args = (DAY,) if state == "FULFILLED" else ()
                    await STEPS[state](s, number, *args, self.key(), notify=("crm",))
                elif state == "INVOICED" and due > 0:
                    pay = min(Decimal(amount), Decimal(due).scaleb(-2))
                    await so.record_payment(s, number, pay, "USD", DAY, self.key(), notify=("crm",))
        self.run(work())

    # --- the receiver and the dispatchers -------------------------------------------------

    @rule(fault=st.sampled_from(["none", "fail_before", "fail_after", "slow"]))
    def receiver(self, fault):
        self.crm.faults = {"none": outbox_faults(), "fail_before": outbox_faults(fail_before=2),
                           "fail_after": outbox_faults(fail_after=1), "slow": outbox_faults(delay=0.3)}[fault]

    @rule()
    def dispatch(self):
        self.dispatchers += 1
        self.run(OutboxDispatcher(self.world.db, self.catalog, SCHEDULE, name=f"d{self.dispatchers}").run_once())

    @rule()
    def dispatch_overlapping_rounds(self):
        """Rounds in flight together, until one finds nothing (`OutboxDispatcher.rounds`)."""
        self.dispatchers += 1
        self.run(OutboxDispatcher(self.world.db, self.catalog, SCHEDULE, name=f"d{self.dispatchers}").rounds())

    @rule()
    def crash_mid_delivery(self):
        """A dispatcher claims, delivers (the receiver may apply), and dies before recording."""
        async def work():
            claimed = await outbox.claim(self.world.db.engine, "doomed", limit=3, lease=30.0)
            for message in claimed:
                with contextlib.suppress(SourceError):  # it dies whatever the answer was
                    await self.catalog.sources["crm"].deliver("/crm/ledger/sales-orders",
                                                             message.idempotency_key, message.payload)
        self.run(work())

    @rule()
    def leases_run_out(self):
        """Time passes: every lease has expired (the doomed dispatcher's messages go out again)."""
        async def work():
            async with self.world.db.engine.begin() as c:
                await c.execute(update(OutboxMessage).where(OutboxMessage.lease_owner.is_not(None))
                                .values(lease_expires_at="2000-01-01T00:00:00.000000Z"))
        self.run(work())

    @rule()
    def operator_retries_dead(self):
        async def work():
            async with self.world.db.engine.begin() as c:
                await outbox.retry_dead(c)
        self.run(work())

    # --- what must always hold --------------------------------------------------------------

    @invariant()
    def nothing_applied_twice_nothing_backwards_nothing_ahead(self):
        applied = self.crm.applied
        assert len(applied) == len(set(applied)), applied
        ledger = self.run(self._ledger_versions())
        for (_, number), record in self.crm.orders.items():
            assert record["version"] >= self.seen.get(number, 0), (number, record["version"])
            assert record["version"] <= ledger[number]
            self.seen[number] = record["version"]

    async def _ledger_versions(self) -> dict[str, int]:
        async with self.world.db.engine.connect() as c:
            return dict((await c.execute(select(SalesOrder.number, SalesOrder.version))).all())

    def teardown(self):
        try:
            self.crm.faults = outbox_faults()
            self.leases_run_out()
            self.operator_retries_dead()
            dispatcher = OutboxDispatcher(self.world.db, self.catalog, SCHEDULE, name="final")
            while self.run(dispatcher.run_once()):
                pass
            counts = self.run(outbox.backlog(self.world.db.engine))
            assert counts["PENDING"] == 0 and counts["DEAD"] == 0, counts
            ledger = self.run(self._ledger_versions())
            held = {number: record["version"] for (_, number), record in self.crm.orders.items()}
            assert held == ledger, (held, ledger)
            self.nothing_applied_twice_nothing_backwards_nothing_ahead()
        finally:
            self.run(self.catalog.aclose())
            self.run(self.database_cm.__aexit__(None, None, None))
            self.loop.close()


def outbox_faults(**kwargs) -> Faults:
    return Faults(**kwargs)


def test_the_outbox_loses_nothing_applies_nothing_twice_and_never_goes_back():
    run_state_machine_as_test(OutboxMachine, settings=settings(
        max_examples=25, stateful_step_count=40, derandomize=True, deadline=None,
        suppress_health_check=list(__import__("hypothesis").HealthCheck)))


