"""Ledger queries: the caller's entity, its reference data and its posted entries."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from ledger import model, reads
from ledger.posting_write import entry_number
from ledger.verification import verify_chain

from ..ids import cursor, parse_cursor, parse_global_id
from ..pagination import Connection, connection
from ..scopes import LEDGER
from .dataloaders import EntryPageLoader
from .types import (
    Account,
    AccountGroup,
    AccountType,
    DimensionKind,
    DimensionValue,
    Entity,
    Journal,
    JournalEntry,
    LedgerVerification,
    Node,
    Period,
    load_node,
)


@strawberry.type
class LedgerQueries:
    @strawberry.federation.field(requires_scopes=LEDGER, description="Any object by its global ID, if the caller's entity owns it.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, pk = parse_global_id(id)
        return await load_node(info, type_name, pk)

    @strawberry.federation.field(requires_scopes=LEDGER, description="The company the caller acts for.")
    def entity(self, info: Info) -> Entity:
        return Entity.from_model(info.context.entity)

    @strawberry.federation.field(requires_scopes=LEDGER)
    async def accounts(
        self,
        info: Info,
        type: AccountType | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Account]:
        size = info.context.page_size(first)
        position = parse_cursor(after, str)[0] if after else None
        async with info.context.session() as session:
            rows, has_next = await reads.accounts_page(
                session, model.AccountType(type).value if type else None, size, position
            )
        return connection(rows, has_next, Account.from_model, lambda a: cursor(a.code))

    @strawberry.federation.field(requires_scopes=LEDGER)
    async def account(self, info: Info, code: str) -> Account | None:
        async with info.context.session() as session:
            found = await reads.account_by_code(session, code)
        return Account.from_model(found) if found else None

    @strawberry.federation.field(requires_scopes=LEDGER)
    async def periods(self, info: Info) -> list[Period]:
        async with info.context.session() as session:
            return [Period.from_model(p) for p in await reads.periods(session)]

    @strawberry.federation.field(
        requires_scopes=LEDGER, description="The statements' reporting hierarchy: every "
        "account group, ordered by position then code (each names its parent)."
    )
    async def account_groups(self, info: Info) -> list[AccountGroup]:
        async with info.context.session() as session:
            return [AccountGroup.from_model(g, parent) for g, parent in await reads.account_groups(session)]

    @strawberry.federation.field(requires_scopes=LEDGER, description="The journals, by code.")
    async def journals(self, info: Info) -> list[Journal]:
        async with info.context.session() as session:
            return [Journal.from_model(j) for j in await reads.journals(session)]

    @strawberry.federation.field(requires_scopes=LEDGER)
    async def dimension_values(self, info: Info, kind: DimensionKind) -> list[DimensionValue]:
        async with info.context.session() as session:
            values = await reads.dimension_values(session, model.DimensionKind(kind).value)
        return [DimensionValue.from_model(v) for v in values]

    @strawberry.federation.field(requires_scopes=LEDGER, description="Posted entries in date order, optionally one journal's.")
    async def journal_entries(
        self,
        info: Info,
        from_: Annotated[dt.date | None, strawberry.argument(name="from")] = None,
        to: dt.date | None = None,
        journal: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[JournalEntry]:
        size = info.context.page_size(first)
        position = parse_cursor(after, dt.date, int) if after else None
        # Through a loader: sibling root fields' pages come back in one batch (EntryPageLoader).
        key = (from_, to, journal, size, position)
        rows, has_next = await info.context.loader(EntryPageLoader).load(key)
        return connection(rows, has_next, JournalEntry.from_row, lambda r: cursor(r.date, r.seq))

    @strawberry.federation.field(requires_scopes=LEDGER)
    async def journal_entry(self, info: Info, number: str) -> JournalEntry | None:
        async with info.context.session() as session:
            row = await reads.entry_by_number(session, number)
        return JournalEntry.from_row(row) if row else None

    @strawberry.federation.field(
        requires_scopes=LEDGER,
        description="Verify the entity's hash chain from its last verified checkpoint (the "
        "entries posted since, and the checkpoint entry's own hash), advancing the "
        "checkpoint; names the first entry that no longer matches what was posted. A full "
        "recheck from the first entry is `ledgergate ledger verify --full`."
    )
    async def verify_ledger(self, info: Info) -> LedgerVerification:
        async with info.context.session() as session:
            result = await verify_chain(session)
        walked = result.entries_checked > 0 or not result.ok
        return LedgerVerification(
            ok=result.ok,
            entries_checked=result.entries_checked,
            first_broken_entry=result.first_broken_entry,
            full=result.full,
            from_entry=entry_number(result.from_seq) if walked else None,
            checkpoint_at=result.checkpoint_at,
        )
