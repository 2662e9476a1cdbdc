"""`ledgergate rates`: an entity's exchange rates (`ledger.rates`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .books import Refused, changes, read_books, run_change
from .options import ENTITY_HELP, command


@changes
def cmd_rates_import(args: argparse.Namespace) -> int:
    from ledger import rates

    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise Refused([f"cannot read {args.file}: {error}"]) from None

    async def work(session, record):
        rows, problems = rates.parse_rates_csv(text)
        return await rates.import_rates(session, rows, record, replace=args.replace, found=problems)

    done = run_change(args, args.entity, "setExchangeRates", work)
    print(f"{args.entity}: imported {args.file}: {done.added} added, {done.unchanged} unchanged, "
          f"{done.replaced} replaced")
    return 0


@changes
def cmd_rates_list(args: argparse.Namespace) -> int:
    from ledger import rates

    async def listing(session):
        return await rates.rates(session, args.currency)

    for r in read_books(args, args.entity, listing):
        print(f"{r.currency}\t{r.rate_type}\t{r.rate_date}\t{r.rate}")
    return 0


def register(commands) -> None:
    group = commands.add_parser("rates", help="exchange rates of an entity's foreign currencies")
    sub = group.add_subparsers(dest="rates_command", required=True)
    imports = command(sub, "import", cmd_rates_import,
                      "import rates from CSV: currency,date,rate[,rate_type] (all or nothing)")
    imports.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    imports.add_argument("file", metavar="FILE", help="a UTF-8 CSV file with a header row")
    imports.add_argument("--replace", action="store_true",
                         help="replace a rate that exists with another value (posted lines keep theirs)")
    listing = command(sub, "list", cmd_rates_list, "ENTITY's rates, tab-separated")
    listing.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    listing.add_argument("--currency", metavar="ISO", help="only this currency")
