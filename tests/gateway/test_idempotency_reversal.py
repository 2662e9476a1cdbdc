"""Idempotent writes, reversals linked both ways, and immutability of posted history."""

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select, update

from ledger.model import JournalLine
from ledger.reference import close_periods_through
from ledger.tenancy import ImmutableHistoryError
from tests.support import POST, counts, post, sale

REVERSE = """
mutation Reverse($number: String!, $date: Date!, $key: String!) {
  reverseJournalEntry(number: $number, date: $date, idempotencyKey: $key) {
    entry { number date state description
      reverses { number state reversedBy { number } }
      lines { debit credit quantity account { code } dimensions { code } sources { recordId } } }
  }
}
"""




async def test_repeating_a_key_with_the_same_request_returns_the_original(gql, world):
    first = await post(gql, key="same")
    again = await post(gql, key="same")
    assert again == first
    assert await counts(world.db, world.acme) == (1, 2, 2, 1)


async def test_a_key_reused_for_a_different_request_is_a_conflict(gql, world):
    await post(gql, key="reused")
    result = await gql(POST, {"input": sale("99.99"), "key": "reused"})
    assert result["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "already used with a different request" in result["errors"][0]["message"]
    assert await counts(world.db, world.acme) == (1, 2, 2, 1)


async def test_keys_belong_to_their_entity(gql, world):
    await post(gql, key="shared")
    beta = sale(lines=[{"account": "1000", "debit": "5"}, {"account": "4000", "credit": "5"}])
    result = await gql(POST, {"input": beta, "key": "shared"}, entity="BETA")
    assert "errors" not in result, result
    assert await counts(world.db, world.beta) == (1, 2, 1, 1)


async def test_concurrent_requests_with_one_key_post_one_entry(gql, world):
    results = await asyncio.gather(
        *[gql(POST, {"input": sale(), "key": "race"}) for _ in range(8)]
    )
    numbers = {r["data"]["postJournalEntry"]["entry"]["number"] for r in results}
    assert numbers == {"JE-0000001"}
    assert await counts(world.db, world.acme) == (1, 2, 2, 1)


async def test_concurrent_different_postings_keep_a_gapless_chain(gql, world):
    results = await asyncio.gather(
        *[gql(POST, {"input": sale(f"{n}.01"), "key": f"p{n}"}) for n in range(1, 11)]
    )
    numbers = sorted(r["data"]["postJournalEntry"]["entry"]["number"] for r in results)
    assert numbers == [f"JE-{n:07d}" for n in range(1, 11)]
    verified = await gql("{ verifyLedger { ok entriesChecked firstBrokenEntry } }")
    assert verified["data"]["verifyLedger"] == {"ok": True, "entriesChecked": 10, "firstBrokenEntry": None}


async def test_reversal_mirrors_the_entry_and_links_both_ways(gql, world):
    original = await post(gql, key="orig", **{"lines": [
        {"account": "1100", "debit": "10.25", "dimensions": [{"kind": "CUSTOMER", "code": "C1"}],
         "sources": [{"system": "crm", "recordType": "SalesOrder", "recordId": "SO-9"}]},
        {"account": "4000", "credit": "10.25"},
    ]})
    result = await gql(REVERSE, {"number": original["number"], "date": "2026-04-01", "key": "rev"})
    assert "errors" not in result, result
    reversal = result["data"]["reverseJournalEntry"]["entry"]
    assert reversal["description"] == f"Reversal of {original['number']}"
    assert reversal["reverses"] == {"number": original["number"], "state": "REVERSED",
                                    "reversedBy": {"number": reversal["number"]}}
    assert [(l["debit"], l["credit"], l["account"]["code"]) for l in reversal["lines"]] == [
        ("0.00", "10.25", "1100"), ("10.25", "0.00", "4000")]
    assert reversal["lines"][0]["dimensions"] == [{"code": "C1"}]
    assert reversal["lines"][0]["sources"] == [{"recordId": "SO-9"}]
    balance = await gql('{ account(code: "1100") { balance } }')
    assert balance["data"]["account"]["balance"] == "0.00"


async def test_a_statistical_entry_reverses_to_negative_quantities(gql, world):
    stat = {"journal": "GJ", "date": "2026-01-31", "lines": [{"account": "9100", "quantity": "2.5"}]}
    posted = await gql(POST, {"input": stat, "key": "s"})
    number = posted["data"]["postJournalEntry"]["entry"]["number"]
    result = await gql(REVERSE, {"number": number, "date": "2026-02-01", "key": "rs"})
    assert result["data"]["reverseJournalEntry"]["entry"]["lines"][0]["quantity"] == "-2.500"


@pytest.mark.parametrize(
    "number,date,code,fragment",
    [
        ("JE-0009999", "2026-04-01", "NOT_FOUND", "no journal entry"),
        ("JE-0000001", "2026-03-01", "BAD_USER_INPUT", "cannot be dated before"),
    ],
)
async def test_bad_reversals_are_refused_and_write_nothing(gql, world, number, date, code, fragment):
    await post(gql, key="orig")
    result = await gql(REVERSE, {"number": number, "date": date, "key": "r"})
    assert result["errors"][0]["extensions"]["code"] == code
    assert fragment in str(result["errors"][0])
    assert await counts(world.db, world.acme) == (1, 2, 2, 1)


async def test_a_reversal_into_a_closed_period_is_refused(gql, world):
    original = await post(gql, key="orig")
    async with world.db.session(world.acme) as session:
        await close_periods_through(session, dt.date(2026, 3, 31))
        await session.commit()
    result = await gql(REVERSE, {"number": original["number"], "date": "2026-03-20", "key": "r"})
    assert result["errors"][0]["extensions"]["violations"] == [
        {"path": "date", "message": "period 2026-03 is closed"}]
    assert await counts(world.db, world.acme) == (1, 2, 2, 1)


async def test_an_entry_is_reversed_only_once(gql, world):
    original = await post(gql, key="orig")
    await gql(REVERSE, {"number": original["number"], "date": "2026-04-01", "key": "r1"})
    again = await gql(REVERSE, {"number": original["number"], "date": "2026-04-02", "key": "r2"})
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    replay = await gql(REVERSE, {"number": original["number"], "date": "2026-04-01", "key": "r1"})
    assert "errors" not in replay
    assert await counts(world.db, world.acme) == (2, 4, 4, 2)


async def test_another_entitys_entry_cannot_be_reversed(gql, world):
    original = await post(gql, key="orig")
    result = await gql(REVERSE, {"number": original["number"], "date": "2026-04-01", "key": "x"}, entity="BETA")
    assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_posted_history_cannot_be_changed_through_the_ledger(gql, world):
    await post(gql, key="orig")
    async with world.db.session(world.acme) as session:
        with pytest.raises(ImmutableHistoryError):
            await session.execute(update(JournalLine).values(memo="edited"))
    async with world.db.session(world.acme) as session:
        line = await session.scalar(select(JournalLine).limit(1))
        line.debit = 1
        with pytest.raises(ImmutableHistoryError):
            await session.flush()
    mutations = await gql("{ __schema { mutationType { fields { name } } } }")
    names = {f["name"] for f in mutations["data"]["__schema"]["mutationType"]["fields"]}
    # Administration has its mutations; none writes entries or lines but these three, which
    # only append (the year-end close posts through the ledger's own rules).
    assert {n for n in names if "Entry" in n or "Entries" in n or "Line" in n} == {
        "postJournalEntry", "postJournalEntries", "reverseJournalEntry"
    }
