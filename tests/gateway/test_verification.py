"""The hash chain: tampering directly in the database is found and named."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support import post

VERIFY = "{ verifyLedger { ok entriesChecked firstBrokenEntry } }"


async def three_entries(gql):
    for n in range(3):
        await post(gql, key=f"k{n}", description=f"entry {n}")


async def tamper(db, sql, **params):
    """Change posted history the way only someone with database access could: past the
    immutability triggers, which this first disables for the one transaction."""
    async with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            triggers = await conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            for (name,) in triggers.all():
                await conn.execute(text(f"DROP TRIGGER {name}"))
        await conn.execute(text(sql), params)


async def delete_entry(db, number):
    for table, column in (("idempotency_keys", "entry_id"), ("source_links", "entry_id"),
                          ("journal_lines", "entry_id"), ("journal_entries", "id")):
        await tamper(db, f"DELETE FROM {table} WHERE {column} = "
                     "(SELECT id FROM journal_entries WHERE number = :n)", n=number)


async def test_an_untouched_ledger_verifies(gql, world):
    await three_entries(gql)
    assert (await gql(VERIFY))["data"]["verifyLedger"] == {
        "ok": True, "entriesChecked": 3, "firstBrokenEntry": None}


async def test_an_altered_line_amount_names_its_entry(gql, world):
    await three_entries(gql)
    await tamper(world.db,
        "UPDATE journal_lines SET debit = debit + 1 WHERE line_no = 1 AND entry_id = "
        "(SELECT id FROM journal_entries WHERE number = 'JE-0000002' AND entity_id = :e)", e=world.acme)
    assert (await gql(VERIFY))["data"]["verifyLedger"] == {
        "ok": False, "entriesChecked": 2, "firstBrokenEntry": "JE-0000002"}
    # The other entity's chain is its own and still holds.
    assert (await gql(VERIFY, entity="BETA"))["data"]["verifyLedger"]["ok"] is True


async def test_an_altered_description_or_source_is_found(gql, world):
    await three_entries(gql)
    await tamper(world.db, "UPDATE source_links SET record_id = 'SO-X' WHERE entry_id = "
                 "(SELECT id FROM journal_entries WHERE number = 'JE-0000003')")
    assert (await gql(VERIFY))["data"]["verifyLedger"]["firstBrokenEntry"] == "JE-0000003"


async def test_a_deleted_entry_is_named_by_its_missing_number(gql, world):
    await three_entries(gql)
    await delete_entry(world.db, "JE-0000002")
    result = (await gql(VERIFY))["data"]["verifyLedger"]
    assert result == {"ok": False, "entriesChecked": 1, "firstBrokenEntry": "JE-0000002"}


async def test_a_deleted_last_entry_is_found_through_the_head(gql, world):
    await three_entries(gql)
    await delete_entry(world.db, "JE-0000003")
    result = (await gql(VERIFY))["data"]["verifyLedger"]
    assert result == {"ok": False, "entriesChecked": 2, "firstBrokenEntry": "JE-0000003"}


@pytest.mark.parametrize("sql", [
    "UPDATE journal_lines SET debit = debit + 1",
    "UPDATE journal_entries SET description = 'edited'",
    "DELETE FROM source_links",
    "DELETE FROM idempotency_keys",
])
async def test_the_database_itself_refuses_to_change_posted_history(gql, world, sql):
    await three_entries(gql)
    with pytest.raises(DBAPIError) as refused:
        async with world.db.engine.begin() as conn:
            await conn.execute(text(sql))
    assert "posted history" in str(refused.value)
    assert (await gql(VERIFY))["data"]["verifyLedger"]["ok"] is True


INCREMENTAL = "{ verifyLedger { ok entriesChecked firstBrokenEntry full fromEntry checkpointAt } }"


async def test_verification_walks_only_the_entries_after_its_checkpoint(gql, world):
    await three_entries(gql)
    first = (await gql(INCREMENTAL))["data"]["verifyLedger"]
    assert first["ok"] and first["full"] and first["entriesChecked"] == 3 and first["fromEntry"] == "JE-0000001"
    assert first["checkpointAt"] is None
    await post(gql, key="k3", description="entry 3")
    second = (await gql(INCREMENTAL))["data"]["verifyLedger"]
    assert second["ok"] and not second["full"] and second["entriesChecked"] == 1
    assert second["fromEntry"] == "JE-0000004" and second["checkpointAt"]
    third = (await gql(INCREMENTAL))["data"]["verifyLedger"]
    assert third["ok"] and third["entriesChecked"] == 0 and third["fromEntry"] is None


async def test_tampering_after_the_checkpoint_is_caught_incrementally(gql, world):
    await three_entries(gql)
    assert (await gql(VERIFY))["data"]["verifyLedger"]["ok"] is True  # checkpoint at 3
    await post(gql, key="k3", description="entry 3")
    await post(gql, key="k4", description="entry 4")
    await tamper(world.db, "UPDATE journal_entries SET description = 'edited' WHERE number = 'JE-0000005'")
    result = (await gql(INCREMENTAL))["data"]["verifyLedger"]
    assert result["ok"] is False and result["firstBrokenEntry"] == "JE-0000005"
    assert result["full"] is False and result["entriesChecked"] == 2


async def test_tampering_with_the_checkpoint_entry_itself_is_caught(gql, world):
    await three_entries(gql)
    assert (await gql(VERIFY))["data"]["verifyLedger"]["ok"] is True
    await tamper(world.db, "UPDATE journal_entries SET hash = :h WHERE number = 'JE-0000003'", h="0" * 64)
    result = (await gql(VERIFY))["data"]["verifyLedger"]
    assert result["ok"] is False and result["firstBrokenEntry"] == "JE-0000003"


async def test_tampering_before_the_checkpoint_is_caught_by_the_full_recheck(gql, world, tmp_path, capsys):
    from gateway.cli import main

    await three_entries(gql)
    assert (await gql(VERIFY))["data"]["verifyLedger"]["ok"] is True
    await tamper(world.db, "UPDATE journal_entries SET description = 'edited' WHERE number = 'JE-0000002'")
    # The API walks from the checkpoint: what it proves does not reach JE-0000002.
    assert (await gql(INCREMENTAL))["data"]["verifyLedger"]["entriesChecked"] == 0
    config = tmp_path / "lg.toml"
    config.write_text(f'[database]\nurl = "{world.db.engine.url.render_as_string(hide_password=False)}"\n')
    import asyncio
    loop_free = asyncio.get_running_loop().run_in_executor
    code = await loop_free(None, main, ["ledger", "verify", "--config", str(config), "--entity", "ACME", "--full"])
    out = capsys.readouterr().out
    assert code == 1 and "BROKEN at JE-0000002" in out, out
    code = await loop_free(None, main, ["ledger", "verify", "--config", str(config), "--entity", "BETA", "--full"])
    assert code == 0
