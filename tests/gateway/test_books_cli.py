"""`ledgergate entities|accounts|groups|dimensions|journals|periods|setup` refusals through
`gateway.cli.main`: each says what is wrong on stderr, exits 1 (2 for a usage error), and
writes nothing but its refusal's audit row."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.cli import main
from ledger.migrate import upgrade
from ledger.model import Account, AccountGroup, AuditEvent, DimensionValue, Entity, Journal, JournalEntry, Period
from ledger.store import LedgerDatabase
from ledger.tenancy import ALL_ENTITIES

TABLES = (Entity, Account, AccountGroup, DimensionValue, Journal, Period, JournalEntry)


@dataclass
class Books:
    db: LedgerDatabase
    config: Path
    folder: Path


@pytest.fixture
async def books(tmp_path, monkeypatch) -> AsyncIterator[Books]:
    monkeypatch.delenv("LEDGERGATE_DATABASE_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'books.db'}"
    db = LedgerDatabase.from_url(url)
    await upgrade(db.engine)
    config = tmp_path / "lg.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')
    try:
        yield Books(db, config, tmp_path)
    finally:
        await db.dispose()


@pytest.fixture
def cli(books, capsys):
    async def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = await asyncio.to_thread(main, [*argv, "--config", str(books.config)])
        except SystemExit as usage:  # argparse: a usage error
            code = usage.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


async def rows(db) -> tuple:
    async with db.session(None) as s:
        return tuple([
            await s.scalar(select(func.count()).select_from(t).execution_options(**ALL_ENTITIES))
            for t in TABLES
        ])


async def refusals(db) -> list[tuple[str, str]]:
    async with db.session(None) as s:
        events = await s.scalars(select(AuditEvent).where(AuditEvent.event == "admin", AuditEvent.outcome != "OK")
                                 .order_by(AuditEvent.id).execution_options(**ALL_ENTITIES))
        return [(e.detail["operation"], e.outcome) for e in events]


async def newco(cli) -> None:
    assert (await cli("entities", "create", "NEWCO", "--name", "New Co", "--currency", "EUR"))[0] == 0
    assert (await cli("journals", "add", "NEWCO", "GJ", "--name", "General journal"))[0] == 0
    assert (await cli("periods", "generate", "NEWCO", "2026"))[0] == 0
    assert (await cli("accounts", "add", "NEWCO", "1000", "--name", "Cash", "--type", "asset"))[0] == 0
    assert (await cli("accounts", "add", "NEWCO", "3000", "--name", "Capital", "--type", "EQUITY"))[0] == 0


async def test_the_commands_say_what_they_did(books, cli):
    await newco(cli)
    code, out, _ = await cli("accounts", "add", "NEWCO", "9000", "--name", "Headcount", "--type",
                             "statistical", "--unit", "people", "--aggregation", "stock")
    assert (code, out) == (0, "NEWCO: added account 9000 Headcount (STATISTICAL, debit-normal, stock of people)\n")
    code, out, _ = await cli("groups", "add", "NEWCO", "CA", "--name", "Current assets")
    assert (code, out) == (0, "NEWCO: added account group CA Current assets\n")
    code, out, _ = await cli("accounts", "move", "NEWCO", "1000", "--group", "CA")
    assert (code, out) == (0, "NEWCO: account 1000 is now in group CA\n")
    code, out, _ = await cli("accounts", "list", "NEWCO")
    assert out.splitlines()[0] == "1000\tCash\tASSET\tDEBIT\t\tCA\tactive"
    code, out, _ = await cli("dimensions", "add", "NEWCO", "department", "OPS", "--name", "Operations")
    assert (code, out) == (0, "NEWCO: added DEPARTMENT OPS Operations\n")
    code, out, _ = await cli("periods", "close", "NEWCO", "2026-01", "2026-02")
    assert out == "NEWCO: closed period 2026-01; it refuses postings\nNEWCO: closed period 2026-02; it refuses postings\n"
    code, out, _ = await cli("entities", "list")
    assert out == "NEWCO\tNew Co\tEUR\tfiscal year from month 1\t0 entries\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("entities", "create", "NEWCO", "--name", "Again", "--currency", "EUR"),
         "ledgergate: an entity with code 'NEWCO' already exists\n"),
        (("entities", "create", "X Y", "--name", "", "--currency", "EURO", "--fiscal-year-start", "13"),
         "ledgergate: code: must be 1 to 32 characters: letters, digits, '.', '_' or '-', starting with a "
         "letter or digit\nledgergate: name: must not be empty\nledgergate: baseCurrency: unknown currency "
         "'EURO'\nledgergate: fiscalYearStartMonth: must be a month, 1 to 12\n"),
        (("accounts", "add", "NOPE", "1", "--name", "x", "--type", "ASSET"),
         "ledgergate: no entity with code 'NOPE' (`ledgergate entities list` shows them)\n"),
        (("accounts", "add", "NEWCO", "1000", "--name", "Cash", "--type", "ASSET"),
         "ledgergate: account 1000 already exists\n"),
        (("journals", "add", "NEWCO", "GJ", "--name", "x"), "ledgergate: journal GJ already exists\n"),
        (("periods", "generate", "NEWCO", "2026"),
         "ledgergate: fiscal 2026 (2026-01-01 to 2026-12-31) overlaps period 2026-01, which exists\n"),
        (("periods", "reopen", "NEWCO", "2026-03", "--reason", "fix"), "ledgergate: period 2026-03 is not closed\n"),
        (("periods", "close-year", "NEWCO", "2026", "--retained-earnings", "3000"),
         "ledgergate: year: close every period of fiscal 2026 first; open: 2026-01, 2026-02, 2026-03, "
         "2026-04, 2026-05, 2026-06, 2026-07, 2026-08, 2026-09, 2026-10, 2026-11, 2026-12\n"),
    ],
)
async def test_refusals_write_nothing(books, cli, argv, message):
    await newco(cli)
    before = await rows(books.db)
    code, out, err = await cli(*argv)
    assert (code, out, err) == (1, "", message)
    assert await rows(books.db) == before


async def test_refusals_are_audited_and_closing_twice_is_refused(books, cli):
    await newco(cli)
    assert (await cli("periods", "close", "NEWCO", "2026-03"))[0] == 0
    before = await rows(books.db)
    assert await cli("periods", "close", "NEWCO", "2026-03") == (1, "", "ledgergate: period 2026-03 is already closed\n")
    code, _, err = await cli("periods", "reopen", "NEWCO", "2026-03", "--reason", "   ")
    assert (code, err) == (1, "ledgergate: reason: reopening a closed period needs a reason (it is audited)\n")
    code, _, err = await cli("periods", "reopen", "NEWCO", "2026-03")
    assert code == 2 and "the following arguments are required: --reason" in err
    assert await rows(books.db) == before
    assert await refusals(books.db) == [("closePeriod", "CONFLICT"), ("reopenPeriod", "BAD_USER_INPUT")]


async def test_a_bad_import_lists_every_row_and_writes_nothing(books, cli):
    await newco(cli)
    chart = books.folder / "chart.csv"
    chart.write_text("code,name,type\n1100,Receivables,ASSET\n1200,,ASSET\n1300,Stuff,GADGET\n")
    before = await rows(books.db)
    code, out, err = await cli("setup", "import", str(chart), "--entity", "NEWCO")
    assert (code, out) == (1, "")
    assert err == ("ledgergate: row 3: name: must not be empty\n"
                   "ledgergate: row 4: type: 'GADGET' is not one of ASSET, LIABILITY, EQUITY, REVENUE, "
                   "EXPENSE, STATISTICAL\n")
    assert await rows(books.db) == before
    opening = books.folder / "opening.csv"
    opening.write_text("account,debit,credit\n1000,100.00,\n3000,,90.00\n")
    code, _, err = await cli("setup", "import", str(opening), "--entity", "NEWCO", "--date", "2026-01-01",
                             "--journal", "GJ")
    assert code == 1 and "debits and credits differ by 10.00 EUR; an entry must balance" in err
    code, _, err = await cli("setup", "import", str(opening), "--entity", "NEWCO")
    assert (code, err) == (1, "ledgergate: date: an opening-balances import needs the entry's date and journal\n")
    code, _, err = await cli("setup", "import", str(books.folder / "none.csv"), "--entity", "NEWCO")
    assert code == 1 and "cannot read" in err
    assert await rows(books.db) == before


async def test_deactivating_an_account_with_a_balance(books, cli):
    await newco(cli)
    opening = books.folder / "opening.csv"
    opening.write_text("account,debit,credit\n1000,100.00,\n3000,,100.00\n")
    assert (await cli("setup", "import", str(opening), "--entity", "NEWCO", "--date", "2026-01-01",
                      "--journal", "GJ"))[0] == 0
    code, _, err = await cli("accounts", "deactivate", "NEWCO", "1000")
    assert (code, err) == (1, "ledgergate: code: account 1000 has a balance of 100.00 EUR (debit positive); "
                              "clear it first, or deactivate with force\n")
    code, out, _ = await cli("accounts", "deactivate", "NEWCO", "1000", "--force")
    assert (code, out) == (0, "NEWCO: account 1000 is inactive (it takes no new postings)\n")


async def test_rates_import_is_whole_and_idempotent(books, cli):
    await newco(cli)
    rates = books.folder / "rates.csv"
    rates.write_text("currency,date,rate\nUSD,2026-01-02,0.92\nGBP,2026-01-02,1.17\n\nUSD,2026-01-05,0.925\n")
    code, out, _ = await cli("rates", "import", "NEWCO", str(rates))
    assert (code, out) == (0, f"NEWCO: imported {rates}: 3 added, 0 unchanged, 0 replaced\n")
    code, out, _ = await cli("rates", "import", "NEWCO", str(rates))
    assert (code, out) == (0, f"NEWCO: imported {rates}: 0 added, 3 unchanged, 0 replaced\n")
    bad = books.folder / "bad.csv"
    bad.write_text("currency,date,rate\nUSD,2026-02-30,0.9\nEUR,2026-02-01,1\nUSD,2026-01-02,0.93\nXYZ,2026-02-01,1.5e2\n")
    code, out, err = await cli("rates", "import", "NEWCO", str(bad))
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0] == "ledgergate: row 2: date: '2026-02-30' is not a date (YYYY-MM-DD)"
    assert lines[1] == "ledgergate: row 3: EUR is the base currency: its rate is 1"
    assert lines[2] == "ledgergate: row 4: USD SPOT 2026-01-02 is 0.92 already; replace it only on purpose"
    assert lines[3] == "ledgergate: row 5: currency: unknown currency 'XYZ'"
    assert lines[4].startswith("ledgergate: row 5: rate: '1.5e2' is not a decimal number") and len(lines) == 5
    code, out, _ = await cli("rates", "list", "NEWCO")
    assert out.splitlines() == ["GBP\tSPOT\t2026-01-02\t1.17", "USD\tSPOT\t2026-01-02\t0.92", "USD\tSPOT\t2026-01-05\t0.925"]
