"""Starting from the source side: a record, and through it every ledger line it produced."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from .records import resolve_source_record
from .types import SourceRecord


@strawberry.type
class SourceQueries:
    @strawberry.field(
        description="A live record of a configured source system; its ledgerLines lead back "
        "into the ledger."
    )
    async def source_record(
        self,
        info: Info,
        system: str,
        record_type: str,
        record_id: str,
    ) -> Annotated[SourceRecord, strawberry.lazy("resolvers.sources.types")] | None:
        return await resolve_source_record(info, system, record_type, record_id, "Query.sourceRecord")
