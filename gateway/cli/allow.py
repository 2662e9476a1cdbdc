"""`ledgergate allow` and `disallow`: the entities' allow-lists of integration clients."""

from __future__ import annotations

import argparse
import sys

from .options import CLIENT_ID_HELP, ENTITY_HELP, command, identities


def cmd_allow(args: argparse.Namespace) -> int:
    from ..auth.identities import allow

    entry = identities(args, allow, args.client_id, args.entity, args.username)
    print(
        f"allowed client {entry.client_id} for {entry.entity_code}, acting as {entry.username}",
        file=sys.stderr,
    )
    return 0


def cmd_disallow(args: argparse.Namespace) -> int:
    from ..auth.identities import disallow

    identities(args, disallow, args.client_id, args.entity)
    print(
        f"client {args.client_id} is no longer allowed for {args.entity}: its tokens for it are "
        "refused",
        file=sys.stderr,
    )
    return 0


def register(commands) -> None:
    allow = command(
        commands, "allow", cmd_allow, "put a client on an entity's allow-list, acting as one of its users"
    )
    allow.add_argument("client_id", metavar="CLIENT_ID", help=CLIENT_ID_HELP)
    allow.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    allow.add_argument("--as", dest="username", metavar="USERNAME", required=True,
                       help="the user of ENTITY the client acts as (its role: the scopes)")
    disallow = command(
        commands, "disallow", cmd_disallow, "take a client off an entity's allow-list"
    )
    disallow.add_argument("client_id", metavar="CLIENT_ID", help=CLIENT_ID_HELP)
    disallow.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
