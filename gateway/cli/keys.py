"""`ledgergate keys`: signing keys of the built-in authorization server."""

from __future__ import annotations

import argparse
import sys

from ..config import ConfigError
from .options import admin_settings, command, run_on_database


def cmd_keys_list(args: argparse.Namespace) -> int:
    from ..auth.keystore import list_keys

    settings = admin_settings(args)
    for key in run_on_database(settings, list_keys):
        print(f"{key.kid}\tcreated {key.created_at}\t{key.status}")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    import datetime as dt

    from ..auth.keystore import rotate
    from ..secrets import require_key

    settings = admin_settings(args)
    key = require_key(settings.secrets_key_file, "rotating the signing keys needs")
    ring = run_on_database(settings, lambda engine: rotate(engine, key, dt.datetime.now(dt.UTC)))
    print(ring.current.kid)
    print(
        f"new signing key {ring.current.kid}: running gateways sign with it within 30 seconds; "
        f"the {len(ring.keys) - 1} previous key(s) stay published until retired "
        "(`ledgergate keys retire --expired` once no token they signed can be valid)",
        file=sys.stderr,
    )
    return 0


def cmd_keys_retire(args: argparse.Namespace) -> int:
    import datetime as dt

    from ..auth.keystore import retire, retire_expired

    if args.kid_option is not None:
        if args.kid is not None:
            raise ConfigError("keys retire: name the KID once (as KID or --kid=KID)")
        args.kid = args.kid_option
    if (args.kid is None) == (not args.expired):
        raise ConfigError("keys retire: name one KID, or give --expired")
    settings = admin_settings(args)
    now = dt.datetime.now(dt.UTC)
    if args.expired:
        ttl = settings.oauth.token_ttl
        kids = run_on_database(settings, lambda engine: retire_expired(engine, now, ttl))
        for kid in kids:
            print(kid)
        print(f"retired {len(kids)} signing key(s) that stopped signing over {ttl}s + leeway ago",
              file=sys.stderr)
        return 0
    stored = run_on_database(settings, lambda engine: retire(engine, args.kid, now))
    print(
        f"retired signing key {stored.kid}: it is no longer published and tokens it signed "
        "are refused",
        file=sys.stderr,
    )
    return 0


def register(commands) -> None:
    keys = commands.add_parser(
        "keys", help="signing keys of the built-in authorization server (encrypted in the database)"
    )
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    command(keys_commands, "list", cmd_keys_list, "the keys: current, published or retired")
    command(keys_commands, "rotate", cmd_keys_rotate,
            "make a new current key; the previous ones stay published")
    keys_retire = command(
        keys_commands, "retire", cmd_keys_retire,
        "withdraw key KID (tokens it signed are refused), or every --expired one",
    )
    # A key made before ids had their prefix may begin with "-", which argparse reads as an
    # option: `keys retire --kid=-Abc…` (or `-- -Abc…` last on the line) names it.
    keys_retire.add_argument("kid", metavar="KID", nargs="?", help="a key id (lgk_…)")
    keys_retire.add_argument("--kid", dest="kid_option", metavar="KID",
                             help="the same, as --kid=KID: for an id beginning with '-' (keys "
                             "made before ids had the lgk_ prefix)")
    keys_retire.add_argument(
        "--expired", action="store_true",
        help="every replaced key that stopped signing longer than the token lifetime ago",
    )
