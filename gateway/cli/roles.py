"""`ledgergate roles`: roles of web-services users, the scopes they grant."""

from __future__ import annotations

import argparse
import sys

from .options import SCOPES_HELP, command, identities, scope_text


def cmd_roles_add(args: argparse.Namespace) -> int:
    from ..auth.identities import add_role

    role = identities(args, add_role, args.name, args.scopes)
    print(f"added role {role.name}: {scope_text(role.scopes)}", file=sys.stderr)
    return 0


def cmd_roles_list(args: argparse.Namespace) -> int:
    from ..auth.identities import list_roles

    for role in identities(args, list_roles):
        print(f"{role.name}\t{scope_text(role.scopes)}")
    return 0


def register(commands) -> None:
    roles = commands.add_parser("roles", help="roles of web-services users: the scopes they grant")
    roles_commands = roles.add_subparsers(dest="roles_command", required=True)
    role_add = command(roles_commands, "add", cmd_roles_add, "add a role granting --scopes")
    role_add.add_argument("name", metavar="NAME", help="the role's name, e.g. accountant")
    role_add.add_argument("--scopes", required=True, help=SCOPES_HELP)
    command(roles_commands, "list", cmd_roles_list, "the roles and their scopes")
