"""Trial balances equal an independent sum of the raw rows, and drill down exactly."""

from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import text

from tests.support import post_random_entries

ACME_DIMS = [("DEPARTMENT", "SALES"), ("DEPARTMENT", "ENG"), ("LOCATION", "NYC"), ("CUSTOMER", "C1")]

TB = """
query TB($from: Date!, $to: Date!, $groupBy: [DimensionKind!], $type: AccountType) {
  trialBalance(from: $from, to: $to, groupBy: $groupBy, accountType: $type) {
    from to totalDebit totalCredit
    rows { account { code } dimensions { kind code } debit credit net quantity currency }
  }
}
"""


@pytest.fixture
async def populated(world):
    await post_random_entries(world.db, world.acme, 300, 1, ["1000", "1100", "2000", "4000", "5000"], ACME_DIMS)
    await post_random_entries(world.db, world.beta, 120, 2, ["1000", "4000", "7777"], [("PROJECT", "BONLY")])
    return world


async def raw_sums(db, entity_id, kinds, date_from, date_to):
    """The expected trial balance, summed in Python from the raw line rows."""
    columns = {"DEPARTMENT": "department_id", "LOCATION": "location_id", "CUSTOMER": "customer_id", "PROJECT": "project_id"}
    async with db.engine.connect() as conn:
        codes = dict((await conn.execute(text("SELECT id, code FROM dimension_values"))).all())
        accounts = dict((await conn.execute(text("SELECT id, code FROM accounts"))).all())
        rows = (await conn.execute(text(
            "SELECT account_id, debit, credit, department_id, location_id, customer_id, project_id, date "
            "FROM journal_lines WHERE entity_id = :e"), {"e": entity_id})).mappings().all()
    sums = defaultdict(lambda: [0, 0])
    for row in rows:
        day = row["date"] if not isinstance(row["date"], str) else __import__("datetime").date.fromisoformat(row["date"])
        if not (date_from <= day.isoformat() <= date_to):
            continue
        key = (accounts[row["account_id"]], tuple((k, codes.get(row[columns[k]])) for k in kinds))
        sums[key][0] += row["debit"]
        sums[key][1] += row["credit"]
    return {k: (Decimal(d) / 100, Decimal(c) / 100) for k, (d, c) in sums.items()}


def as_sums(tb):
    result = {}
    for row in tb["rows"]:
        dims = {d["kind"]: d["code"] for d in row["dimensions"]}
        result[(row["account"]["code"], tuple(sorted(dims.items())))] = (Decimal(row["debit"]), Decimal(row["credit"]))
    return result


GROUPINGS = [[], ["DEPARTMENT"], ["DEPARTMENT", "LOCATION"], ["CUSTOMER", "DEPARTMENT", "LOCATION"], ["PROJECT"]]
PERIODS = [("2026-01-01", "2026-12-31"), ("2026-03-01", "2026-05-31")]


async def test_trial_balance_equals_the_raw_rows_for_every_grouping_and_entity(gql, populated):
    for entity, entity_id in (("ACME", populated.acme), ("BETA", populated.beta)):
        for group_by in GROUPINGS:
            for period in PERIODS:
                variables = {"from": period[0], "to": period[1], "groupBy": group_by}
                result = await gql(TB, variables, entity=entity)
                assert "errors" not in result, result
                tb = result["data"]["trialBalance"]
                raw = await raw_sums(populated.db, entity_id, group_by, *period)
                expected = {
                    (acct, tuple(sorted((k, v) for k, v in dims if v is not None))): sums
                    for (acct, dims), sums in raw.items()
                }
                assert expected and as_sums(tb) == expected, (entity, group_by, period)
                assert tb["totalDebit"] == tb["totalCredit"]
                assert Decimal(tb["totalDebit"]) == sum(d for d, _ in expected.values())
                for row in tb["rows"]:
                    assert Decimal(row["net"]) == Decimal(row["debit"]) - Decimal(row["credit"])


DRILL = """
query Drill($groupBy: [DimensionKind!], $first: Int) {
  trialBalance(from: "2026-01-01", to: "2026-12-31", groupBy: $groupBy) {
    rows { debit credit account { code } dimensions { kind code }
      lines(first: $first) { edges { node { debit credit account { code } dimensions { kind code } } }
                             pageInfo { hasNextPage } } }
  }
}
"""


@pytest.mark.parametrize("group_by", [[], ["DEPARTMENT", "LOCATION"]])
async def test_drill_down_lines_add_up_to_their_row(gql, populated, group_by):
    # Pages of 1000 hold every row's lines (hasNextPage says so below) and keep the
    # query's estimated cost (rows × page × fields) within the default limit.
    result = await gql(DRILL, {"groupBy": group_by, "first": 1000})
    rows = result["data"]["trialBalance"]["rows"]
    assert rows
    for row in rows:
        lines = [e["node"] for e in row["lines"]["edges"]]
        assert row["lines"]["pageInfo"]["hasNextPage"] is False
        assert sum(Decimal(l["debit"]) for l in lines) == Decimal(row["debit"])
        assert sum(Decimal(l["credit"]) for l in lines) == Decimal(row["credit"])
        for line in lines:
            assert line["account"] == row["account"]
            grouped = {d["kind"]: d["code"] for d in line["dimensions"] if d["kind"] in group_by}
            assert grouped == {d["kind"]: d["code"] for d in row["dimensions"]}


async def test_statistical_balances_sit_beside_money(gql, world):
    from tests.support import POST
    for n, (account, qty) in enumerate([("9000", "12"), ("9000", "3"), ("9100", "0.25")]):
        entry = {"journal": "GJ", "date": "2026-02-01", "lines": [{"account": account, "quantity": qty}]}
        assert "errors" not in await gql(POST, {"input": entry, "key": f"s{n}"})
    result = await gql(TB, {"from": "2026-01-01", "to": "2026-12-31", "type": "STATISTICAL"})
    rows = result["data"]["trialBalance"]["rows"]
    assert [(r["account"]["code"], r["quantity"], r["debit"]) for r in rows] == [
        ("9000", "15", "0.00"), ("9100", "0.250", "0.00")]
    balance = await gql('{ account(code: "9000") { balance unit type } }')
    assert balance["data"]["account"] == {"balance": "15", "unit": "people", "type": "STATISTICAL"}


async def test_ten_thousand_odd_cent_postings_lose_no_cent(gql, world):
    import datetime as dt

    from ledger.drafts import EntryDraft, LineDraft
    from ledger.posting import post_entries
    from ledger.posting_plan import Posting

    postings, expected = [], 0
    for n in range(10_000):
        cents = 1 + (n * 7919) % 99_999  # odd cents everywhere: x.01, x.37, …
        expected += cents
        amount = Decimal(cents) / 100
        postings.append(Posting(EntryDraft("GJ", dt.date(2026, 1 + n % 12, 1 + n % 28), (
            LineDraft("1000", debit=amount), LineDraft("4000", credit=amount)))))
    async with world.db.session(world.acme) as session:
        await post_entries(session, postings)
    result = await gql('{ trialBalance(from: "2026-01-01", to: "2026-12-31") { totalDebit rows { account { code } net } } }')
    tb = result["data"]["trialBalance"]
    assert Decimal(tb["totalDebit"]) == Decimal(expected) / 100
    assert {r["account"]["code"]: Decimal(r["net"]) for r in tb["rows"]} == {
        "1000": Decimal(expected) / 100, "4000": -Decimal(expected) / 100}
    cash = await gql('{ account(code: "1000") { balance } }')
    assert Decimal(cash["data"]["account"]["balance"]) == Decimal(expected) / 100


@pytest.mark.parametrize("args,fragment", [
    ('from: "2026-05-01", to: "2026-04-01"', "is before"),
    ('from: "2026-01-01", to: "2026-12-31", groupBy: [DEPARTMENT, DEPARTMENT]', "more than once"),
    ('from: "2026-13-01", to: "2026-12-31"', "Date"),
    ('from: "2026-01-01", to: "2026-12-31", groupBy: [COLOUR]', "COLOUR"),
])
async def test_bad_trial_balance_arguments_are_bad_user_input(gql, world, args, fragment):
    result = await gql(f"{{ trialBalance({args}) {{ totalDebit }} }}")
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and fragment in error["message"], error
