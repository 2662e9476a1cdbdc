"""`ledgergate accounts` and `ledgergate groups`: an entity's chart of accounts and the
reporting hierarchy its statements are grouped by."""

from __future__ import annotations

import argparse

from .books import changes, read_books, run_change
from .options import ENTITY_HELP, command

TYPES = ("ASSET", "LIABILITY", "EQUITY", "REVENUE", "EXPENSE", "STATISTICAL")


@changes
def cmd_accounts_add(args: argparse.Namespace) -> int:
    from ledger import admin

    spec = admin.NewAccount(
        code=args.code, name=args.name, type=args.type, normal_balance=args.normal_balance,
        unit=args.unit, quantity_scale=args.quantity_scale, aggregation=args.aggregation,
        group=args.group,
    )

    async def work(session, record):
        [account] = await admin.create_accounts(session, [spec], record)
        return account

    account = run_change(args, args.entity, "createAccount", work)
    extra = f", {account.aggregation.lower()} of {account.unit}" if account.unit else ""
    print(f"{args.entity}: added account {account.code} {account.name} ({account.type}, "
          f"{account.normal_balance.lower()}-normal{extra})")
    return 0


@changes
def cmd_accounts_rename(args: argparse.Namespace) -> int:
    from ledger import admin

    run_change(args, args.entity, "updateAccount",
               lambda s, record: admin.update_account(s, args.code, record, name=args.name))
    print(f"{args.entity}: account {args.code} is now named {args.name}")
    return 0


@changes
def cmd_accounts_move(args: argparse.Namespace) -> int:
    from ledger import admin

    run_change(args, args.entity, "updateAccount", lambda s, record: admin.update_account(
        s, args.code, record, group=args.group, ungroup=args.group is None))
    where = f"group {args.group}" if args.group else "no group"
    print(f"{args.entity}: account {args.code} is now in {where}")
    return 0


@changes
def cmd_accounts_deactivate(args: argparse.Namespace) -> int:
    from ledger import admin

    run_change(args, args.entity, "deactivateAccount", lambda s, record: admin.set_account_active(
        s, args.code, False, record, force=args.force))
    print(f"{args.entity}: account {args.code} is inactive (it takes no new postings)")
    return 0


@changes
def cmd_accounts_activate(args: argparse.Namespace) -> int:
    from ledger import admin

    run_change(args, args.entity, "activateAccount",
               lambda s, record: admin.set_account_active(s, args.code, True, record))
    print(f"{args.entity}: account {args.code} is active again")
    return 0


@changes
def cmd_accounts_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from ledger.model import Account, AccountGroup

    async def listing(session):
        groups = {g.id: g.code for g in await session.scalars(select(AccountGroup))}
        return [(a, groups.get(a.group_id)) for a in
                await session.scalars(select(Account).order_by(Account.code))]

    for a, group in read_books(args, args.entity, listing):
        unit = f"{a.unit} ({a.aggregation.lower()})" if a.unit else ""
        print(f"{a.code}\t{a.name}\t{a.type}\t{a.normal_balance}\t{unit}\t{group or ''}\t"
              f"{'active' if a.active else 'inactive'}")
    return 0


@changes
def cmd_groups_add(args: argparse.Namespace) -> int:
    from ledger import admin

    run_change(args, args.entity, "createAccountGroup", lambda s, record: admin.create_group(
        s, args.code, args.name, record, parent=args.parent, position=args.position))
    under = f" under {args.parent}" if args.parent else ""
    print(f"{args.entity}: added account group {args.code} {args.name}{under}")
    return 0


def register(commands) -> None:
    accounts = commands.add_parser("accounts", help="an entity's chart of accounts")
    group = accounts.add_subparsers(dest="accounts_command", required=True)
    add = command(group, "add", cmd_accounts_add, "add an account to ENTITY's chart")
    add.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    add.add_argument("code", metavar="CODE", help="the account's code, e.g. 1000")
    add.add_argument("--name", required=True, help="the account's name, e.g. \"Cash at bank\"")
    add.add_argument("--type", required=True, choices=TYPES, type=str.upper, help="its type")
    add.add_argument("--normal-balance", choices=("DEBIT", "CREDIT"), type=str.upper,
                     help="default: DEBIT for assets, expenses, statistical; CREDIT otherwise")
    add.add_argument("--unit", help="statistical accounts: what a quantity counts (people, GB)")
    add.add_argument("--quantity-scale", type=int, default=0, metavar="N",
                     help="statistical accounts: decimals a quantity may carry, 0-6 (default 0)")
    add.add_argument("--aggregation", choices=("FLOW", "STOCK"), type=str.upper,
                     help="statistical accounts: FLOW sums quantities (default), STOCK records levels")
    add.add_argument("--group", metavar="GROUP", help="its account group's code")
    rename = command(group, "rename", cmd_accounts_rename, "give an account a new name")
    rename.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    rename.add_argument("code", metavar="CODE", help="the account's code")
    rename.add_argument("name", metavar="NAME", help="the new name")
    move = command(group, "move", cmd_accounts_move, "put an account in a group (or, without --group, in none)")
    move.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    move.add_argument("code", metavar="CODE", help="the account's code")
    move.add_argument("--group", metavar="GROUP", help="the group's code; omitted: no group")
    deactivate = command(group, "deactivate", cmd_accounts_deactivate,
                         "stop an account taking postings (refused while it has a balance)")
    deactivate.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    deactivate.add_argument("code", metavar="CODE", help="the account's code")
    deactivate.add_argument("--force", action="store_true", help="even though it has a balance")
    activate = command(group, "activate", cmd_accounts_activate, "let an inactive account take postings again")
    activate.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    activate.add_argument("code", metavar="CODE", help="the account's code")
    listing = command(group, "list", cmd_accounts_list, "ENTITY's accounts, tab-separated")
    listing.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)

    groups = commands.add_parser("groups", help="account groups: the statements' reporting hierarchy")
    group = groups.add_subparsers(dest="groups_command", required=True)
    add = command(group, "add", cmd_groups_add, "add an account group (a heading of the statements)")
    add.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    add.add_argument("code", metavar="CODE", help="the group's code, e.g. CA")
    add.add_argument("--name", required=True, help="its heading, e.g. \"Current assets\"")
    add.add_argument("--parent", metavar="GROUP", help="the group it sits under")
    add.add_argument("--position", type=int, default=0, metavar="N", help="order among its siblings (default 0)")
