"""Running a change to one entity's books from the command line (`ledger.admin`,
`ledger.closing`, `ledger.setup_import`): the entity looked up by code, the operator's
`admin` audit row written in the change's transaction, refusals printed one rule a line.

The operator is whoever runs the command on the database's host; the audit row names them
as `operator:<login name>` and carries a request id of its own (`cli-…`).
"""

from __future__ import annotations

import argparse
import getpass
import sys
import uuid

from .options import admin_settings, run_on_ledger

OPERATOR_PREFIX = "operator:"


def operator() -> str:
    try:
        name = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container's uid): still an operator
        name = "unknown"
    return OPERATOR_PREFIX + name


class Refused(Exception):
    """A change the ledger refused: printed, exit status 1."""

    def __init__(self, lines: list[str]):
        super().__init__("; ".join(lines))
        self.lines = lines


async def entity_id_of(db, code: str) -> int:
    from sqlalchemy import select

    from ledger.model import Entity
    from ledger.tenancy import ALL_ENTITIES

    async with db.session(None) as session:
        found = await session.scalar(
            select(Entity.id).where(Entity.code == code).execution_options(**ALL_ENTITIES)
        )
    if found is None:
        raise Refused([f"no entity with code {code!r} (`ledgergate entities list` shows them)"])
    return found


def run_change(args: argparse.Namespace, entity: str, operation: str, work):
    """`work(session, record)` in one transaction of ENTITY's books, committed with its audit
    row; a refusal is audited too (outcome = its code) and raised as `Refused`."""
    from ledger import audit
    from ledger.errors import Conflict, LedgerError, NotFound, Rejected

    request_id = f"cli-{uuid.uuid4()}"
    who = operator()

    async def change(db):
        entity_id = await entity_id_of(db, entity)

        def event(outcome: str, detail: dict) -> audit.Event:
            return audit.Event(audit.ADMIN, outcome, request_id, detail, None, who, entity_id)

        async def record(session, name: str, detail: dict) -> None:
            await audit.append(session, [event(audit.OK, {"operation": name, **detail})])

        try:
            async with db.session(entity_id) as session:
                result = await work(session, record)
                await session.commit()
                return result
        except LedgerError as error:
            code = ("BAD_USER_INPUT" if isinstance(error, Rejected) else
                    "CONFLICT" if isinstance(error, Conflict) else
                    "NOT_FOUND" if isinstance(error, NotFound) else "BAD_USER_INPUT")
            lines = [str(v) for v in error.violations] if isinstance(error, Rejected) else [str(error)]
            await audit.record(db, [event(code, {"operation": operation, "error": code,
                                                  "violations": lines[:50]})])
            raise Refused(lines) from None

    return run_on_ledger(admin_settings(args), change)


def read_books(args: argparse.Namespace, entity: str, read):
    """`read(session)` in ENTITY's books: a look, no change, no audit row."""

    async def look(db):
        async with db.session(await entity_id_of(db, entity)) as session:
            return await read(session)

    return run_on_ledger(admin_settings(args), look)


def refused(error: Refused) -> int:
    for line in error.lines:
        print(f"ledgergate: {line}", file=sys.stderr)
    return 1


def changes(func):
    """Decorate a `cmd_…(args)` whose work may be refused: print the refusal, exit 1."""

    def command(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except Refused as error:
            return refused(error)

    command.__doc__ = func.__doc__
    return command
