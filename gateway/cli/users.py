"""`ledgergate users`: web-services users of an entity, with a role."""

from __future__ import annotations

import argparse
import sys

from .options import ENTITY_HELP, USERNAME_HELP, command, identities


def cmd_users_add(args: argparse.Namespace) -> int:
    from ..auth.identities import add_user

    user = identities(args, add_user, args.entity, args.username, args.role)
    print(f"added user {user.username} of {user.entity_code} with role {user.role}", file=sys.stderr)
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from ..auth.identities import list_users

    for user in identities(args, list_users, args.entity):
        status = "active" if user.active else f"deactivated {user.deactivated_at}"
        print(f"{user.entity_code}\t{user.username}\t{user.role}\t{status}")
    return 0


def cmd_users_deactivate(args: argparse.Namespace) -> int:
    from ..auth.identities import deactivate_user

    user = identities(args, deactivate_user, args.entity, args.username)
    print(
        f"deactivated user {user.username} of {user.entity_code}: clients acting as it get no "
        "more tokens and their tokens are refused",
        file=sys.stderr,
    )
    return 0


def cmd_users_activate(args: argparse.Namespace) -> int:
    from ..auth.identities import activate_user

    user = identities(args, activate_user, args.entity, args.username)
    print(
        f"activated user {user.username} of {user.entity_code}: clients acting as it get tokens "
        "again (within 5 s on running gateways)",
        file=sys.stderr,
    )
    return 0


def register(commands) -> None:
    users = commands.add_parser("users", help="web-services users of an entity, with a role")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    user_add = command(users_commands, "add", cmd_users_add, "add a user of ENTITY with --role")
    user_add.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    user_add.add_argument("username", metavar="USERNAME", help="the new user's name within ENTITY")
    user_add.add_argument("--role", required=True, help="a role made by `roles add`: its scopes")
    user_list = command(users_commands, "list", cmd_users_list, "the users of ENTITY, or of all")
    user_list.add_argument("entity", metavar="ENTITY", nargs="?",
                           help=ENTITY_HELP + " (default: every entity)")
    user_deactivate = command(
        users_commands, "deactivate", cmd_users_deactivate,
        "deactivate a user; tokens of clients acting as it are refused",
    )
    user_deactivate.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    user_deactivate.add_argument("username", metavar="USERNAME", help=USERNAME_HELP)
    user_activate = command(
        users_commands, "activate", cmd_users_activate, "activate a deactivated user again"
    )
    user_activate.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    user_activate.add_argument("username", metavar="USERNAME", help=USERNAME_HELP)
