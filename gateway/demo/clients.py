"""The demo's integration clients: one real OAuth client per role, in both companies.

`ledgergate demo` has no unauthenticated mode: a person or a program calls it with a bearer
token from `/oauth/token`, like any deployment. Each role below is a role of web-services
users (one user per company, named after the role), and one integration client named
`demo <role>` allowed exactly the role's scopes and put on both companies' allow-lists as
that user. Secrets are stored only as hashes, so every start gives each demo client a new
secret and prints it (`demo client <role>: client_id=… client_secret=… scopes=…`).

The roles show the scope model at work:

- auditor: reads everything, the source systems' records and the sales orders included
  (compensation too) and the audit log; posts nothing;
- bi-reader: ledger, statistical data, sales orders and every system's records, but no
  sensitive fields (the HR system's compensation comes back null with FORBIDDEN);
- bill-payments: the accounts-payable system's vendors, bills and payments, nothing else;
- poster: reads the ledger, posts entries and runs sales orders (fulfil, invoice, record
  payments, notes); it reads no source system's records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledger.reference import entity_codes
from ledger.store import LedgerDatabase

from ..auth import identities
from ..auth.scopes import (
    AUDIT_READ,
    DOCUMENTS_READ,
    DOCUMENTS_WRITE,
    LEDGER_POST,
    LEDGER_READ,
    STATISTICAL_READ,
    format_scope,
    parse_scope,
    source_read_scope,
    source_sensitive_scope,
)

CLIENT_PREFIX = "demo "


@dataclass(frozen=True)
class DemoRole:
    name: str
    summary: str
    base: frozenset[str]
    reads: str  # which systems' records: "all", or one system's name, or "" for none
    sensitive: bool = False

    def scopes(self, systems: Iterable[str]) -> frozenset[str]:
        systems = sorted(systems)
        read = systems if self.reads == "all" else [s for s in systems if s == self.reads]
        scopes = set(self.base) | {source_read_scope(s) for s in read}
        if self.sensitive:
            scopes |= {source_sensitive_scope(s) for s in read}
        return frozenset(scopes)


DEMO_ROLES = (
    DemoRole(
        "auditor", "reads everything, sources and audit log included; posts nothing",
        frozenset({LEDGER_READ, STATISTICAL_READ, AUDIT_READ, DOCUMENTS_READ}), "all", sensitive=True,
    ),
    DemoRole(
        "bi-reader", "ledger, statistics, sales orders and source records, without sensitive HR fields",
        frozenset({LEDGER_READ, STATISTICAL_READ, DOCUMENTS_READ}), "all",
    ),
    DemoRole("bill-payments", "the AP system's vendors, bills and payments only", frozenset(), "ap"),
    DemoRole(
        "poster", "reads the ledger, posts entries and runs sales orders",
        frozenset({LEDGER_READ, LEDGER_POST, DOCUMENTS_READ, DOCUMENTS_WRITE}), "",
    ),
)


@dataclass(frozen=True)
class DemoClient:
    role: str
    client_id: str
    secret: str
    scopes: frozenset[str]

    def line(self) -> str:
        return (
            f"demo client {self.role}: client_id={self.client_id} client_secret={self.secret} "
            f"scopes={format_scope(self.scopes)}"
        )


async def provision_demo_clients(db: LedgerDatabase, systems: Iterable[str]) -> list[DemoClient]:
    """Create what is missing of the demo's roles, users, clients and allow-list entries,
    and give every demo client a fresh secret. A role whose stored scopes differ from the
    ones above (a ledger built by another version) is an IdentityError: run
    `ledgergate demo --reset`."""
    systems = list(systems)
    codes = await entity_codes(db)
    roles = {role.name: role for role in await identities.list_roles(db)}
    users = {(u.entity_code, u.username) for u in await identities.list_users(db)}
    clients = {c.name: c for c in await identities.list_clients(db)}
    allowances = {(a.client_id, a.entity_code) for a in await identities.list_allowances(db)}
    made = []
    for role in DEMO_ROLES:
        scopes = role.scopes(systems)
        stored = roles.get(role.name)
        if stored is None:
            await identities.add_role(db, role.name, format_scope(scopes))
        elif stored.scopes != scopes:
            raise identities.IdentityError(
                f"the demo role {role.name!r} grants {format_scope(stored.scopes)!r}, this version "
                f"expects {format_scope(scopes)!r}: run `ledgergate demo --reset`"
            )
        for code in codes:
            if (code, role.name) not in users:
                await identities.add_user(db, code, role.name, role.name)
        client = clients.get(CLIENT_PREFIX + role.name)
        if client is None:
            client, secret = await identities.add_client(db, CLIENT_PREFIX + role.name, format_scope(scopes))
        else:
            client, secret = await identities.reset_client_secret(db, client.client_id)
        for code in codes:
            if (client.client_id, code) not in allowances:
                await identities.allow(db, client.client_id, code, role.name)
        made.append(DemoClient(role.name, client.client_id, secret, parse_scope(format_scope(scopes))))
    return made
