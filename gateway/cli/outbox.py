"""`ledgergate outbox`: the messages waiting for, delivered to or given up on by the systems
that must hear of the ledger's changes (`ledger.outbox`)."""

from __future__ import annotations

import argparse
import json
import sys

from ..config import ConfigError
from .options import admin_settings, command, run_on_ledger

STATES = ("PENDING", "DELIVERED", "DEAD")


async def _entity_id(db, code: str | None) -> int | None:
    if code is None:
        return None
    from sqlalchemy import select

    from ledger.model import Entity

    async with db.engine.connect() as connection:
        found = await connection.scalar(select(Entity.id).where(Entity.code == code))
    if found is None:
        raise LookupError(f"no entity {code!r}")
    return found


def cmd_outbox_list(args: argparse.Namespace) -> int:
    from ledger import outbox

    if args.limit < 1:
        raise ConfigError(f"outbox list: --limit must be at least 1, got {args.limit}")

    async def work(db):
        entity_id = await _entity_id(db, args.entity)
        return (await outbox.listing(db.engine, state=args.state, entity_id=entity_id, limit=args.limit),
                await outbox.backlog(db.engine))

    try:
        rows, counts = run_on_ledger(admin_settings(args), work)
    except LookupError as error:
        raise ConfigError(f"outbox list: {error.args[0]}") from None
    for row in rows:
        if args.json:
            print(json.dumps({
                "id": row.id, "entity": row.entity, "system": row.system, "topic": row.topic,
                "record": row.record_key, "version": row.version, "state": row.state,
                "attempts": row.attempts, "nextAttemptAt": row.next_attempt_at if row.state == "PENDING" else None,
                "deliveredAt": row.delivered_at, "lastError": row.last_error,
            }, separators=(",", ":"), sort_keys=True))
        else:
            when = row.delivered_at if row.state == "DELIVERED" else row.next_attempt_at
            print("\t".join([str(row.id), row.entity, row.system, row.topic, row.record_key,
                             f"v{row.version}", row.state, str(row.attempts), when or "-",
                             (row.last_error or "-").replace("\t", " ").replace("\n", " ")]))
    print(f"{counts['PENDING']} pending, {counts['DELIVERED']} delivered, {counts['DEAD']} dead",
          file=sys.stderr)
    return 0


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    from ledger import outbox

    if not args.all and not args.ids:
        raise ConfigError("outbox retry: name the dead messages' ids, or --all")
    if args.all and args.ids:
        raise ConfigError("outbox retry: either ids or --all, not both")

    async def work(db):
        entity_id = await _entity_id(db, args.entity)
        async with db.engine.begin() as connection:
            return await outbox.retry_dead(connection, ids=args.ids, entity_id=entity_id)

    try:
        retried = run_on_ledger(admin_settings(args), work)
    except LookupError as error:
        raise ConfigError(f"outbox retry: {error.args[0]}") from None
    missing = sorted(set(args.ids) - set(retried))
    for message_id in retried:
        print(message_id)
    print(f"{len(retried)} dead message(s) pending again", file=sys.stderr)
    if missing:
        print(f"ledgergate: not dead (or not there): {', '.join(map(str, missing))}", file=sys.stderr)
        return 1
    return 0


def register(commands) -> None:
    group = commands.add_parser("outbox", help="messages to other systems: list them, retry dead ones")
    sub = group.add_subparsers(dest="outbox_command", required=True)
    listing = command(sub, "list", cmd_outbox_list,
                      "messages, newest first, one a line (tab-separated; --json: JSON lines); "
                      "the counts by state on stderr")
    listing.add_argument("--state", choices=STATES, help="only messages in this state")
    listing.add_argument("--entity", metavar="CODE", help="only this entity's messages")
    listing.add_argument("--limit", type=int, default=100, metavar="N", help="at most N (default 100)")
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    retry = command(sub, "retry", cmd_outbox_retry,
                    "send dead messages again: PENDING, due now, with a fresh retry schedule")
    retry.add_argument("ids", nargs="*", type=int, metavar="ID", help="the dead messages to retry")
    retry.add_argument("--all", action="store_true", help="every dead message")
    retry.add_argument("--entity", metavar="CODE", help="only this entity's messages")
