"""`ledgergate periods`: an entity's fiscal periods, their close and reopening, and the
year-end close (`ledger.closing`)."""

from __future__ import annotations

import argparse

from .books import changes, read_books, run_change
from .options import ENTITY_HELP, command


@changes
def cmd_periods_generate(args: argparse.Namespace) -> int:
    from ledger import admin

    periods = run_change(args, args.entity, "generateFiscalYear",
                         lambda s, record: admin.generate_fiscal_year(s, args.year, record))
    print(f"{args.entity}: fiscal {args.year} has periods {periods[0].name} to {periods[-1].name} "
          f"({periods[0].start_date} to {periods[-1].end_date}), all open")
    return 0


@changes
def cmd_periods_close(args: argparse.Namespace) -> int:
    from ledger import closing

    for name in args.names:
        run_change(args, args.entity, "closePeriod",
                   lambda s, record, name=name: closing.close_period(s, name, record))
        print(f"{args.entity}: closed period {name}; it refuses postings")
    return 0


@changes
def cmd_periods_reopen(args: argparse.Namespace) -> int:
    from ledger import closing

    run_change(args, args.entity, "reopenPeriod",
               lambda s, record: closing.reopen_period(s, args.name, args.reason, record))
    print(f"{args.entity}: reopened period {args.name} ({args.reason}); a year-end close of its "
          "year, if any, was reversed")
    return 0


@changes
def cmd_periods_close_year(args: argparse.Namespace) -> int:
    from ledger import closing

    done = run_change(args, args.entity, "closeFiscalYear", lambda s, record: closing.close_fiscal_year(
        s, args.year, record, retained_earnings=args.retained_earnings))
    if done.entry_id is None:
        print(f"{args.entity}: closed fiscal {args.year}; it had no revenue or expense to move")
    else:
        print(f"{args.entity}: closed fiscal {args.year}: the closing entry dated {done.date} moved "
              f"its result, {done.amount} {done.currency} (profit positive), into {done.retained_earnings}")
    return 0


@changes
def cmd_periods_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from ledger.model import Period

    async def listing(session):
        return list(await session.scalars(select(Period).order_by(Period.start_date)))

    for p in read_books(args, args.entity, listing):
        print(f"{p.name}\t{p.start_date}\t{p.end_date}\tfiscal {p.fiscal_year}\t"
              f"{'closed' if p.closed else 'open'}")
    return 0


def register(commands) -> None:
    periods = commands.add_parser("periods", help="fiscal periods: generate, close, reopen, close the year")
    group = periods.add_subparsers(dest="periods_command", required=True)
    generate = command(group, "generate", cmd_periods_generate,
                       "create a fiscal year's twelve monthly periods")
    generate.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    generate.add_argument("year", metavar="YEAR", type=int,
                          help="the fiscal year, named by the calendar year it ends in")
    close = command(group, "close", cmd_periods_close, "close periods: they refuse postings")
    close.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    close.add_argument("names", metavar="PERIOD", nargs="+", help="period names, e.g. 2026-01")
    reopen = command(group, "reopen", cmd_periods_reopen,
                     "reopen a closed period (audited with the reason); reverses its year's close")
    reopen.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    reopen.add_argument("name", metavar="PERIOD", help="the period's name")
    reopen.add_argument("--reason", required=True, help="why, for the audit log")
    year = command(group, "close-year", cmd_periods_close_year,
                   "post the year-end close: revenue and expense into retained earnings")
    year.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
    year.add_argument("year", metavar="YEAR", type=int, help="the fiscal year; its periods must be closed")
    year.add_argument("--retained-earnings", metavar="ACCOUNT",
                      help="the equity account (default: the entity's, see `entities set-retained-earnings`)")
    listing = command(group, "list", cmd_periods_list, "ENTITY's periods, tab-separated")
    listing.add_argument("entity", metavar="ENTITY", help=ENTITY_HELP)
