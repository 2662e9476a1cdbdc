"""`ledgergate schema`: print the GraphQL SDL."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path


def cmd_schema(args: argparse.Namespace) -> int:
    from ..demo.sources import DEMO_SOURCES_FILE, demo_sdl

    sys.stdout.write(asyncio.run(demo_sdl(Path(args.sources) if args.sources else DEMO_SOURCES_FILE)))
    return 0


def register(commands) -> None:
    schema = commands.add_parser("schema", help="print the GraphQL SDL (of the demo sources, or --sources)")
    schema.add_argument("--sources", help="a sources config file (default: the demo's)")
    schema.set_defaults(func=cmd_schema)
