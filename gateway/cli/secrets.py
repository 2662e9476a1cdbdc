"""`ledgergate secrets`: credentials of source systems, encrypted in the database."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from .options import admin_settings, command, run_on_database


def _read_secret_value(label: str) -> str:
    """The value from stdin, or typed twice at a prompt that does not echo; never argv."""
    from ..secrets import SecretsError

    if sys.stdin is None:
        raise SecretsError(f"no value for {label}: give it on stdin")
    if sys.stdin.isatty():
        value = getpass.getpass(f"{label}: ")
        if getpass.getpass(f"{label} (again): ") != value:
            raise SecretsError(f"the two entries of {label} differ; nothing was stored")
        return value
    value = sys.stdin.read()
    # One trailing line break (echo, a here-string, a file's last line) is not the value's.
    return value[:-2] if value.endswith("\r\n") else value[:-1] if value.endswith("\n") else value


def cmd_secrets_keygen(args: argparse.Namespace) -> int:
    from ..secrets import write_key_file

    key = write_key_file(Path(args.out))
    print(
        f"wrote a new secrets key to {args.out} (mode 0600, key id {key.id}); name it with "
        "[secrets] key_file in the gateway config and keep a copy where the database's "
        "backups are not: without it the stored secrets cannot be read",
        file=sys.stderr,
    )
    return 0


def cmd_secrets_set(args: argparse.Namespace) -> int:
    from ..secrets import check_key, check_names, require_key, store_secret

    check_names(args.name, args.key)
    settings = admin_settings(args)
    key = require_key(settings.secrets_key_file, "storing a secret needs")
    run_on_database(settings, lambda engine: check_key(engine, key))  # before asking the value
    value = _read_secret_value(f"{args.name}.{args.key}")
    run_on_database(settings, lambda engine: store_secret(engine, key, args.name, args.key, value))
    print(f"stored {args.name}.{args.key} (encrypted with key id {key.id})", file=sys.stderr)
    return 0


def cmd_secrets_list(args: argparse.Namespace) -> int:
    from ..secrets import list_secrets

    settings = admin_settings(args)
    for stored in run_on_database(settings, list_secrets):
        print(f"{stored.name}\t{stored.key}\tkey id {stored.key_id}\tupdated {stored.updated_at}")
    return 0


def cmd_secrets_delete(args: argparse.Namespace) -> int:
    from ..secrets import SecretsError, check_names, delete_secrets

    check_names(args.name, args.key)
    settings = admin_settings(args)
    deleted = run_on_database(settings, lambda engine: delete_secrets(engine, args.name, args.key))
    what = f"{args.name}.{args.key}" if args.key else f"{args.name}"
    if not deleted:
        raise SecretsError(f"no secret {what} is stored")
    print(f"deleted {deleted} value(s) of {what}", file=sys.stderr)
    return 0


def cmd_secrets_rotate(args: argparse.Namespace) -> int:
    from ..secrets import read_key_file, require_key, rotate_secrets

    settings = admin_settings(args)
    old = require_key(settings.secrets_key_file, "rotating needs")
    new = read_key_file(Path(args.new_key_file))
    rotated = run_on_database(settings, lambda engine: rotate_secrets(engine, old, new))
    print(
        f"re-encrypted {rotated} value(s) with key id {new.id}: configure {args.new_key_file} "
        "as the secrets key now (the old key no longer reads them)",
        file=sys.stderr,
    )
    return 0


def register(commands) -> None:
    secrets = commands.add_parser(
        "secrets", help="credentials of source systems, encrypted in the database"
    )
    secrets_commands = secrets.add_subparsers(dest="secrets_command", required=True)
    keygen = secrets_commands.add_parser("keygen", help="write a new secrets key file (mode 0600)")
    keygen.add_argument("--out", required=True, help="the key file to create (never overwritten)")
    keygen.set_defaults(func=cmd_secrets_keygen)
    secret_set = command(
        secrets_commands, "set", cmd_secrets_set,
        "store a value, read from stdin (or a prompt), of credentials NAME",
    )
    secret_set.add_argument("name", metavar="NAME", help="as in the sources config: credentials = NAME")
    secret_set.add_argument("key", metavar="KEY", help="api_key, client_secret, password, …")
    command(secrets_commands, "list", cmd_secrets_list, "the stored names and keys (never values)")
    secret_delete = command(
        secrets_commands, "delete", cmd_secrets_delete, "delete NAME's value KEY, or all of NAME"
    )
    secret_delete.add_argument("name", metavar="NAME", help="the credentials' name")
    secret_delete.add_argument("key", metavar="KEY", nargs="?",
                               help="the one value to delete (default: every value of NAME)")
    rotate = command(
        secrets_commands, "rotate", cmd_secrets_rotate,
        "re-encrypt every stored value with a new key (from the configured one)",
    )
    rotate.add_argument("--new-key-file", required=True, help="made by `secrets keygen`")
