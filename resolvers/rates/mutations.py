"""Writing the rates table (`admin:write`), audited like every administrative change."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from ledger import rates as rate_table
from ledger.errors import Rejected, Violation

from ..admin.mutations import run_admin
from ..scopes import ADMIN
from .types import ExchangeRateInput, SetExchangeRatesPayload


@strawberry.type
class RateMutations:
    @strawberry.federation.field(
        requires_scopes=ADMIN,
        description="Add exchange rates, all or none. The same rate again changes nothing; "
        "another rate for a currency, type and date that has one is refused unless replace "
        "(posted lines keep the rate they were priced with).",
    )
    async def set_exchange_rates(
        self, info: Info, rates: list[ExchangeRateInput], replace: bool = False,
    ) -> SetExchangeRatesPayload:
        rows, violations, kept = [], [], []
        for i, r in enumerate(rates):
            try:
                rows.append(rate_table.parsed_rate(r.currency, r.date, r.rate, r.rate_type))
                kept.append(f"rates[{i}]")
            except Rejected as error:
                violations += [Violation(f"rates[{i}].{v.path}", v.message) for v in error.violations]

        async def work(session, record):
            done = await rate_table.import_rates(
                session, rows, record, replace=replace, found=violations,
                paths=kept,
            )
            return SetExchangeRatesPayload(added=done.added, unchanged=done.unchanged, replaced=done.replaced)

        return await run_admin(info, "setExchangeRates", {"rates": len(rates), "replace": replace}, work)
