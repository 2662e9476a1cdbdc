"""`ledgergate ledger`: the ledger's posted history."""

from __future__ import annotations

import argparse
import sys

from ..config import ConfigError
from .options import admin_settings, command, run_on_ledger


def cmd_ledger_verify(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from ledger.model import Entity
    from ledger.tenancy import ALL_ENTITIES
    from ledger.verification import verify_chain

    settings = admin_settings(args)

    async def work(db):
        async with db.session(None) as s:
            query = select(Entity.id, Entity.code).order_by(Entity.code).execution_options(**ALL_ENTITIES)
            entities = (await s.execute(query)).all()
        if args.entity and not any(code == args.entity for _, code in entities):
            raise LookupError(f"no entity {args.entity!r}")
        results = []
        for entity_id, code in entities:
            if args.entity in (None, code):
                async with db.session(entity_id) as s:
                    results.append((code, await verify_chain(s, full=args.full)))
        return results

    try:
        results = run_on_ledger(settings, work)
    except LookupError as error:
        raise ConfigError(f"ledger verify: {error.args[0]}") from None
    broken = 0
    for code, result in results:
        walked = "from genesis" if result.full else f"from seq {result.from_seq} (checkpoint of {result.checkpoint_at})"
        if result.ok:
            print(f"{code}\tok\t{result.entries_checked} entries checked {walked}")
        else:
            broken += 1
            print(f"{code}\tBROKEN at {result.first_broken_entry}\t{result.entries_checked} entries checked {walked}")
    if broken:
        print(f"ledgergate: {broken} ledger chain(s) do not hold: entries were altered or removed", file=sys.stderr)
        return 1
    return 0


def register(commands) -> None:
    ledger = commands.add_parser("ledger", help="the ledger's posted history")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    verify = command(
        ledger_commands, "verify", cmd_ledger_verify,
        "verify the entries' hash chains (from the checkpoint; --full: from genesis); "
        "exit 1 naming the first broken entry",
    )
    verify.add_argument("--entity", metavar="CODE", help="only this entity's chain")
    verify.add_argument("--full", action="store_true", help="recheck every entry from the first")
