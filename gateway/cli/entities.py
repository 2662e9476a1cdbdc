"""`ledgergate entities`: companies, the unit every ledger row belongs to. Creating one is
the operator's (no token can name an entity that does not exist yet)."""

from __future__ import annotations

import argparse

from .books import changes, run_change
from .options import ENTITY_HELP, admin_settings, command, run_on_ledger


@changes
def cmd_entities_create(args: argparse.Namespace) -> int:
    from ledger import admin, audit
    from ledger.errors import Rejected
    from ledger.reference import create_entity

    from .books import Refused, entity_id_of, operator

    try:
        admin.check_entity(args.code, args.name, args.currency, args.fiscal_year_start)
    except Rejected as error:
        raise Refused([str(v) for v in error.violations]) from None

    async def create(db):
        try:
            await entity_id_of(db, args.code)
        except Refused:
            pass
        else:
            raise Refused([f"an entity with code {args.code!r} already exists"])
        async with db.session(None) as session:
            entity_id = await create_entity(
                session, args.code, args.name, args.currency, args.fiscal_year_start
            )
            await session.commit()
        await audit.record(db, [audit.Event(
            audit.ADMIN, audit.OK, "cli-create-entity", {
                "operation": "createEntity", "code": args.code, "name": args.name,
                "baseCurrency": args.currency, "fiscalYearStartMonth": args.fiscal_year_start,
            }, None, operator(), entity_id,
        )])

    run_on_ledger(admin_settings(args), create)
    print(f"created entity {args.code} ({args.name}), base currency {args.currency}, fiscal "
          f"years starting in month {args.fiscal_year_start}")
    return 0


@changes
def cmd_entities_rename(args: argparse.Namespace) -> int:
    from ledger import admin

    run_change(args, args.entity, "renameEntity",
               lambda s, record: admin.rename_entity(s, args.name, record))
    print(f"renamed entity {args.entity} to {args.name}")
    return 0


@changes
def cmd_entities_retained_earnings(args: argparse.Namespace) -> int:
    from ledger import admin

    run_change(args, args.entity, "setRetainedEarnings",
               lambda s, record: admin.set_retained_earnings(s, args.account, record))
    print(f"{args.entity}: revenue and expense close into account {args.account}")
    return 0


def cmd_entities_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from ledger.model import Entity
    from ledger.tenancy import ALL_ENTITIES

    async def listing(db):
        async with db.session(None) as session:
            return list(await session.scalars(
                select(Entity).order_by(Entity.code).execution_options(**ALL_ENTITIES)
            ))

    for e in run_on_ledger(admin_settings(args), listing):
        print(f"{e.code}\t{e.name}\t{e.base_currency}\tfiscal year from month {e.fiscal_year_start_month}"
              f"\t{e.head_seq} entries")
    return 0


def register(commands) -> None:
    entities = commands.add_parser("entities", help="companies: create, rename, list")
    group = entities.add_subparsers(dest="entities_command", required=True)
    create = command(group, "create", cmd_entities_create, "create an entity (a company with its own books)")
    create.add_argument("code", metavar="CODE", help="its code, e.g. NEWCO: 1-32 letters, digits, . _ -")
    create.add_argument("--name", required=True, help="its name, e.g. \"New Co Ltd\"")
    create.add_argument("--currency", required=True, metavar="ISO", help="its base currency, e.g. EUR")
    create.add_argument("--fiscal-year-start", type=int, default=1, metavar="MONTH",
                        help="the month (1-12) its fiscal years start in (default 1, January)")
    rename = command(group, "rename", cmd_entities_rename, "give an entity a new name")
    rename.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    rename.add_argument("name", metavar="NAME", help="the new name")
    retained = command(group, "set-retained-earnings", cmd_entities_retained_earnings,
                       "name the equity account revenue and expense close into at year end")
    retained.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    retained.add_argument("account", metavar="ACCOUNT", help="an active equity account's code")
    command(group, "list", cmd_entities_list, "the entities, their currency and fiscal year start")
