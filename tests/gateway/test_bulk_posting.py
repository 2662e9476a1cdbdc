"""postJournalEntries through the real app: many entries, one transaction, one key."""

import asyncio

import httpx
from sqlalchemy import select

from gateway.app import create_app
from ledger.model import AuditEvent
from ledger.verification import verify_chain
from tests.callers import pin_actor_cache, tester_client
from tests.conftest import make_settings
from tests.record_types import linkable_catalog
from tests.support import POST, counts, sale

BULK = """mutation Bulk($inputs: [JournalEntryInput!]!, $key: String!) {
  postJournalEntries(inputs: $inputs, idempotencyKey: $key) {
    entries { number description lines { account { code } debit credit } } } }"""


def batch(n: int, **overrides) -> list[dict]:
    return [sale(f"{i + 1}.00", description=f"entry {i}", **overrides) for i in range(n)]


async def test_a_batch_posts_every_entry_in_order(gql, world):
    result = await gql(BULK, {"inputs": batch(3), "key": "batch-1"})
    assert "errors" not in result, result
    entries = result["data"]["postJournalEntries"]["entries"]
    assert [e["number"] for e in entries] == ["JE-0000001", "JE-0000002", "JE-0000003"]
    assert [e["description"] for e in entries] == ["entry 0", "entry 1", "entry 2"]
    assert entries[2]["lines"][0]["debit"] == "3.00"
    assert await counts(world.db, world.acme) == (3, 6, 6, 3)
    async with world.db.session(world.acme) as session:
        assert (await verify_chain(session)).ok
        [row] = list(await session.scalars(
            select(AuditEvent.detail).where(AuditEvent.event == "mutation")))
    assert row["operation"] == "postJournalEntries" and row["entryCount"] == 3
    assert [e["number"] for e in row["entries"]] == ["JE-0000001", "JE-0000002", "JE-0000003"]


async def test_the_same_batch_again_returns_the_original_entries(gql, world):
    first = await gql(BULK, {"inputs": batch(2), "key": "again"})
    second = await gql(BULK, {"inputs": batch(2), "key": "again"})
    assert second["data"] == first["data"]
    assert await counts(world.db, world.acme) == (2, 4, 4, 2)


async def test_another_batch_under_the_key_is_a_conflict_and_writes_nothing(gql, world):
    await gql(BULK, {"inputs": batch(2), "key": "used"})
    for other in (batch(3), batch(1), [*batch(1), sale("9.99")]):
        result = await gql(BULK, {"inputs": other, "key": "used"})
        assert result["data"] is None
        assert result["errors"][0]["extensions"]["code"] == "CONFLICT", result
    assert await counts(world.db, world.acme) == (2, 4, 4, 2)


async def test_a_batch_key_and_a_single_key_are_apart(gql, world):
    single = await gql(POST, {"input": sale("1.00"), "key": "shared"})
    bulk = await gql(BULK, {"inputs": batch(1), "key": "shared"})
    assert "errors" not in single and "errors" not in bulk, (single, bulk)
    assert await counts(world.db, world.acme) == (2, 4, 4, 2)


async def test_every_violation_of_every_entry_is_listed_by_input_index_and_nothing_is_written(gql, world):
    inputs = batch(4)
    inputs[1]["lines"][0]["account"] = "0000"
    inputs[3]["date"] = "2025-06-30"
    inputs[3]["lines"][1]["credit"] = "1.00"
    result = await gql(BULK, {"inputs": inputs, "key": "bad"})
    assert result["data"] is None
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    paths = [v["path"] for v in error["extensions"]["violations"]]
    assert paths == ["inputs[1].lines[0].account", "inputs[3].date", "inputs[3].lines"]
    assert await counts(world.db, world.acme) == (0, 0, 0, 0)
    async with world.db.session(world.acme) as session:
        [row] = list(await session.scalars(
            select(AuditEvent).where(AuditEvent.event == "mutation")))
    assert (row.outcome, row.detail["violationCount"]) == ("BAD_USER_INPUT", 3)


async def test_batch_limits_and_keys_are_checked_before_anything_is_written(world):
    app = create_app(make_settings(max_batch_entries=3, max_batch_lines=5), db=world.db,
                     sources=linkable_catalog())
    pin_actor_cache(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        gql = await tester_client(http, world.db)
        cases = [
            ([], "k", "at least one entry"),
            (batch(4), "k", "4 entries; at most 3 per batch"),
            (batch(3), "k", "6 lines in all; at most 5 per batch"),
            (batch(1), " k", "idempotencyKey"),
            (batch(1), "x" * 201, "idempotencyKey"),
        ]
        for inputs, key, message in cases:
            result = await gql(BULK, {"inputs": inputs, "key": key})
            [error] = result["errors"]
            assert error["extensions"]["code"] == "BAD_USER_INPUT", result
            assert message in error["message"], error
    assert await counts(world.db, world.acme) == (0, 0, 0, 0)


async def test_a_batch_is_confined_to_the_callers_entity(gql, world):
    inputs = batch(2)
    inputs[1]["lines"][1]["account"] = "7777"  # BETA's
    result = await gql(BULK, {"inputs": inputs, "key": "confined"})
    [error] = result["errors"]
    assert [v["path"] for v in error["extensions"]["violations"]] == ["inputs[1].lines[1].account"]
    assert "unknown account '7777'" in error["message"]


async def test_concurrent_single_postings_all_land_chained(gql, world):
    results = await asyncio.gather(
        *(gql(POST, {"input": sale(f"{n}.00"), "key": f"c{n}"}) for n in range(1, 9))
    )
    assert all("errors" not in r for r in results), results
    numbers = sorted(r["data"]["postJournalEntry"]["entry"]["number"] for r in results)
    assert numbers == [f"JE-000000{n}" for n in range(1, 9)]
    async with world.db.session(world.acme) as session:
        assert (await verify_chain(session)).ok
        rows = list(await session.scalars(
            select(AuditEvent.detail).where(AuditEvent.event == "mutation")))
    assert sorted(r["idempotencyKey"] for r in rows) == [f"c{n}" for n in range(1, 9)]


async def test_a_posting_answers_with_its_entry_as_it_is_read_back(gql, world):
    fields = "id number journal date description state postedAt hash reverses { number } lines { lineNo }"
    posted = await gql(f"""mutation P($input: JournalEntryInput!, $key: String!) {{
        postJournalEntry(input: $input, idempotencyKey: $key) {{ entry {{ {fields} }} }} }}""",
                       {"input": sale("7.00"), "key": "as-read"})
    entry = posted["data"]["postJournalEntry"]["entry"]
    read = await gql(f'{{ journalEntry(number: "{entry["number"]}") {{ {fields} }} }}')
    assert read["data"]["journalEntry"] == entry
