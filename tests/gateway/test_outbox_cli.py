"""`ledgergate outbox list` and `ledgergate outbox retry` on the database under test."""

import asyncio
import json

import pytest

from gateway.cli import main
from ledger import outbox
from ledger.outbox import DEAD, PENDING, OutboxMessage

T0 = "2026-12-05T12:00:00.000000Z"


@pytest.fixture
def cli(world, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LEDGERGATE_DATABASE_URL", raising=False)
    url = world.db.engine.url.render_as_string(hide_password=False)
    config = tmp_path / "lg.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')

    async def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = await asyncio.to_thread(main, [*argv, "--config", str(config)])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


async def _messages(world):
    for entity, record, state in ((world.acme, "SO-1", DEAD), (world.acme, "SO-2", PENDING),
                                  (world.beta, "SO-1", DEAD)):
        async with world.db.session(entity) as s:
            s.add(OutboxMessage(system="crm", topic="salesOrder", record_key=record, version=1,
                                idempotency_key=f"{entity}:{record}", payload={}, state=state,
                                attempts=3 if state == DEAD else 0, next_attempt_at=T0,
                                created_at=T0, last_error="HTTP 500\tboom" if state == DEAD else None))
            await s.commit()


async def test_list_shows_each_message_and_the_counts(world, cli):
    await _messages(world)
    code, out, err = await cli("outbox", "list")
    assert code == 0 and err.strip() == "1 pending, 0 delivered, 2 dead"
    rows = [line.split("\t") for line in out.splitlines()]
    assert [(r[1], r[4], r[6], r[9]) for r in rows] == [
        ("BETA", "SO-1", "DEAD", "HTTP 500 boom"), ("ACME", "SO-2", "PENDING", "-"),
        ("ACME", "SO-1", "DEAD", "HTTP 500 boom")]
    code, out, _ = await cli("outbox", "list", "--state", "DEAD", "--entity", "ACME", "--json")
    [row] = [json.loads(line) for line in out.splitlines()]
    assert (row["entity"], row["record"], row["attempts"], row["nextAttemptAt"]) == ("ACME", "SO-1", 3, None)


async def test_retry_brings_dead_messages_back_and_names_what_it_could_not(world, cli):
    await _messages(world)
    listed = [json.loads(line) for line in (await cli("outbox", "list", "--json"))[1].splitlines()]
    ids = {(m["entity"], m["record"]): m["id"] for m in listed}
    code, out, err = await cli("outbox", "retry", str(ids[("ACME", "SO-1")]), str(ids[("ACME", "SO-2")]))
    assert code == 1 and out.split() == [str(ids[("ACME", "SO-1")])]
    assert f"not dead (or not there): {ids[('ACME', 'SO-2')]}" in err
    code, out, _ = await cli("outbox", "retry", "--all", "--entity", "BETA")
    assert code == 0 and out.split() == [str(ids[("BETA", "SO-1")])]
    assert await outbox.backlog(world.db.engine) == {"PENDING": 3, "DELIVERED": 0, "DEAD": 0}


@pytest.mark.parametrize("argv,words", [
    (("outbox", "retry"), "name the dead messages' ids, or --all"),
    (("outbox", "retry", "--all", "1"), "not both"),
    (("outbox", "list", "--entity", "NOPE"), "no entity 'NOPE'"),
    (("outbox", "list", "--limit", "0"), "--limit must be at least 1"),
])
async def test_bad_requests_exit_2_and_change_nothing(world, cli, argv, words):
    await _messages(world)
    code, _, err = await cli(*argv)
    assert code == 2 and words in err
    assert await outbox.backlog(world.db.engine) == {"PENDING": 1, "DELIVERED": 0, "DEAD": 2}
