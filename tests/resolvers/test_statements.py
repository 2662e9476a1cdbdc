"""The balance sheet and the income statement (`ledger.statements`) through the HTTP app:
they balance in every column, the result equals retained earnings' change after the
close, comparisons and filters, statistics by aggregation, drill-down to lines."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import update

from ledger.drafts import EntryDraft, LineDraft
from ledger.model import Period
from ledger.posting import post_entries
from ledger.posting_plan import Posting

BALANCE_SHEET = """query($asOf: Date!, $compare: [Comparison!], $dims: [DimensionInput!]) {
  balanceSheet(asOf: $asOf, compare: $compare, dimensions: $dims) {
    title currency columns { label from to }
    rows { kind code name depth amounts account { code } }
    statistics { account { code aggregation } quantities } } }"""
INCOME = """query($from: Date!, $to: Date!, $compare: [Comparison!], $dims: [DimensionInput!]) {
  incomeStatement(from: $from, to: $to, compare: $compare, dimensions: $dims) {
    columns { label from to } rows { kind code name depth amounts } } }"""

MONEY = ["1000", "1100", "2000", "3000", "4000", "5000"]


async def random_entries(db, entity_id, year, count, seed):
    rng = random.Random(seed)
    postings = []
    for n in range(count):
        amount = Decimal(rng.randint(1, 99_999)) / 100
        debit, credit = rng.sample(MONEY, 2)
        dims = ((("DEPARTMENT", rng.choice(["SALES", "ENG"])),) if rng.random() < 0.6 else ())
        day = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
        postings.append(Posting(EntryDraft("GJ", day, (
            LineDraft(debit, debit=amount, dimensions=dims), LineDraft(credit, credit=amount, dimensions=dims),
        )), f"st-{year}-{seed}-{n}"))
    async with db.session(entity_id) as s:
        await post_entries(s, postings)


async def opened(db, entity_id):
    async with db.session(entity_id) as s:
        await s.execute(update(Period).values(closed=False))
        await s.commit()


def totals(statement) -> dict:
    return {r["code"]: [Decimal(a) for a in r["amounts"]] for r in statement["rows"] if r["kind"] in ("TOTAL", "RESULT")}


async def test_the_balance_sheet_balances_in_every_column(gql, world):
    await opened(world.db, world.acme)
    await random_entries(world.db, world.acme, 2025, 80, 1)
    await random_entries(world.db, world.acme, 2026, 80, 2)
    await gql('mutation { setRetainedEarningsAccount(code: "3000") { code } }')
    await gql("""mutation { a: createAccountGroup(input: {code: "CUR", name: "Current assets"}) { code }
                            b: updateAccount(code: "1000", group: "CUR") { code }
                            c: updateAccount(code: "1100", group: "CUR") { code } }""")
    for dims in (None, [{"kind": "DEPARTMENT", "code": "SALES"}]):
        result = await gql(BALANCE_SHEET, {"asOf": "2026-06-30", "compare": ["PRIOR_PERIOD", "PRIOR_YEAR"], "dims": dims})
        assert "errors" not in result, result
        sheet = result["data"]["balanceSheet"]
        assert [c["to"] for c in sheet["columns"]] == ["2026-06-30", "2026-05-31", "2025-06-30"]
        assert [c["from"] for c in sheet["columns"]] == ["2026-01-01", "2026-01-01", "2025-01-01"]
        t = totals(sheet)
        assert t["ASSET"] == t["LIABILITY_AND_EQUITY"], (dims, t)
        assert any(t["ASSET"]), t
    rows = [(r["kind"], r["code"], r["depth"]) for r in sheet["rows"]]
    # The hierarchy: the group with its accounts under Assets, the ungrouped after it.
    assert rows[:3] == [("SECTION", "ASSET", 0), ("GROUP", "CUR", 1), ("ACCOUNT", "1000", 2)]
    assert ("RESULT", None, 1) in rows


async def test_the_result_equals_the_change_in_retained_earnings_after_the_close(gql, world):
    await opened(world.db, world.acme)
    await random_entries(world.db, world.acme, 2025, 60, 3)
    await gql('mutation { setRetainedEarningsAccount(code: "3000") { code } }')
    income = (await gql(INCOME, {"from": "2025-01-01", "to": "2025-12-31"}))["data"]["incomeStatement"]
    [net] = totals(income)["NET_RESULT"]
    revenue, expenses = totals(income)["REVENUE"][0], totals(income)["EXPENSE"][0]
    assert net == revenue - expenses
    before = (await gql(BALANCE_SHEET, {"asOf": "2025-12-31"}))["data"]["balanceSheet"]
    [result_before] = [r for r in before["rows"] if r["kind"] == "RESULT"][0]["amounts"]
    assert Decimal(result_before) == net  # before the close: the year's result inside equity
    retained_before = await gql('{ account(code: "3000") { balance(to: "2025-12-31") } }')
    for month in range(1, 13):
        await gql(f'mutation {{ closePeriod(name: "2025-{month:02d}") {{ closed }} }}')
    assert "errors" not in await gql("mutation { closeFiscalYear(year: 2025) { fiscalYear } }")
    retained_after = await gql('{ account(code: "3000") { balance(to: "2025-12-31") } }')
    change = -(Decimal(retained_after["data"]["account"]["balance"]) - Decimal(retained_before["data"]["account"]["balance"]))
    assert change == net
    after = (await gql(BALANCE_SHEET, {"asOf": "2025-12-31"}))["data"]["balanceSheet"]
    t = totals(after)
    assert t["ASSET"] == t["LIABILITY_AND_EQUITY"]
    assert [r for r in after["rows"] if r["kind"] == "RESULT"][0]["amounts"] == ["0.00"]
    # The closed year's income statement still shows its result: the closing entry moves
    # the result, it is not revenue or expense of the year.
    closed_income = (await gql(INCOME, {"from": "2025-01-01", "to": "2025-12-31"}))["data"]["incomeStatement"]
    assert totals(closed_income)["NET_RESULT"] == [net]
    assert totals(closed_income)["REVENUE"] == [revenue]


async def test_income_statement_comparisons_and_filters(gql, world):
    await opened(world.db, world.acme)
    await random_entries(world.db, world.acme, 2025, 50, 5)
    await random_entries(world.db, world.acme, 2026, 50, 6)
    result = await gql(INCOME, {"from": "2026-04-01", "to": "2026-06-30", "compare": ["PRIOR_PERIOD", "PRIOR_YEAR"]})
    statement = result["data"]["incomeStatement"]
    assert [(c["from"], c["to"]) for c in statement["columns"]] == [
        ("2026-04-01", "2026-06-30"), ("2025-12-31", "2026-03-31"), ("2025-04-01", "2025-06-30")]
    # Each column is what a one-column statement of its dates says.
    for index, (date_from, date_to) in enumerate([("2026-04-01", "2026-06-30"), ("2025-12-31", "2026-03-31")]):
        alone = (await gql(INCOME, {"from": date_from, "to": date_to}))["data"]["incomeStatement"]
        assert totals(alone)["NET_RESULT"][0] == totals(statement)["NET_RESULT"][index]
    async with world.db.session(world.acme) as s:
        from sqlalchemy import select

        from ledger.model import Account, DimensionValue, JournalLine

        rows = (await s.execute(
            select(Account.type, JournalLine.debit, JournalLine.credit, DimensionValue.code)
            .join(Account, Account.id == JournalLine.account_id)
            .outerjoin(DimensionValue, DimensionValue.id == JournalLine.department_id)
            .where(JournalLine.date >= dt.date(2026, 1, 1), JournalLine.date <= dt.date(2026, 12, 31),
                   Account.type.in_(["REVENUE", "EXPENSE"]))
        )).all()
    for department in ("SALES", "ENG"):
        found = await gql(INCOME, {"from": "2026-01-01", "to": "2026-12-31",
                                   "dims": [{"kind": "DEPARTMENT", "code": department}]})
        expected = -sum(d - c for _, d, c, code in rows if code == department)
        assert totals(found["data"]["incomeStatement"])["NET_RESULT"][0] == Decimal(expected) / 100
    bad = await gql(INCOME, {"from": "2026-01-01", "to": "2026-12-31", "dims": [{"kind": "DEPARTMENT", "code": "NOPE"}]})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and "no DEPARTMENT 'NOPE'" in bad["errors"][0]["message"]
    backwards = await gql(INCOME, {"from": "2026-02-01", "to": "2026-01-01"})
    assert backwards["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    twice = await gql(INCOME, {"from": "2026-01-01", "to": "2026-01-31", "compare": ["PRIOR_YEAR", "PRIOR_YEAR"]})
    assert twice["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_statement_rows_drill_down_to_their_lines(gql, world):
    await opened(world.db, world.acme)
    await random_entries(world.db, world.acme, 2026, 30, 7)
    result = await gql("""{ balanceSheet(asOf: "2026-12-31") { rows { kind code amounts
        lines(first: 1000) { edges { node { debit credit date } } } } } }""")
    rows = [r for r in result["data"]["balanceSheet"]["rows"] if r["kind"] == "ACCOUNT"]
    assert rows
    normal = {"1000": 1, "1100": 1, "2000": -1, "3000": -1}
    for row in rows:
        net = sum(Decimal(e["node"]["debit"]) - Decimal(e["node"]["credit"]) for e in row["lines"]["edges"])
        assert net * normal[row["code"]] == Decimal(row["amounts"][0]), row["code"]
    others = [r for r in result["data"]["balanceSheet"]["rows"] if r["kind"] != "ACCOUNT"]
    assert all(r["lines"] is None for r in others)
    bad = await gql('{ balanceSheet(asOf: "2026-12-31") { rows { lines(column: 3) { edges { cursor } } } } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_statistics_beside_the_statements_need_their_scope(gql, world, http):
    from tests.callers import fetch_token, provision_tester

    await opened(world.db, world.acme)
    async with world.db.session(world.acme) as s:
        await post_entries(s, [Posting(EntryDraft("GJ", dt.date(2026, 2, 1), (
            LineDraft("9100", quantity=Decimal("2.5")),)), "gb"),
            Posting(EntryDraft("GJ", dt.date(2026, 3, 1), (LineDraft("9100", quantity=Decimal("1")),)), "gb2")])
    sheet = (await gql(BALANCE_SHEET, {"asOf": "2026-03-31"}))["data"]["balanceSheet"]
    assert sheet["statistics"] == [{"account": {"code": "9100", "aggregation": "FLOW"}, "quantities": ["3.500"]}]
    party = await provision_tester(world.db)
    token = await fetch_token(http, party, "ACME", scope="ledger:read")
    response = await http.post("/graphql", headers={"Authorization": f"Bearer {token}"},
                               json={"query": BALANCE_SHEET, "variables": {"asOf": "2026-03-31"}})
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "statistical:read" in body["errors"][0]["message"]
