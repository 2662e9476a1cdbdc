"""Setup imports (`ledger.setup_import`): validated whole, every bad row listed with its row
number, nothing written on any error, idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from ledger import setup_import
from ledger.errors import Rejected
from ledger.model import (
    Account,
    AccountGroup,
    AuditEvent,
    DimensionValue,
    JournalEntry,
    JournalLine,
)
from ledger.reference import add_journals, add_monthly_periods, create_entity

TABLES = (Account, AccountGroup, DimensionValue, JournalEntry, JournalLine, AuditEvent)

GROUPS = """code,name,parent,position
BS,Balance sheet,,1
CA,Current assets,BS,1
EQ,Equity,BS,3
"""
CHART = """code,name,type,normal_balance,unit,quantity_scale,aggregation,group
1000,Cash,asset,,,,,CA
1100,Receivables,ASSET,,,,,CA
2000,Payables,LIABILITY,,,,,
3000,Share capital,EQUITY,,,,,EQ
3900,Retained earnings,EQUITY,,,,,EQ
4000,Sales,REVENUE,,,,,
5000,Wages,EXPENSE,,,,,
9000,Headcount,STATISTICAL,,people,0,stock,
"""
DIMENSIONS = """kind,code,name
department,SALES,Sales
DEPARTMENT,ENG,Engineering
location,HQ,Head office
"""
OPENING = """account,debit,credit,memo,department
1000,1500.00,,bank statement 31 Dec,
1100,250.50,,,SALES
2000,,300.50,,
3000,,1450.00,,
"""


async def recorder_rows(session, operation, detail):
    from ledger import audit

    await audit.append(session, [audit.Event(audit.ADMIN, audit.OK, "test", {"operation": operation, **detail},
                                             entity_id=session.info["entity_id"])])


@pytest.fixture
async def newco(db) -> int:
    async with db.session(None) as s:
        entity_id = await create_entity(s, "NEWCO", "New Co", "EUR")
        await s.commit()
    async with db.session(entity_id) as s:
        await add_journals(s, [("GJ", "General journal")])
        await add_monthly_periods(s, 2025)
        await s.commit()
    return entity_id


async def state(db, entity_id) -> tuple:
    async with db.session(entity_id) as s:
        return tuple([await s.scalar(select(func.count()).select_from(t)) for t in TABLES])


async def run(db, entity_id, kind, text, **options):
    async with db.session(entity_id) as s:
        result = await setup_import.import_file(s, kind, text, recorder_rows, **options)
        await s.commit()
        return result


async def refused(db, entity_id, kind, text, **options) -> list[str]:
    before = await state(db, entity_id)
    with pytest.raises(Rejected) as caught:
        await run(db, entity_id, kind, text, **options)
    assert await state(db, entity_id) == before
    return [str(v) for v in caught.value.violations]


async def test_a_whole_setup_imports_and_imports_again_as_a_no_op(db, newco):
    assert (await run(db, newco, "groups", GROUPS)).created == 3
    chart = await run(db, newco, "chart", CHART)
    assert (chart.created, chart.unchanged) == (8, 0)
    assert (await run(db, newco, "dimensions", DIMENSIONS)).created == 3
    opening = await run(db, newco, "opening", OPENING, date=dt.date(2025, 1, 1), journal="GJ")
    assert opening.entry == "JE-0000001" and not opening.replayed
    async with db.session(newco) as s:
        accounts = {a.code: a for a in await s.scalars(select(Account))}
        assert accounts["1000"].type == "ASSET" and accounts["2000"].normal_balance == "CREDIT"
        assert accounts["9000"].aggregation == "STOCK" and accounts["9000"].unit == "people"
        lines = list(await s.scalars(select(JournalLine).order_by(JournalLine.line_no)))
        assert [(l.debit, l.credit) for l in lines] == [(150000, 0), (25050, 0), (0, 30050), (0, 145000)]
        assert lines[1].department_id is not None
    before = await state(db, newco)
    again = [await run(db, newco, kind, text) for kind, text in
             (("groups", GROUPS), ("chart", CHART), ("dimensions", DIMENSIONS))]
    assert [(r.created, r.unchanged) for r in again] == [(0, 3), (0, 8), (0, 3)]
    replay = await run(db, newco, "opening", OPENING, date=dt.date(2025, 1, 1), journal="GJ")
    assert (replay.entry, replay.replayed, replay.created) == ("JE-0000001", True, 0)
    after = await state(db, newco)
    # Nothing new but the three no-op imports' audit rows.
    assert after[:5] == before[:5] and after[5] == before[5] + 3


async def test_every_bad_chart_row_is_listed_and_nothing_is_written(db, newco):
    await run(db, newco, "groups", GROUPS)
    bad = """code,name,type,unit,group
1000,Cash,ASSET,,CA
bad code,Oops,ASSET,,
1200,,ASSET,,
1300,Thing,GADGET,,
9000,Heads,STATISTICAL,,
1000,Cash again,ASSET,,
1400,Stuff,ASSET,,NOPE
"""
    violations = await refused(db, newco, "chart", bad)
    assert violations == [
        "row 3: code: must be 1 to 32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit",
        "row 4: name: must not be empty",
        "row 5: type: 'GADGET' is not one of ASSET, LIABILITY, EQUITY, REVENUE, EXPENSE, STATISTICAL",
        "row 6: unit: a statistical account needs a unit (people, GB, rooms)",
        "row 7: code: account 1000 is given twice",
        "row 8: group: no account group 'NOPE'",
    ]
    await run(db, newco, "chart", CHART)
    changed = CHART.replace("1000,Cash,asset", "1000,Cash at bank,asset")
    assert await refused(db, newco, "chart", changed) == [
        "row 2: code: account 1000 exists as 'Cash' (ASSET); the row differs"
    ]


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("chart", "", ["row 1: the file is empty; it needs a header row"]),
        ("chart", "code,name\n", ["row 1: missing column 'type'"]),
        ("chart", "code,name,type,colour\n1,a,ASSET,red\n",
         ["row 1: unknown column(s) 'colour'; a chart file has code, name, type, normal_balance, unit, "
          "quantity_scale, aggregation, group"]),
        ("chart", "code,name,type\n", ["row 2: the file has a header and no rows"]),
        ("chart", "code,name,type\n1,a\n", ["row 2: has 2 fields; the header has 3"]),
        ("dimensions", "kind,code,name\nCOLOUR,RED,Red\nDEPARTMENT,,Nameless code\n",
         ["row 2: kind: 'COLOUR' is not one of DEPARTMENT, LOCATION, PROJECT, CUSTOMER, VENDOR, EMPLOYEE, ITEM, CLASS",
          "row 3: code: must be 1 to 64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"]),
        ("groups", "code,name,parent\nA,Assets,ZZ\n",
         ["row 2: parent: no account group 'ZZ' (above this row or already there)"]),
    ],
)
async def test_malformed_files(db, newco, kind, text, expected):
    assert await refused(db, newco, kind, text) == expected


async def test_bad_opening_balances(db, newco):
    await run(db, newco, "groups", GROUPS)
    await run(db, newco, "chart", CHART)
    await run(db, newco, "dimensions", DIMENSIONS)
    day = {"date": dt.date(2025, 1, 1), "journal": "GJ"}
    unbalanced = OPENING.replace("1450.00", "1400.00")
    [message] = await refused(db, newco, "opening", unbalanced, **day)
    assert "debits and credits differ by 50.00 EUR; an entry must balance" in message, message
    bad_rows = """account,debit,credit,department
1000,1.5e3,,
7777,10.00,,
1100,1.00,1.00,
1000,,12.00,NOWHERE
"""
    violations = await refused(db, newco, "opening", bad_rows, **day)
    assert violations[0].startswith("row 2: debit: '1.5e3' is not a decimal number")
    assert len(violations) == 1  # the grammar is checked before anything else
    fixed = bad_rows.replace("1.5e3", "1500.00")
    violations = await refused(db, newco, "opening", fixed, **day)
    assert any(v.startswith("row 3:") and "7777" in v for v in violations), violations
    assert any(v.startswith("row 4:") for v in violations), violations
    assert any(v.startswith("row 5:") and "NOWHERE" in v for v in violations), violations
    closed_day = await refused(db, newco, "opening", OPENING, date=dt.date(2030, 1, 1), journal="GJ")
    assert any("no fiscal period covers 2030-01-01" in v for v in closed_day), closed_day
