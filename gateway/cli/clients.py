"""`ledgergate clients`: integration clients (OAuth client credentials)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import ConfigError
from .options import CLIENT_ID_HELP, SCOPES_HELP, command, identities, scope_text

JWKS_HELP = "a JSON file of the client's public JWK set (RSA 2048+ or EC P-256 keys)"


def _jwks_file(path: str) -> str:
    """The public JWK set in the `--jwks` file, checked (`client_keys.parse_client_jwks`), or
    ConfigError naming the file and what is wrong with it."""
    from ..auth.client_keys import ClientKeysError, parse_client_jwks

    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read the JWK set {path}: not UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"cannot read the JWK set {path}: {error.strerror or error}") from None
    try:
        return parse_client_jwks(text)
    except ClientKeysError as error:
        raise ConfigError(f"{path}: {error}") from None


def cmd_clients_add(args: argparse.Namespace) -> int:
    from ..auth.identities import add_client, add_key_client

    if args.jwks is not None:
        jwks = _jwks_file(args.jwks)
        client = identities(args, add_key_client, args.name, args.scopes, jwks)
        print(f"client_id={client.client_id}")
        print(
            f"added client {client.client_id} ({client.name}): it authenticates with "
            "private_key_jwt, signing with a private key of the JWK set given (it has no "
            f"secret); allow the client for an entity with `ledgergate allow {client.client_id} "
            "ENTITY --as USERNAME`",
            file=sys.stderr,
        )
        return 0
    client, secret = identities(args, add_client, args.name, args.scopes)
    print(f"client_id={client.client_id} client_secret={secret}")
    print(
        f"added client {client.client_id} ({client.name}): the secret above is shown only now "
        "(ledgergate keeps only a hash of it); allow the client for an entity with "
        f"`ledgergate allow {client.client_id} ENTITY --as USERNAME`",
        file=sys.stderr,
    )
    return 0


def cmd_clients_list(args: argparse.Namespace) -> int:
    from ..auth.identities import list_allowances, list_clients

    async def both(db):
        return await list_clients(db), await list_allowances(db)

    clients, allowances = identities(args, both)
    entities: dict[str, list[str]] = {}
    for entry in allowances:
        entities.setdefault(entry.client_id, []).append(f"{entry.entity_code} as {entry.username}")
    for client in clients:
        status = f"disabled {client.disabled_at}" if client.disabled else "active"
        allowed = ", ".join(entities.get(client.client_id, [])) or "-"
        print(f"{client.client_id}\t{client.name}\t{status}\t{client.method}\t"
              f"{scope_text(client.allowed_scopes)}\t{allowed}")
    return 0


def cmd_clients_disable(args: argparse.Namespace) -> int:
    from ..auth.identities import disable_client

    client = identities(args, disable_client, args.client_id)
    print(
        f"disabled client {client.client_id} ({client.name}): it gets no more tokens and its "
        "tokens are refused",
        file=sys.stderr,
    )
    return 0


def cmd_clients_enable(args: argparse.Namespace) -> int:
    from ..auth.identities import enable_client

    client = identities(args, enable_client, args.client_id)
    print(
        f"enabled client {client.client_id} ({client.name}): it gets tokens again (within 5 s "
        "on running gateways); reset its secret too if it was disabled for a leak",
        file=sys.stderr,
    )
    return 0


def cmd_clients_reset_secret(args: argparse.Namespace) -> int:
    from ..auth.identities import reset_client_secret

    client, secret = identities(args, reset_client_secret, args.client_id)
    print(f"client_id={client.client_id} client_secret={secret}")
    print(
        f"new secret for client {client.client_id} ({client.name}), shown only now; the old "
        "secret no longer works (tokens already issued do until they expire)",
        file=sys.stderr,
    )
    return 0


def cmd_clients_set_keys(args: argparse.Namespace) -> int:
    from ..auth.identities import set_client_keys

    jwks = _jwks_file(args.jwks)
    client = identities(args, set_client_keys, args.client_id, jwks)
    print(
        f"new keys for client {client.client_id} ({client.name}): assertions signed with a key "
        "not in the set given are refused from now on; the client authenticates with "
        "private_key_jwt only (a secret it had no longer works)",
        file=sys.stderr,
    )
    return 0


def register(commands) -> None:
    clients = commands.add_parser("clients", help="integration clients (OAuth client credentials)")
    clients_commands = clients.add_subparsers(dest="clients_command", required=True)
    client_add = command(
        clients_commands, "add", cmd_clients_add,
        "add a client allowed --scopes; prints its id and secret, the secret only this once "
        "(with --jwks: its id; it authenticates with private_key_jwt and has no secret)",
    )
    client_add.add_argument("name", metavar="NAME", help="a label for people, e.g. the integration")
    client_add.add_argument("--scopes", required=True, help=SCOPES_HELP)
    client_add.add_argument("--jwks", metavar="FILE", help=JWKS_HELP)
    command(clients_commands, "list", cmd_clients_list, "the clients, their scopes and entities (never secrets)")
    client_disable = command(
        clients_commands, "disable", cmd_clients_disable, "disable a client; its tokens are refused"
    )
    client_disable.add_argument("client_id", metavar="CLIENT_ID", help=CLIENT_ID_HELP)
    client_enable = command(
        clients_commands, "enable", cmd_clients_enable, "enable a disabled client again"
    )
    client_enable.add_argument("client_id", metavar="CLIENT_ID", help=CLIENT_ID_HELP)
    client_reset = command(
        clients_commands, "reset-secret", cmd_clients_reset_secret,
        "give a client a new secret (printed only this once); the old one stops working",
    )
    client_reset.add_argument("client_id", metavar="CLIENT_ID", help=CLIENT_ID_HELP)
    client_keys = command(
        clients_commands, "set-keys", cmd_clients_set_keys,
        "replace a client's public keys (private_key_jwt), e.g. to rotate them",
    )
    client_keys.add_argument("client_id", metavar="CLIENT_ID", help=CLIENT_ID_HELP)
    client_keys.add_argument("--jwks", metavar="FILE", required=True, help=JWKS_HELP)
