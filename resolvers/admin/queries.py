"""Reading the books' closes."""

from __future__ import annotations

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from ledger import model

from ..scopes import LEDGER
from .types import YearEndClose


@strawberry.type
class AdminQueries:
    @strawberry.federation.field(
        requires_scopes=LEDGER,
        description="Every fiscal year close, the undone ones too, by year then time.",
    )
    async def year_end_closes(self, info: Info) -> list[YearEndClose]:
        async with info.context.session() as session:
            rows = await session.scalars(
                select(model.YearEndClose).order_by(model.YearEndClose.fiscal_year, model.YearEndClose.id)
            )
            return [YearEndClose.from_model(c) for c in rows]
