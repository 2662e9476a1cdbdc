"""`ledgergate dimensions` and `ledgergate journals`: the values lines are tagged with, and
the journals entries are posted in."""

from __future__ import annotations

import argparse

from .books import changes, read_books, run_change
from .options import ENTITY_HELP, command

KINDS = ("DEPARTMENT", "LOCATION", "PROJECT", "CUSTOMER", "VENDOR", "EMPLOYEE", "ITEM", "CLASS")


@changes
def cmd_dimensions_add(args: argparse.Namespace) -> int:
    from ledger import admin

    run_change(args, args.entity, "createDimensionValue", lambda s, record: admin.create_dimension_values(
        s, [(args.kind, args.code, args.name)], record))
    print(f"{args.entity}: added {args.kind} {args.code} {args.name}")
    return 0


@changes
def cmd_dimensions_rename(args: argparse.Namespace) -> int:
    from ledger import admin

    run_change(args, args.entity, "renameDimensionValue", lambda s, record: admin.rename_dimension_value(
        s, args.kind, args.code, args.name, record))
    print(f"{args.entity}: {args.kind} {args.code} is now named {args.name}")
    return 0


def _set_active(active: bool):
    @changes
    def cmd(args: argparse.Namespace) -> int:
        from ledger import admin

        operation = "activateDimensionValue" if active else "deactivateDimensionValue"
        run_change(args, args.entity, operation, lambda s, record: admin.set_dimension_value_active(
            s, args.kind, args.code, active, record))
        print(f"{args.entity}: {args.kind} {args.code} is {'active again' if active else 'inactive'}")
        return 0

    return cmd


@changes
def cmd_dimensions_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from ledger.model import DimensionValue

    stmt = select(DimensionValue).order_by(DimensionValue.kind, DimensionValue.code)
    if args.kind:
        stmt = stmt.where(DimensionValue.kind == args.kind)

    async def listing(session):
        return list(await session.scalars(stmt))

    for v in read_books(args, args.entity, listing):
        print(f"{v.kind}\t{v.code}\t{v.name}\t{'active' if v.active else 'inactive'}")
    return 0


@changes
def cmd_journals_add(args: argparse.Namespace) -> int:
    from ledger import admin

    run_change(args, args.entity, "createJournal",
               lambda s, record: admin.create_journal(s, args.code, args.name, record))
    print(f"{args.entity}: added journal {args.code} {args.name}")
    return 0


def _journal_active(active: bool):
    @changes
    def cmd(args: argparse.Namespace) -> int:
        from ledger import admin

        run_change(args, args.entity, "activateJournal" if active else "deactivateJournal",
                   lambda s, record: admin.set_journal_active(s, args.code, active, record))
        print(f"{args.entity}: journal {args.code} is {'active again' if active else 'inactive'}")
        return 0

    return cmd


def _value_arguments(parser) -> None:
    parser.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    parser.add_argument("kind", metavar="KIND", type=str.upper, choices=KINDS,
                        help="the dimension: " + ", ".join(KINDS))
    parser.add_argument("code", metavar="CODE", help="the value's code, e.g. SALES")


def register(commands) -> None:
    dimensions = commands.add_parser("dimensions", help="dimension values (departments, locations, …)")
    group = dimensions.add_subparsers(dest="dimensions_command", required=True)
    add = command(group, "add", cmd_dimensions_add, "add a dimension value")
    _value_arguments(add)
    add.add_argument("--name", required=True, help="its name, e.g. \"Sales\"")
    rename = command(group, "rename", cmd_dimensions_rename, "give a dimension value a new name")
    _value_arguments(rename)
    rename.add_argument("name", metavar="NAME", help="the new name")
    for name, active, text in (("deactivate", False, "stop a value taking new postings"),
                               ("activate", True, "let an inactive value take postings again")):
        _value_arguments(command(group, name, _set_active(active), text))
    listing = command(group, "list", cmd_dimensions_list, "ENTITY's dimension values, tab-separated")
    listing.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    listing.add_argument("kind", metavar="KIND", nargs="?", type=str.upper, choices=KINDS,
                         help="only this dimension")

    journals = commands.add_parser("journals", help="the journals entries are posted in")
    group = journals.add_subparsers(dest="journals_command", required=True)
    add = command(group, "add", cmd_journals_add, "add a journal")
    add.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    add.add_argument("code", metavar="CODE", help="its code, e.g. GJ")
    add.add_argument("--name", required=True, help="its name, e.g. \"General journal\"")
    for name, active, text in (("deactivate", False, "stop a journal taking new postings"),
                               ("activate", True, "let an inactive journal take postings again")):
        parser = command(group, name, _journal_active(active), text)
        parser.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
        parser.add_argument("code", metavar="CODE", help="the journal's code")
