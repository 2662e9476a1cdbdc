"""Lines in a transaction currency (`ledger.currency`) and the rates table (`ledger.rates`),
through the HTTP app: priced exactly, balanced in the base currency, hashed and reversed
with their rate, every refusal coded and writing nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ledger.hashing import EntryContent, LineContent, chain_hash
from ledger.model import ExchangeRate
from tests.callers import fetch_token, provision_tester
from tests.support import counts

POST = """mutation($i: JournalEntryInput!, $k: String!) { postJournalEntry(input: $i, idempotencyKey: $k) {
  entry { number hash lines { account { code } debit credit currency transaction { currency debit credit rate } } } } }"""
SET_RATES = """mutation($r: [ExchangeRateInput!]!, $replace: Boolean) {
  setExchangeRates(rates: $r, replace: $replace) { added unchanged replaced } }"""


def invoice(amount="1000.00", rate="1.0825", currency="EUR", date="2026-03-10", **line):
    payable = {"account": "2000", "credit": amount, "currency": currency, **line}
    expense = {"account": "5000", "debit": amount, "currency": currency, **line}
    if rate is not None:
        payable["rate"] = expense["rate"] = rate
    return {"journal": "GJ", "date": date, "description": "Supplier invoice in EUR", "lines": [expense, payable]}


async def test_a_eur_invoice_in_a_usd_company_with_its_rate(gql, world):
    result = await gql(POST, {"i": invoice(), "k": "inv-1"})
    assert "errors" not in result, result
    lines = result["data"]["postJournalEntry"]["entry"]["lines"]
    assert lines[0] == {"account": {"code": "5000"}, "debit": "1082.50", "credit": "0.00", "currency": "USD",
                        "transaction": {"currency": "EUR", "debit": "1000.00", "credit": "0.00", "rate": "1.0825"}}
    assert lines[1]["credit"] == "1082.50" and lines[1]["transaction"]["credit"] == "1000.00"
    # The idempotent replay returns the same entry; another rate with the same key conflicts.
    again = await gql(POST, {"i": invoice(), "k": "inv-1"})
    assert again["data"] == result["data"]
    other = await gql(POST, {"i": invoice(rate="1.09"), "k": "inv-1"})
    assert other["errors"][0]["extensions"]["code"] == "CONFLICT"
    verified = await gql("{ verifyLedger { ok entriesChecked } }")
    assert verified["data"]["verifyLedger"] == {"ok": True, "entriesChecked": 1}


async def test_rounding_examples_exactly(gql, world):
    entry = {"journal": "GJ", "date": "2026-03-10", "lines": [
        {"account": "5000", "debit": "0.15", "currency": "EUR", "rate": "1.5"},   # 0.225 → 0.22
        {"account": "5000", "debit": "0.05", "currency": "EUR", "rate": "1.5"},   # 0.075 → 0.08
        {"account": "2000", "credit": "0.30", "currency": "USD"},                 # base line
    ]}
    result = await gql(POST, {"i": entry, "k": "even"})
    assert "errors" not in result, result
    debits = [line["debit"] for line in result["data"]["postJournalEntry"]["entry"]["lines"]]
    assert debits == ["0.22", "0.08", "0.00"]
    # Balanced in EUR (0.10 + 0.10 against 0.20) but 0.15 + 0.15 USD ≠ ... : refused in base.
    unbalanced = {"journal": "GJ", "date": "2026-03-10", "lines": [
        {"account": "5000", "debit": "0.15", "currency": "EUR", "rate": "1.5"},   # 0.22
        {"account": "5000", "debit": "0.05", "currency": "EUR", "rate": "1.5"},   # 0.08
        {"account": "2000", "credit": "0.20", "currency": "EUR", "rate": "1.5"},  # 0.30
    ]}
    assert "errors" not in await gql(POST, {"i": unbalanced, "k": "bal"})
    off = {"journal": "GJ", "date": "2026-03-10", "lines": [
        {"account": "5000", "debit": "0.15", "currency": "EUR", "rate": "1.5"},   # 0.22
        {"account": "5000", "debit": "0.15", "currency": "EUR", "rate": "1.5"},   # 0.22
        {"account": "2000", "credit": "0.30", "currency": "EUR", "rate": "1.5"},  # 0.45
    ]}
    before = await counts(world.db, world.acme)
    refused = await gql(POST, {"i": off, "k": "off"})
    [error] = refused["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "debits and credits differ by -0.01 USD" in error["message"]
    assert await counts(world.db, world.acme) == before


async def test_the_rate_comes_from_the_table_on_or_before_the_date(gql, world):
    done = await gql(SET_RATES, {"r": [
        {"currency": "EUR", "date": "2026-03-01", "rate": "1.08"},
        {"currency": "EUR", "date": "2026-03-09", "rate": "1.09"},
        {"currency": "EUR", "date": "2026-03-11", "rate": "1.10"},
        {"currency": "GBP", "date": "2026-03-01", "rate": "1.27", "rateType": "AVERAGE"},
    ]})
    assert done["data"]["setExchangeRates"] == {"added": 4, "unchanged": 0, "replaced": 0}
    result = await gql(POST, {"i": invoice(rate=None), "k": "table"})
    assert "errors" not in result, result
    [line, _] = result["data"]["postJournalEntry"]["entry"]["lines"]
    assert (line["debit"], line["transaction"]["rate"]) == ("1090.00", "1.09")  # the 9th's
    listed = await gql('{ exchangeRates(currency: "EUR", from: "2026-03-05") { date rate rateType } }')
    assert listed["data"]["exchangeRates"] == [
        {"date": "2026-03-09", "rate": "1.09", "rateType": "SPOT"},
        {"date": "2026-03-11", "rate": "1.1", "rateType": "SPOT"},  # stored as exact digits
    ]
    # Only a SPOT rate prices a line: GBP has an AVERAGE one only.
    before = await counts(world.db, world.acme)
    refused = await gql(POST, {"i": invoice(rate=None, currency="GBP"), "k": "gbp"})
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "no SPOT rate of GBP on or before 2026-03-10" in refused["errors"][0]["message"]
    early = await gql(POST, {"i": invoice(rate=None, date="2026-02-27"), "k": "early"})
    assert "no SPOT rate of EUR on or before 2026-02-27" in early["errors"][0]["message"]
    assert await counts(world.db, world.acme) == before
    # BETA (EUR-based) sees none of ACME's rates.
    assert (await gql("{ exchangeRates { currency } }", entity="BETA"))["data"]["exchangeRates"] == []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"currency": "XYZ"}, "unknown currency 'XYZ'"),
        ({"rate": "0"}, "0 is not a rate"),
        ({"rate": "-1.2"}, "-1.2 is not a rate"),
        ({"rate": "1.0000000000001"}, "is not a rate: a positive decimal with at most 12 decimals"),
        ({"amount": "10.001"}, "10.001 has more decimals than EUR allows (2)"),
        ({"amount": "0.001", "currency": "JPY"}, "has more decimals than JPY allows (0)"),
        ({"amount": "0.01", "rate": "0.0001"}, "0.01 EUR at 0.0001 is 0 USD: too small to post"),
    ],
)
async def test_refused_foreign_lines_write_nothing(gql, world, change, fragment):
    args = {"amount": "10.00", "rate": "1.1", "currency": "EUR"} | change
    before = await counts(world.db, world.acme)
    result = await gql(POST, {"i": invoice(**args), "k": "bad"})
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert fragment in error["message"], error["message"]
    assert await counts(world.db, world.acme) == before


async def test_statistical_lines_and_base_currency_rates_are_refused(gql, world):
    before = await counts(world.db, world.acme)
    stat = await gql(POST, {"i": {"journal": "GJ", "date": "2026-03-10", "lines": [
        {"account": "9100", "quantity": "1", "currency": "EUR"}]}, "k": "stat"})
    assert "statistical lines take a quantity, no currency" in stat["errors"][0]["message"]
    base = await gql(POST, {"i": invoice(currency="USD", rate="1.2"), "k": "usd"})
    assert "USD is the base currency: its rate is 1" in base["errors"][0]["message"]
    lone = await gql(POST, {"i": {"journal": "GJ", "date": "2026-03-10", "lines": [
        {"account": "5000", "debit": "1.00", "rate": "1.2"}, {"account": "2000", "credit": "1.00"}]}, "k": "lone"})
    assert "a rate goes with a currency" in lone["errors"][0]["message"]
    assert await counts(world.db, world.acme) == before
    same = await gql(POST, {"i": invoice(currency="USD", rate=None), "k": "usd-plain"})
    assert "errors" not in same and same["data"]["postJournalEntry"]["entry"]["lines"][0]["transaction"] is None


async def test_a_reversal_mirrors_the_transaction_amounts_and_rate(gql, world):
    posted = await gql(POST, {"i": invoice(amount="333.33", rate="1.0837"), "k": "r1"})
    number = posted["data"]["postJournalEntry"]["entry"]["number"]
    reversed_ = await gql(f"""mutation {{ reverseJournalEntry(number: "{number}", date: "2026-04-01", idempotencyKey: "rr") {{
        entry {{ lines {{ debit credit transaction {{ currency debit credit rate }} }} }} }} }}""")
    lines = reversed_["data"]["reverseJournalEntry"]["entry"]["lines"]
    assert lines[0] == {"debit": "0.00", "credit": "361.23",
                        "transaction": {"currency": "EUR", "debit": "0.00", "credit": "333.33", "rate": "1.0837"}}
    assert (await gql("{ verifyLedger { ok } }"))["data"]["verifyLedger"]["ok"] is True


def test_a_base_line_hashes_as_it_did_before_foreign_lines_existed():
    """The hashed document of a base-currency line has exactly the keys it had before
    transaction currencies (so old chains verify); a foreign line adds its `txn`."""
    import hashlib
    import json

    line = LineContent(1, "1000", "USD", 100, 0, None, None, {}, ())
    content = EntryContent("ACME", 1, "JE-0000001", "GJ", "2026-01-01", None, "2026-01-01T00:00:00.000000Z",
                           None, (), (line,))
    before = {"entity": "ACME", "seq": 1, "number": "JE-0000001", "journal": "GJ", "date": "2026-01-01",
              "description": None, "posted_at": "2026-01-01T00:00:00.000000Z", "reverses": None, "sources": [],
              "lines": [{"line_no": 1, "account": "1000", "currency": "USD", "debit": 100, "credit": 0,
                         "quantity": None, "memo": None, "dimensions": {}, "sources": []}]}
    raw = json.dumps(before, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert chain_hash("0" * 64, content) == hashlib.sha256(b"0" * 64 + b"\n" + raw).hexdigest()
    foreign = LineContent(1, "1000", "USD", 108, 0, None, None, {}, (), ("EUR", 100, 0, "1.08"))
    assert chain_hash("0" * 64, EntryContent(*[*content.__dict__.values()][:9], (foreign,))) != chain_hash("0" * 64, content)


async def test_rates_mutation_refusals(gql, world, http):
    before = await rate_count(world.db, world.acme)
    bad = await gql(SET_RATES, {"r": [{"currency": "EUR", "date": "2026-01-01", "rate": "0"},
                                     {"currency": "XXX", "date": "2026-01-01", "rate": "1.1"}]})
    [error] = bad["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "rates[0].rate" in error["message"] and "rates[1].currency: unknown currency 'XXX'" in error["message"]
    base = await gql(SET_RATES, {"r": [{"currency": "USD", "date": "2026-01-01", "rate": "1"}]})
    assert "USD is the base currency" in base["errors"][0]["message"]
    assert await rate_count(world.db, world.acme) == before
    await gql(SET_RATES, {"r": [{"currency": "EUR", "date": "2026-01-01", "rate": "1.1"}]})
    same = await gql(SET_RATES, {"r": [{"currency": "EUR", "date": "2026-01-01", "rate": "1.10"}]})
    assert same["data"]["setExchangeRates"] == {"added": 0, "unchanged": 1, "replaced": 0}
    changed = await gql(SET_RATES, {"r": [{"currency": "EUR", "date": "2026-01-01", "rate": "1.2"}]})
    assert "is 1.1 already; replace it only on purpose" in changed["errors"][0]["message"]
    replaced = await gql(SET_RATES, {"r": [{"currency": "EUR", "date": "2026-01-01", "rate": "1.2"}], "replace": True})
    assert replaced["data"]["setExchangeRates"] == {"added": 0, "unchanged": 0, "replaced": 1}
    party = await provision_tester(world.db)
    token = await fetch_token(http, party, "ACME", scope="ledger:read ledger:post")
    response = await http.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
        "query": SET_RATES, "variables": {"r": [{"currency": "GBP", "date": "2026-01-01", "rate": "1.3"}]}})
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await rate_count(world.db, world.acme) == before + 1


async def rate_count(db, entity_id) -> int:
    async with db.session(entity_id) as s:
        return await s.scalar(select(func.count()).select_from(ExchangeRate))


async def test_the_trial_balance_shows_transaction_currencies_on_request_in_one_statement(gql, world, statements):
    await gql(POST, {"i": invoice(amount="1000.00", rate="1.08"), "k": "t1"})
    await gql(POST, {"i": invoice(amount="50.00", rate="1.1", currency="GBP"), "k": "t2"})
    await gql(POST, {"i": invoice(amount="10.00", rate=None, currency="USD"), "k": "t3"})
    query = """{ trialBalance(from: "2026-03-01", to: "2026-03-31") { rows { account { code } debit credit
                 transactionAmounts { currency debit credit } } } }"""
    await gql(query)
    statements.reset()
    rows = {r["account"]["code"]: r for r in (await gql(query))["data"]["trialBalance"]["rows"]}
    assert rows["5000"]["debit"] == "1145.00"  # 1080.00 + 55.00 + 10.00 USD
    assert rows["5000"]["transactionAmounts"] == [
        {"currency": "EUR", "debit": "1000.00", "credit": "0.00"},
        {"currency": "GBP", "debit": "50.00", "credit": "0.00"},
        {"currency": "USD", "debit": "10.00", "credit": "0.00"},
    ]
    assert rows["2000"]["transactionAmounts"][0] == {"currency": "EUR", "debit": "0.00", "credit": "1000.00"}
    transaction_queries = [s for s in statements.statements if "coalesce(journal_lines.txn_currency" in s]
    assert len(transaction_queries) == 1, statements.statements
