"""The trial balance an accountant expects: balances brought forward for balance-sheet
accounts, the fiscal year's activity for revenue and expense, statistical accounts by their
aggregation. Checked against an independent computation from the raw lines, across two
fiscal years with a year-end close between them."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select, update

from ledger.drafts import EntryDraft, LineDraft
from ledger.model import Account, AccountType, Aggregation, Entity, JournalLine, Period
from ledger.posting import post_entries
from ledger.posting_plan import Posting
from ledger.reference import AccountSpec, add_accounts

TB = """query($from: Date!, $to: Date!, $groupBy: [DimensionKind!]) {
  trialBalance(from: $from, to: $to, groupBy: $groupBy) {
    totalDebit totalCredit totalOpening totalClosing
    rows { account { code type } dimensions { kind code } opening debit credit net closing
           quantity openingQuantity closingQuantity } } }"""

MONEY = ["1000", "1100", "2000", "3000", "4000", "5000"]
DIMS = [("DEPARTMENT", "SALES"), ("DEPARTMENT", "ENG"), ("LOCATION", "NYC")]


async def open_everything(db, entity_id):
    async with db.session(entity_id) as s:
        await s.execute(update(Period).values(closed=False))
        await s.commit()


async def random_year(db, entity_id, year: int, count: int, seed: int) -> None:
    rng = random.Random(seed)
    postings = []
    for n in range(count):
        amounts = [Decimal(rng.randint(1, 99_999)) / 100 for _ in range(rng.randint(1, 3))]
        day = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))

        def dims():
            choice = rng.choice(DIMS + [None])
            return (choice,) if choice else ()

        lines = [LineDraft(rng.choice(MONEY), debit=a, dimensions=dims()) for a in amounts]
        lines.append(LineDraft(rng.choice(MONEY), credit=sum(amounts), dimensions=dims()))
        postings.append(Posting(EntryDraft("GJ", day, tuple(lines)), f"y{year}-{seed}-{n}"))
    async with db.session(entity_id) as s:
        await post_entries(s, postings)


async def raw_lines(db, entity_id) -> list[tuple]:
    async with db.session(entity_id) as s:
        return list((await s.execute(
            select(Account.code, Account.type, JournalLine.date, JournalLine.debit, JournalLine.credit,
                   JournalLine.department_id)
            .join(Account, Account.id == JournalLine.account_id)
        )).all())


def expected(lines, date_from, date_to, fiscal_start, retained: str | None) -> dict:
    """code → (opening, debit, credit) in cents, computed here from the raw lines."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for code, kind, day, debit, credit, _ in lines:
        if day > date_to or kind == "STATISTICAL":
            continue
        row = found[code]
        if day >= date_from:
            row[1] += debit
            row[2] += credit
        elif kind in ("ASSET", "LIABILITY", "EQUITY") or retained is None or day >= fiscal_start:
            row[0] += debit - credit
        else:  # an earlier year's revenue or expense: retained earnings'
            found[retained][0] += debit - credit
    return {code: tuple(v) for code, v in found.items() if any(v)}


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


def as_found(data) -> dict:
    return {r["account"]["code"]: (cents(r["opening"]), cents(r["debit"]), cents(r["credit"]))
            for r in data["rows"] if r["account"]["type"] != "STATISTICAL"}


def check_closings(data) -> None:
    money = [r for r in data["rows"] if r["account"]["type"] != "STATISTICAL"]
    for r in money:
        assert cents(r["closing"]) == cents(r["opening"]) + cents(r["debit"]) - cents(r["credit"]), r
    assert sum(cents(r["closing"]) for r in money) == 0
    assert data["totalClosing"] == data["totalOpening"] == "0.00"


async def test_balances_carried_forward_across_a_year_end_close(gql, world):
    await open_everything(world.db, world.acme)
    await random_year(world.db, world.acme, 2025, 60, seed=11)
    await random_year(world.db, world.acme, 2026, 60, seed=12)

    # Before any close, with no retained-earnings account: 2025's result stays in 4000/5000.
    lines = await raw_lines(world.db, world.acme)
    for date_from, date_to in ((dt.date(2026, 3, 1), dt.date(2026, 5, 31)),
                               (dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
                               (dt.date(2025, 7, 1), dt.date(2026, 2, 28))):
        result = await gql(TB, {"from": date_from.isoformat(), "to": date_to.isoformat()})
        data = result["data"]["trialBalance"]
        fiscal_start = dt.date(date_from.year, 1, 1)
        assert as_found(data) == expected(lines, date_from, date_to, fiscal_start, None)
        check_closings(data)

    # With retained earnings named, 2025's unclosed result is in its opening for 2026.
    await gql('mutation { setRetainedEarningsAccount(code: "3000") { code } }')
    result = await gql(TB, {"from": "2026-04-01", "to": "2026-06-30"})
    data = result["data"]["trialBalance"]
    assert as_found(data) == expected(lines, dt.date(2026, 4, 1), dt.date(2026, 6, 30), dt.date(2026, 1, 1), "3000")
    check_closings(data)

    # Close 2025: its closing entry moves the same result; the 2026 figures do not change.
    for month in range(1, 13):
        await gql(f'mutation {{ closePeriod(name: "2025-{month:02d}") {{ closed }} }}')
    closed = await gql("mutation { closeFiscalYear(year: 2025) { entry { number } } }")
    assert "errors" not in closed, closed
    after = (await gql(TB, {"from": "2026-04-01", "to": "2026-06-30"}))["data"]["trialBalance"]
    assert as_found(after) == as_found(data)
    lines = await raw_lines(world.db, world.acme)
    # Independently: the closing entry is on the raw lines now, so no correction is needed.
    assert as_found(after) == expected(lines, dt.date(2026, 4, 1), dt.date(2026, 6, 30), dt.date(2026, 1, 1), None)
    check_closings(after)
    # 2025 itself, to its last day: revenue and expense close to zero, all in retained earnings.
    year = (await gql(TB, {"from": "2025-01-01", "to": "2025-12-31"}))["data"]["trialBalance"]
    closings = {r["account"]["code"]: r["closing"] for r in year["rows"]}
    assert closings.get("4000", "0.00") == "0.00" and closings.get("5000", "0.00") == "0.00"
    check_closings(year)


async def test_grouped_rows_carry_their_dimension_forward(gql, world):
    await open_everything(world.db, world.acme)
    await random_year(world.db, world.acme, 2025, 40, seed=21)
    await random_year(world.db, world.acme, 2026, 40, seed=22)
    lines = await raw_lines(world.db, world.acme)
    async with world.db.session(world.acme) as s:
        from ledger.model import DimensionValue

        codes = dict((await s.execute(select(DimensionValue.id, DimensionValue.code))).all())
    result = await gql(TB, {"from": "2026-02-01", "to": "2026-02-28", "groupBy": ["DEPARTMENT"]})
    data = result["data"]["trialBalance"]
    want: dict = defaultdict(lambda: [0, 0, 0])
    for code, _kind, day, debit, credit, dept in lines:
        if day > dt.date(2026, 2, 28):
            continue
        key = (code, codes.get(dept))
        if day >= dt.date(2026, 2, 1):
            want[key][1] += debit
            want[key][2] += credit
        else:  # no retained-earnings account set: every earlier line is brought forward
            want[key][0] += debit - credit
    got = {(r["account"]["code"], (r["dimensions"] or [{"code": None}])[0]["code"]):
           (cents(r["opening"]), cents(r["debit"]), cents(r["credit"])) for r in data["rows"]}
    assert got == {k: tuple(v) for k, v in want.items() if any(v)}
    check_closings(data)


async def test_a_fiscal_year_starting_in_july(gql, world):
    await open_everything(world.db, world.acme)
    async with world.db.session(world.acme) as s:
        retained = await s.scalar(select(Account.id).where(Account.code == "3000"))
        await s.execute(update(Entity).where(Entity.id == world.acme).values(
            fiscal_year_start_month=7, retained_earnings_account_id=retained))
        await s.commit()
    await random_year(world.db, world.acme, 2025, 50, seed=31)
    await random_year(world.db, world.acme, 2026, 50, seed=32)
    lines = await raw_lines(world.db, world.acme)
    # March 2026 is in fiscal 2026, which began on 2025-07-01.
    data = (await gql(TB, {"from": "2026-03-01", "to": "2026-03-31"}))["data"]["trialBalance"]
    assert as_found(data) == expected(lines, dt.date(2026, 3, 1), dt.date(2026, 3, 31), dt.date(2025, 7, 1), "3000")
    check_closings(data)
    # September 2025 is in fiscal 2026 too: its opening for revenue holds July and August only.
    data = (await gql(TB, {"from": "2025-09-01", "to": "2025-09-30"}))["data"]["trialBalance"]
    assert as_found(data) == expected(lines, dt.date(2025, 9, 1), dt.date(2025, 9, 30), dt.date(2025, 7, 1), "3000")


async def post_levels(db, entity_id, entries) -> None:
    postings = [
        Posting(EntryDraft("GJ", day, tuple(
            LineDraft(account, quantity=Decimal(q), dimensions=dims) for account, q, dims in levels
        )), f"lv-{n}")
        for n, (day, levels) in enumerate(entries)
    ]
    async with db.session(entity_id) as s:
        await post_entries(s, postings)


async def test_headcount_is_a_level_and_storage_a_flow(gql, world):
    async with world.db.session(world.acme) as s:
        await add_accounts(s, [AccountSpec("9500", "Seats", AccountType.STATISTICAL, unit="seats",
                                           aggregation=Aggregation.STOCK)])
        await s.commit()
    sales, eng = (("DEPARTMENT", "SALES"),), (("DEPARTMENT", "ENG"),)
    await post_levels(world.db, world.acme, [
        (dt.date(2026, 1, 5), [("9500", "3", sales), ("9500", "2", eng)]),
        (dt.date(2026, 2, 10), [("9500", "4", sales)]),           # Sales hires one
        (dt.date(2026, 3, 15), [("9500", "0", eng)]),             # Engineering leaves
        (dt.date(2026, 1, 31), [("9100", "10.5", ()), ("9100", "2.25", sales)]),
        (dt.date(2026, 2, 28), [("9100", "7", ())]),
    ])
    by_account = {}
    for date_from, date_to in (("2026-01-01", "2026-01-31"), ("2026-02-01", "2026-02-28"),
                               ("2026-01-01", "2026-12-31"), ("2026-03-01", "2026-03-31")):
        data = (await gql(TB, {"from": date_from, "to": date_to}))["data"]["trialBalance"]
        by_account[(date_from, date_to)] = {
            r["account"]["code"]: (r["openingQuantity"], r["quantity"], r["closingQuantity"])
            for r in data["rows"] if r["account"]["type"] == "STATISTICAL"}
    assert by_account[("2026-01-01", "2026-01-31")] == {"9100": ("0.000", "12.750", "12.750"), "9500": ("0", "5", "5")}
    assert by_account[("2026-02-01", "2026-02-28")] == {"9100": ("12.750", "7.000", "19.750"), "9500": ("5", "6", "6")}
    assert by_account[("2026-01-01", "2026-12-31")] == {"9100": ("0.000", "19.750", "19.750"), "9500": ("0", "4", "4")}
    # No flow line in March: the fiscal year's flow is brought forward, the level stands.
    assert by_account[("2026-03-01", "2026-03-31")] == {"9100": ("19.750", "0.000", "19.750"), "9500": ("6", "4", "4")}
    grouped = (await gql(TB, {"from": "2026-01-01", "to": "2026-12-31", "groupBy": ["DEPARTMENT"]}))["data"]
    levels = {(r["dimensions"] or [{"code": None}])[0]["code"]: r["quantity"]
              for r in grouped["trialBalance"]["rows"] if r["account"]["code"] == "9500"}
    assert levels == {"SALES": "4", "ENG": "0"}
    # A reversed level no longer counts: Sales is back at 3.
    numbers = (await gql('{ account(code: "9500") { lines(first: 10) { edges { node { entry { number date } quantity } } } } }'))
    february = [e["node"]["entry"]["number"] for e in numbers["data"]["account"]["lines"]["edges"]
                if e["node"]["entry"]["date"] == "2026-02-10"][0]
    reversed_ = await gql(f'mutation {{ reverseJournalEntry(number: "{february}", date: "2026-04-01", idempotencyKey: "rv") {{ entry {{ number }} }} }}')
    assert "errors" not in reversed_, reversed_
    data = (await gql(TB, {"from": "2026-01-01", "to": "2026-12-31"}))["data"]["trialBalance"]
    assert [r["quantity"] for r in data["rows"] if r["account"]["code"] == "9500"] == ["3"]
    # A negative level is refused, a zero level taken.
    refused = await gql("mutation($i: JournalEntryInput!) { postJournalEntry(input: $i, idempotencyKey: \"neg\") { entry { number } } }",
                        {"i": {"journal": "GJ", "date": "2026-05-01", "lines": [{"account": "9500", "quantity": "-1"}]}})
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "records a level" in refused["errors"][0]["message"]
