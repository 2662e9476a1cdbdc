"""The `ledgergate` command line."""

from __future__ import annotations

import argparse
import logging
import sys

from sources.errors import SourceConfigError

from ..config import ConfigError
from . import (
    accounts,
    allow,
    audit,
    clients,
    db,
    demo,
    dimensions,
    entities,
    keys,
    ledger,
    outbox,
    periods,
    rates,
    roles,
    schema,
    secrets,
    serve,
    setup,
    users,
)
from .demo import DEMO_SEED, DEMO_SYSTEMS, _build_demo

log = logging.getLogger("ledgergate")

# In the order `ledgergate --help` lists them.
GROUPS = (
    demo, serve, db, entities, setup, accounts, dimensions, periods, rates, secrets, keys, roles,
    clients, users, allow, audit, outbox, ledger, schema,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ledgergate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # httpx logs every call to a source system at INFO: that is the access log's job.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Alembic logs its setup and each migration at INFO: `db upgrade` says what it did.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, SourceConfigError) as error:
        print(f"ledgergate: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `ledgergate … | head`: the reader has what it wanted
        sys.stderr.close()
        return 141


__all__ = ["DEMO_SEED", "DEMO_SYSTEMS", "_build_demo", "build_parser", "main"]
