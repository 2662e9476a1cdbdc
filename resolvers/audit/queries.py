"""`Query.auditEvents`: the caller's entity's audit log, newest first."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from ledger import audit

from ..ids import cursor, parse_cursor
from ..pagination import Connection, connection
from ..scopes import AUDIT
from .types import AuditEvent, AuditEventFilter


@strawberry.type
class AuditQueries:
    @strawberry.federation.field(
        requires_scopes=AUDIT,
        description="The audit log of the caller's entity, newest first: tokens issued and "
        "refused, refused bearer tokens, fields denied, mutations, sensitive reads.",
    )
    async def audit_events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: AuditEventFilter | None = None,
    ) -> Connection[AuditEvent]:
        size = info.context.page_size(first)
        before_id = parse_cursor(after, int)[0] if after else None
        where = filter.to_filter() if filter else audit.AuditFilter()
        # The session is confined to the caller's entity (`ledger.tenancy`): another
        # entity's events, and those of no entity, are never selected.
        async with info.context.session() as session:
            rows, has_next = await audit.page(session, where, size, before_id)
        return connection(rows, has_next, AuditEvent.from_row, lambda r: cursor(r.id))
