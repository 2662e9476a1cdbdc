"""`ledgergate audit`: the audit log (tokens, refusals, mutations, sensitive reads)."""

from __future__ import annotations

import argparse
import json
import sys

from ..config import ConfigError
from .options import admin_settings, command, run_on_ledger


def _moment(value: str | None, option: str):
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"audit list: {option} must be an ISO 8601 date or date-time (UTC unless it says "
            f"otherwise), e.g. 2026-03-01T09:00:00Z; got {value!r}"
        ) from None


def cmd_audit_list(args: argparse.Namespace) -> int:
    from ledger.audit import AuditFilter, listing

    if args.limit < 1:
        raise ConfigError(f"audit list: --limit must be at least 1, got {args.limit}")
    where = AuditFilter(
        event=args.event, since=_moment(args.since, "--since"), until=_moment(args.until, "--until"),
        client_id=args.client_id, request_id=args.request_id,
    )
    settings = admin_settings(args)
    try:
        events = run_on_ledger(
            settings, lambda db: listing(db, where, entity=args.entity, limit=args.limit)
        )
    except LookupError as error:
        raise ConfigError(f"audit list: {error.args[0]}") from None
    for event in events:
        if args.json:
            print(json.dumps({
                "id": event.id, "occurredAt": event.occurred_at, "requestId": event.request_id,
                "event": event.event, "outcome": event.outcome, "entity": event.entity,
                "clientId": event.client_id, "username": event.username, "detail": event.detail,
            }, separators=(",", ":"), sort_keys=True))
        else:
            print("\t".join([
                str(event.id), event.occurred_at, event.request_id, event.event, event.outcome,
                event.entity or "-", event.client_id or "-", event.username or "-",
                json.dumps(event.detail, separators=(",", ":"), sort_keys=True),
            ]))
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from ledger.audit import verify

    settings = admin_settings(args)
    try:
        chains = run_on_ledger(settings, lambda db: verify(db, entity=args.entity))
    except LookupError as error:
        raise ConfigError(f"audit verify: {error.args[0]}") from None
    broken = 0
    for chain in chains:
        name = chain.entity or "(no entity)"
        if chain.ok:
            print(f"{name}\tok\t{chain.events_checked} events\thead {chain.head_seq} {chain.head_hash}")
        else:
            broken += 1
            print(f"{name}\tBROKEN at seq {chain.first_broken_seq}\t{chain.events_checked} events "
                  f"checked\thead {chain.head_seq} {chain.head_hash}")
    if broken:
        print(f"ledgergate: {broken} audit chain(s) do not hold: events were altered or removed",
              file=sys.stderr)
        return 1
    print(f"{len(chains)} audit chain(s) hold", file=sys.stderr)
    return 0


def register(commands) -> None:
    from ledger.audit import EVENTS

    audit = commands.add_parser("audit", help="the audit log (tokens, refusals, mutations, sensitive reads)")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_list = command(
        audit_commands, "list", cmd_audit_list,
        "events, newest first, one a line (tab-separated; --json: JSON lines)",
    )
    audit_list.add_argument("--entity", metavar="CODE", help="only this entity's events")
    audit_list.add_argument("--event", choices=EVENTS, help="only events of this kind")
    audit_list.add_argument("--since", metavar="ISO", help="from this moment on (inclusive)")
    audit_list.add_argument("--until", metavar="ISO", help="before this moment (exclusive)")
    audit_list.add_argument("--client-id", metavar="CLIENT_ID",
                            help="only events of this integration client")
    audit_list.add_argument("--request-id", metavar="ID",
                            help="only events of this request (its X-Request-ID)")
    audit_list.add_argument("--limit", type=int, default=100, metavar="N", help="at most N (default 100)")
    audit_list.add_argument("--json", action="store_true", help="one JSON object a line")
    audit_verify = command(
        audit_commands, "verify", cmd_audit_verify,
        "recompute the audit hash chains; exit 1 naming the first broken link",
    )
    audit_verify.add_argument("--entity", metavar="CODE", help="only this entity's chain")
