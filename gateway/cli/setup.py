"""`ledgergate setup import`: an entity's groups, chart of accounts, dimension values or
opening balances from a CSV file (`ledger.setup_import`): validated whole, idempotent."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from .books import Refused, changes, run_change
from .options import ENTITY_HELP, command

# A file's kind, told by its header when --kind is not given.
SIGNATURES = (("opening", "account"), ("chart", "type"), ("dimensions", "kind"), ("groups", "code"))


def kind_of(text: str) -> str:
    header = {h.strip().lower() for h in text.lstrip("\ufeff").split("\n", 1)[0].split(",")}
    for kind, column in SIGNATURES:
        if column in header:
            return kind
    raise Refused(["cannot tell the file's kind from its header; give --kind"])


@changes
def cmd_setup_import(args: argparse.Namespace) -> int:
    from ledger import setup_import

    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise Refused([f"cannot read {args.file}: {error}"]) from None
    kind = args.kind or kind_of(text)
    date = None
    if args.date:
        try:
            date = dt.date.fromisoformat(args.date)
        except ValueError:
            raise Refused([f"--date {args.date!r} is not a date (YYYY-MM-DD)"]) from None
    result = run_change(args, args.entity, f"import:{kind}", lambda s, record: setup_import.import_file(
        s, kind, text, record, date=date, journal=args.journal))
    if kind == "opening":
        if result.replayed:
            print(f"{args.entity}: {args.file} was imported before as {result.entry}; nothing new posted")
        else:
            print(f"{args.entity}: posted the opening balances of {args.file} ({result.rows} lines) "
                  f"as {result.entry}")
    else:
        print(f"{args.entity}: imported {args.file} ({kind}): {result.created} created, "
              f"{result.unchanged} unchanged")
    return 0


def register(commands) -> None:
    from ledger.setup_import import KINDS

    setup = commands.add_parser("setup", help="set up an entity's books from CSV files")
    group = setup.add_subparsers(dest="setup_command", required=True)
    imports = command(group, "import", cmd_setup_import,
                      "import groups, accounts, dimension values or opening balances (all or nothing)")
    imports.add_argument("file", metavar="FILE", help="a UTF-8 CSV file with a header row (see README)")
    imports.add_argument("--entity", required=True, metavar="ENTITY", help=ENTITY_HELP)
    imports.add_argument("--kind", choices=KINDS,
                         help="what the file holds (default: told by its header)")
    imports.add_argument("--date", metavar="YYYY-MM-DD", help="opening balances: the entry's date")
    imports.add_argument("--journal", metavar="CODE", help="opening balances: the entry's journal")
