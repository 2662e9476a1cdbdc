"""Administration over GraphQL (`resolvers.admin`, `ledger.admin`, `ledger.closing`), through
the real HTTP app: every change audited in its transaction, every refusal coded and
writing nothing, confined to the caller's entity."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ledger.model import (
    Account,
    AccountGroup,
    AuditEvent,
    DimensionValue,
    Journal,
    JournalEntry,
    Period,
    YearEndClose,
)
from tests.callers import fetch_token, provision_tester
from tests.support import post, sale

SETUP_TABLES = (Account, AccountGroup, DimensionValue, Journal, Period, JournalEntry, YearEndClose)

CREATE_ACCOUNT = """
mutation($input: AccountInput!) {
  createAccount(input: $input) { code name type normalBalance unit aggregation active group { code name parent } }
}
"""


async def setup_state(db, entity_id) -> tuple:
    """Row counts of every setup table and of the entity's OK admin audit rows."""
    async with db.session(entity_id) as s:
        counts = [await s.scalar(select(func.count()).select_from(t)) for t in SETUP_TABLES]
        names = list(await s.scalars(select(Account.name).order_by(Account.code)))
        admin_rows = await s.scalar(
            select(func.count()).select_from(AuditEvent).where(
                AuditEvent.event == "admin", AuditEvent.outcome == "OK"
            )
        )
    return (*counts, tuple(names), admin_rows)


def error_of(result: dict) -> dict:
    assert result.get("data") is None or any(v is None for v in result["data"].values()), result
    [error] = result["errors"]
    return error


async def admin_rows(db, entity_id, operation=None, outcome=None) -> list[AuditEvent]:
    async with db.session(entity_id) as s:
        rows = list(await s.scalars(
            select(AuditEvent).where(AuditEvent.event == "admin").order_by(AuditEvent.id)
        ))
    return [r for r in rows if (operation is None or r.detail.get("operation") == operation)
            and (outcome is None or r.outcome == outcome)]


async def test_create_accounts_groups_and_read_them_back(gql, world):
    result = await gql("""mutation {
      a: createAccountGroup(input: {code: "CA", name: "Current assets", position: 1}) { code parent }
      b: createAccountGroup(input: {code: "CASH", name: "Cash and equivalents", parent: "CA"}) { code parent }
    }""")
    assert result["data"] == {"a": {"code": "CA", "parent": None}, "b": {"code": "CASH", "parent": "CA"}}
    result = await gql(CREATE_ACCOUNT, {"input": {
        "code": "1010", "name": "Petty cash", "type": "ASSET", "group": "CASH"}})
    assert result["data"]["createAccount"] == {
        "code": "1010", "name": "Petty cash", "type": "ASSET", "normalBalance": "DEBIT", "unit": None,
        "aggregation": None, "active": True,
        "group": {"code": "CASH", "name": "Cash and equivalents", "parent": "CA"},
    }
    result = await gql(CREATE_ACCOUNT, {"input": {
        "code": "9300", "name": "Seats", "type": "STATISTICAL", "unit": "seats", "aggregation": "STOCK"}})
    assert result["data"]["createAccount"]["aggregation"] == "STOCK"
    assert result["data"]["createAccount"]["normalBalance"] == "DEBIT"
    result = await gql(CREATE_ACCOUNT, {"input": {"code": "2500", "name": "Loans", "type": "LIABILITY"}})
    assert result["data"]["createAccount"]["normalBalance"] == "CREDIT"
    listed = await gql("{ accountGroups { code name position parent } account(code: \"1010\") { group { code } } }")
    assert listed["data"]["accountGroups"] == [
        {"code": "CASH", "name": "Cash and equivalents", "position": 0, "parent": "CA"},
        {"code": "CA", "name": "Current assets", "position": 1, "parent": None},
    ]
    operations = [r.detail["operation"] for r in await admin_rows(world.db, world.acme)]
    assert operations == ["createAccountGroup", "createAccountGroup", "createAccount",
                          "createAccount", "createAccount"]
    # Confined: BETA sees none of it, and may use the same codes.
    beta = await gql("{ accountGroups { code } account(code: \"1010\") { code } }", entity="BETA")
    assert beta["data"] == {"accountGroups": [], "account": None}
    again = await gql(CREATE_ACCOUNT, {"input": {"code": "1010", "name": "Petty cash", "type": "ASSET"}},
                      entity="BETA")
    assert again["data"]["createAccount"]["code"] == "1010"


@pytest.mark.parametrize(
    ("account", "code", "fragment"),
    [
        ({"code": "1000", "name": "Cash again", "type": "ASSET"}, "CONFLICT", "account 1000 already exists"),
        ({"code": "", "name": "x", "type": "ASSET"}, "BAD_USER_INPUT", "code: must be 1 to 32"),
        ({"code": "bad code", "name": "x", "type": "ASSET"}, "BAD_USER_INPUT", "code: must be"),
        ({"code": "1020", "name": "  ", "type": "ASSET"}, "BAD_USER_INPUT", "name: must not be empty"),
        ({"code": "1020", "name": "x", "type": "ASSET", "unit": "GB"}, "BAD_USER_INPUT", "unit: statistical accounts only"),
        ({"code": "1020", "name": "x", "type": "ASSET", "aggregation": "STOCK"}, "BAD_USER_INPUT",
         "aggregation: statistical accounts only"),
        ({"code": "9900", "name": "x", "type": "STATISTICAL"}, "BAD_USER_INPUT", "unit: a statistical account needs a unit"),
        ({"code": "9900", "name": "x", "type": "STATISTICAL", "unit": "GB", "quantityScale": 7},
         "BAD_USER_INPUT", "quantityScale: must be 0 to 6"),
        ({"code": "1020", "name": "x", "type": "ASSET", "group": "NOPE"}, "BAD_USER_INPUT", "no account group 'NOPE'"),
    ],
)
async def test_refused_accounts_write_nothing(gql, world, account, code, fragment):
    before = await setup_state(world.db, world.acme)
    result = await gql(CREATE_ACCOUNT, {"input": account})
    error = error_of(result)
    assert error["extensions"]["code"] == code, error
    assert fragment in error["message"], error["message"]
    assert await setup_state(world.db, world.acme) == before
    # The refusal itself is in the audit log, with its code.
    [row] = [r for r in await admin_rows(world.db, world.acme) if r.outcome != "OK"]
    assert (row.detail["operation"], row.outcome) == ("createAccount", code)


async def test_deactivating_an_account_with_a_balance_needs_force(gql, world):
    await post(gql, key="sale-1")  # 1100 debit 100.00, 4000 credit
    before = await setup_state(world.db, world.acme)
    refused = await gql('mutation { deactivateAccount(code: "1100") { active } }')
    error = error_of(refused)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "has a balance of 100.00 USD" in error["message"]
    assert await setup_state(world.db, world.acme) == before
    forced = await gql('mutation { deactivateAccount(code: "1100", force: true) { active } }')
    assert forced["data"]["deactivateAccount"] == {"active": False}
    posted = await gql("mutation($i: JournalEntryInput!) { postJournalEntry(input: $i, idempotencyKey: \"s2\") { entry { number } } }",
                       {"i": sale()})
    assert posted["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "inactive" in posted["errors"][0]["message"]
    again = await gql('mutation { deactivateAccount(code: "1100") { active } }')
    assert error_of(again)["extensions"]["code"] == "CONFLICT"
    # An account without a balance deactivates without force.
    plain = await gql('mutation { deactivateAccount(code: "2000") { code active } }')
    assert plain["data"]["deactivateAccount"] == {"code": "2000", "active": False}
    back = await gql('mutation { activateAccount(code: "2000") { active } }')
    assert back["data"]["activateAccount"] == {"active": True}


async def test_dimension_values_and_journals(gql, world):
    made = await gql('mutation { createDimensionValue(kind: PROJECT, code: "P-7", name: "Project seven") { kind code name active } }')
    assert made["data"]["createDimensionValue"] == {"kind": "PROJECT", "code": "P-7", "name": "Project seven", "active": True}
    renamed = await gql('mutation { renameDimensionValue(kind: PROJECT, code: "P-7", name: "Seven") { name } }')
    assert renamed["data"]["renameDimensionValue"] == {"name": "Seven"}
    off = await gql('mutation { deactivateDimensionValue(kind: PROJECT, code: "P-7") { active } }')
    assert off["data"]["deactivateDimensionValue"] == {"active": False}
    listed = await gql("{ dimensionValues(kind: PROJECT) { code name active } }")
    assert {"code": "P-7", "name": "Seven", "active": False} in listed["data"]["dimensionValues"]
    before = await setup_state(world.db, world.acme)
    duplicate = await gql('mutation { createDimensionValue(kind: DEPARTMENT, code: "SALES", name: "x") { code } }')
    assert error_of(duplicate)["extensions"]["code"] == "CONFLICT"
    missing = await gql('mutation { renameDimensionValue(kind: PROJECT, code: "NONE", name: "x") { code } }')
    assert error_of(missing)["extensions"]["code"] == "NOT_FOUND"
    assert await setup_state(world.db, world.acme) == before

    journal = await gql('mutation { createJournal(code: "FX", name: "Foreign exchange") { code name active } }')
    assert journal["data"]["createJournal"] == {"code": "FX", "name": "Foreign exchange", "active": True}
    duplicate = await gql('mutation { createJournal(code: "GJ", name: "again") { code } }')
    assert error_of(duplicate)["extensions"]["code"] == "CONFLICT"
    off = await gql('mutation { deactivateJournal(code: "SALES") { active } }')
    assert off["data"]["deactivateJournal"] == {"active": False}
    posted = await gql("mutation($i: JournalEntryInput!) { postJournalEntry(input: $i, idempotencyKey: \"j\") { entry { number } } }",
                       {"i": sale()})
    assert posted["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    listed = await gql("{ journals { code active } }")
    assert {"code": "SALES", "active": False} in listed["data"]["journals"]


async def test_entity_rename_and_retained_earnings(gql, world):
    renamed = await gql('mutation { renameEntity(name: "Acme Software Ltd") { code name fiscalYearStartMonth } }')
    assert renamed["data"]["renameEntity"] == {"code": "ACME", "name": "Acme Software Ltd", "fiscalYearStartMonth": 1}
    refused = await gql('mutation { setRetainedEarningsAccount(code: "1000") { code } }')
    assert error_of(refused)["extensions"]["code"] == "BAD_USER_INPUT"
    assert "retained earnings is an active equity account" in error_of(refused)["message"]
    done = await gql('mutation { setRetainedEarningsAccount(code: "3000") { retainedEarnings { code } } }')
    assert done["data"]["setRetainedEarningsAccount"] == {"retainedEarnings": {"code": "3000"}}
    read = await gql("{ entity { name retainedEarnings { code name } } }")
    assert read["data"]["entity"] == {"name": "Acme Software Ltd",
                                      "retainedEarnings": {"code": "3000", "name": "Retained earnings"}}
    assert (await gql("{ entity { name } }", entity="BETA"))["data"]["entity"]["name"] == "Beta Hotels GmbH"


async def test_generate_fiscal_year_and_overlap(gql, world):
    made = await gql("mutation { generateFiscalYear(year: 2027) { name start end closed fiscalYear } }")
    periods = made["data"]["generateFiscalYear"]
    assert [p["name"] for p in periods][:2] == ["2027-01", "2027-02"] and len(periods) == 12
    assert periods[-1] == {"name": "2027-12", "start": "2027-12-01", "end": "2027-12-31",
                           "closed": False, "fiscalYear": 2027}
    before = await setup_state(world.db, world.acme)
    again = await gql("mutation { generateFiscalYear(year: 2027) { name } }")
    error = error_of(again)
    assert error["extensions"]["code"] == "CONFLICT" and "overlaps period 2027-01" in error["message"]
    silly = await gql("mutation { generateFiscalYear(year: 12) { name } }")
    assert error_of(silly)["extensions"]["code"] == "BAD_USER_INPUT"
    assert await setup_state(world.db, world.acme) == before


async def test_close_and_reopen_a_period(gql, world):
    closed = await gql('mutation { closePeriod(name: "2026-03") { name closed } }')
    assert closed["data"]["closePeriod"] == {"name": "2026-03", "closed": True}
    before = await setup_state(world.db, world.acme)
    posted = await gql("mutation($i: JournalEntryInput!) { postJournalEntry(input: $i, idempotencyKey: \"march\") { entry { number } } }",
                       {"i": sale()})  # dated 2026-03-15
    assert posted["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "period 2026-03 is closed" in posted["errors"][0]["message"]
    twice = await gql('mutation { closePeriod(name: "2026-03") { closed } }')
    assert error_of(twice)["extensions"]["code"] == "CONFLICT"
    no_reason = await gql('mutation { reopenPeriod(name: "2026-03", reason: " ") { closed } }')
    assert error_of(no_reason)["extensions"]["code"] == "BAD_USER_INPUT"
    assert "needs a reason" in error_of(no_reason)["message"]
    unknown = await gql('mutation { closePeriod(name: "1999-01") { closed } }')
    assert error_of(unknown)["extensions"]["code"] == "NOT_FOUND"
    assert await setup_state(world.db, world.acme) == before
    reopened = await gql('mutation { reopenPeriod(name: "2026-03", reason: "late supplier invoice") { closed } }')
    assert reopened["data"]["reopenPeriod"] == {"closed": False}
    [row] = await admin_rows(world.db, world.acme, "reopenPeriod", "OK")
    assert row.outcome == "OK" and row.detail["reason"] == "late supplier invoice"
    assert (await post(gql, key="march"))["number"]


async def test_reopening_needs_its_own_scope(http, world):
    party = await provision_tester(world.db)
    token = await fetch_token(http, party, "ACME", scope="ledger:read admin:write")
    headers = {"Authorization": f"Bearer {token}"}
    closed = await http.post("/graphql", headers=headers,
                             json={"query": 'mutation { closePeriod(name: "2026-04") { closed } }'})
    assert closed.json()["data"]["closePeriod"] == {"closed": True}
    before = await setup_state(world.db, world.acme)
    refused = await http.post("/graphql", headers=headers, json={
        "query": 'mutation { reopenPeriod(name: "2026-04", reason: "want to") { closed } }'})
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN" and "periods:reopen" in error["message"]
    assert await setup_state(world.db, world.acme) == before
    poster = await fetch_token(http, party, "ACME", scope="ledger:read ledger:post")
    refused = await http.post("/graphql", headers={"Authorization": f"Bearer {poster}"}, json={
        "query": 'mutation { createJournal(code: "X", name: "x") { code } }'})
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await setup_state(world.db, world.acme) == before


async def test_year_end_close_posts_into_retained_earnings_and_reopening_reverses_it(gql, world):
    # 2025's periods are closed by the world fixture; post 2026 activity, then close 2026.
    await post(gql, key="s1", amount="300.00")
    expense = {"journal": "GJ", "date": "2026-06-30", "lines": [
        {"account": "5000", "debit": "120.00", "dimensions": [{"kind": "DEPARTMENT", "code": "ENG"}]},
        {"account": "1000", "credit": "120.00"}]}
    done = await gql("mutation($i: JournalEntryInput!) { postJournalEntry(input: $i, idempotencyKey: \"e1\") { entry { number } } }",
                     {"i": expense})
    assert "errors" not in done, done
    before = await setup_state(world.db, world.acme)
    early = await gql('mutation { closeFiscalYear(year: 2026, retainedEarnings: "3000") { fiscalYear } }')
    error = error_of(early)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "open: 2026-01" in error["message"]
    assert await setup_state(world.db, world.acme) == before
    for month in range(1, 13):
        await gql(f'mutation {{ closePeriod(name: "2026-{month:02d}") {{ closed }} }}')
    wrong = await gql('mutation { closeFiscalYear(year: 2026, retainedEarnings: "4000") { fiscalYear } }')
    assert error_of(wrong)["extensions"]["code"] == "BAD_USER_INPUT"
    closed = await gql("""mutation { closeFiscalYear(year: 2026, retainedEarnings: "3000") {
        fiscalYear inForce retainedEarnings { code }
        entry { journal date lines { account { code } debit credit dimensions { code } } } } }""")
    result = closed["data"]["closeFiscalYear"]
    assert result["fiscalYear"] == 2026 and result["inForce"] and result["retainedEarnings"] == {"code": "3000"}
    assert result["entry"]["journal"] == "CLOSE" and result["entry"]["date"] == "2026-12-31"
    lines = {(l["account"]["code"], l["debit"], l["credit"], tuple(d["code"] for d in l["dimensions"]))
             for l in result["entry"]["lines"]}
    assert lines == {
        ("4000", "300.00", "0.00", ("SALES", "NYC")),   # revenue zeroed, per dimension values
        ("3000", "0.00", "300.00", ("SALES", "NYC")),
        ("5000", "0.00", "120.00", ("ENG",)),
        ("3000", "120.00", "0.00", ("ENG",)),
    }
    balances = await gql("""{ re: account(code: "3000") { balance } rev: account(code: "4000") { balance }
                              exp: account(code: "5000") { balance } }""")
    assert balances["data"] == {"re": {"balance": "-180.00"}, "rev": {"balance": "0.00"},
                                "exp": {"balance": "0.00"}}
    twice = await gql('mutation { closeFiscalYear(year: 2026) { fiscalYear } }')
    assert error_of(twice)["extensions"]["code"] == "CONFLICT"
    number = (await gql("{ yearEndCloses { entry { number } } }"))["data"]["yearEndCloses"][0]["entry"]["number"]
    by_hand = await gql(f'mutation {{ reverseJournalEntry(number: "{number}", date: "2026-12-31", idempotencyKey: "r") {{ entry {{ number }} }} }}')
    assert by_hand["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "reopening a period of that year reverses it" in by_hand["errors"][0]["message"]

    reopened = await gql('mutation { reopenPeriod(name: "2026-12", reason: "audit adjustment") { closed } }')
    assert reopened["data"]["reopenPeriod"] == {"closed": False}
    closes = (await gql("{ yearEndCloses { fiscalYear inForce entry { state } reversal { reverses { number } date } } }"))["data"]["yearEndCloses"]
    assert closes == [{"fiscalYear": 2026, "inForce": False, "entry": {"state": "REVERSED"},
                       "reversal": {"reverses": {"number": number}, "date": "2026-12-31"}}]
    balances = await gql('{ re: account(code: "3000") { balance } rev: account(code: "4000") { balance } }')
    assert balances["data"] == {"re": {"balance": "0.00"}, "rev": {"balance": "-300.00"}}
    [row] = await admin_rows(world.db, world.acme, "reopenPeriod", "OK")
    assert row.detail["reversedYearEndClose"]["entry"] == number
    # Closed again, the year closes again.
    await gql('mutation { closePeriod(name: "2026-12") { closed } }')
    again = await gql('mutation { closeFiscalYear(year: 2026) { inForce } }')
    assert again["data"]["closeFiscalYear"] == {"inForce": True}
    verified = await gql("{ verifyLedger { ok } }")
    assert verified["data"]["verifyLedger"]["ok"] is True
