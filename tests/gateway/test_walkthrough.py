"""The README's walkthrough (examples/newco/walkthrough.sh) as a newcomer runs it: an empty
database to a company posting and reporting, through subprocess CLI calls and a real
`ledgergate serve` answering GraphQL over HTTP. Runs on the suite's database (SQLite or
PostgreSQL)."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from ledger.model import AuditEvent, Entity, JournalEntry, Period
from ledger.tenancy import ALL_ENTITIES

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "newco"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_walkthrough_sets_up_posts_reports_and_closes(db, tmp_path):
    env = {
        **os.environ,
        "LEDGERGATE": f"{shlex.quote(sys.executable)} -m gateway.cli",
        "PORT": str(free_port()),
        "WORK": str(tmp_path),
        "LEDGERGATE_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("LEDGERGATE_SECRETS_KEY", None)
    done = subprocess.run(["bash", "walkthrough.sh"], cwd=EXAMPLE, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "created entity NEWCO (New Co Ltd), base currency EUR" in out
    assert "NEWCO: imported chart.csv (chart): 11 created, 0 unchanged" in out
    assert "NEWCO: posted the opening balances of opening.csv (6 lines) as JE-0000001" in out
    assert "opening.csv was imported before as JE-0000001; nothing new posted" in out
    responses = [json.loads(line) for line in out.splitlines() if line.startswith('{"data"')]
    assert [r.get("errors") for r in responses] == [None, None, None, None, None]
    assert responses[0]["data"]["postJournalEntry"]["entry"]["number"] == "JE-0000002"
    # The USD bill at the 15 January rate: 500.00 × 0.921 = 460.50 EUR.
    bill = responses[2]["data"]["postJournalEntry"]["entry"]["lines"][0]
    assert bill == {"debit": "460.50", "credit": "0.00",
                    "transaction": {"currency": "USD", "debit": "500.00", "credit": "0.00", "rate": "0.921"}}
    assert "NEWCO: imported rates.csv: 2 added, 0 unchanged, 0 replaced" in out
    balance = responses[3]["data"]["trialBalance"]
    assert balance["totalDebit"] == balance["totalCredit"] == "66660.50"
    rows = {r["account"]["code"]: r for r in balance["rows"]}
    assert rows["1100"]["debit"] == "9200.00" and rows["4000"]["credit"] == "1200.00"
    assert rows["9000"]["quantity"] == "4"  # headcount: a level per department, summed
    accruals = responses[4]["data"]["postJournalEntries"]["entries"]
    assert accruals == [{"number": "JE-0000005", "description": "Accrued office rent"},
                        {"number": "JE-0000006", "description": "Accrued storage rent"}]
    assert "2026-01\t2026-01-01\t2026-01-31\tfiscal 2026\tclosed" in out
    async with db.session(None) as s:
        [newco] = list(await s.scalars(select(Entity).execution_options(**ALL_ENTITIES)))
    async with db.session(newco.id) as s:
        assert (await s.scalar(select(Period.closed).where(Period.name == "2026-01"))) is True
        assert await s.scalar(select(func.count()).select_from(JournalEntry)) == 6
        operations = [e.detail["operation"] for e in await s.scalars(
            select(AuditEvent).where(AuditEvent.event == "admin").order_by(AuditEvent.id))]
    # Every change, in order; the second opening import changed nothing and wrote nothing.
    assert operations == [
        "createEntity", "importGroups", "importChart", "importDimensions", "createJournal",
        "createJournal", "generateFiscalYear", "setRetainedEarnings", "importOpeningBalances",
        "setExchangeRates", "closePeriod",
    ]
