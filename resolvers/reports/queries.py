"""Report queries: the trial balance, aggregated by the database."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from ledger import model, reports, statements
from ledger.money import from_minor

from ..errors import user_input_error
from ..ledger.dataloaders import AccountByIdLoader
from ..ledger.mutations import DimensionInput
from ..ledger.types import AccountType, DimensionKind
from ..scopes import LEDGER
from .statements import Comparison, Statement
from .types import TrialBalance, TrialBalanceRow


async def _filters(session, dimensions) -> tuple[tuple[str, int], ...]:
    """DimensionInput codes → (kind, value id); an unknown one is BAD_USER_INPUT."""
    from sqlalchemy import select

    found = []
    for d in dimensions or ():
        kind = model.DimensionKind(d.kind).value
        value = await session.scalar(select(model.DimensionValue.id).where(
            model.DimensionValue.kind == kind, model.DimensionValue.code == d.code))
        if value is None:
            raise user_input_error(f"dimensions: no {kind} {d.code!r}", argument="dimensions")
        found.append((kind, value))
    if len({k for k, _ in found}) != len(found):
        raise user_input_error("dimensions names a kind more than once", argument="dimensions")
    return tuple(found)


def _comparisons(compare) -> list[str]:
    names = [Comparison(c).value for c in compare or ()]
    if len(set(names)) != len(names):
        raise user_input_error("compare names a comparison more than once", argument="compare")
    return names


@strawberry.type
class ReportQueries:
    @strawberry.federation.field(
        requires_scopes=LEDGER,
        description="Per account (and per dimension value for each kind in groupBy): the "
        "balance brought forward to `from`, the debits, credits and net of lines dated "
        "from..to inclusive, and the closing balance, summed by the database. Statistical "
        "accounts report by their aggregation (FLOW summed, STOCK as a level)."
    )
    async def trial_balance(
        self,
        info: Info,
        from_: Annotated[dt.date, strawberry.argument(name="from")],
        to: dt.date,
        group_by: list[DimensionKind] | None = None,
        account_type: AccountType | None = None,
    ) -> TrialBalance:
        if to < from_:
            raise user_input_error(f"to ({to}) is before from ({from_})")
        kinds = [model.DimensionKind(k).value for k in group_by or []]
        if len(set(kinds)) != len(kinds):
            raise user_input_error("groupBy names a dimension kind more than once")
        async with info.context.session() as session:
            rows = await reports.trial_balance(
                session,
                from_,
                to,
                kinds,
                model.AccountType(account_type).value if account_type else None,
            )
        accounts = await info.context.loader(AccountByIdLoader).load_many(
            list({r.account_id for r in rows})
        )
        scales = {a.id: a.quantity_scale for a in accounts}
        money_scale = info.context.entity.money_scale
        return TrialBalance(
            from_=from_,
            to=to,
            rows=[
                TrialBalanceRow.from_balance(r, scales[r.account_id], from_, to) for r in rows
            ],
            # Summing the database's per-group sums, not lines.
            total_debit=from_minor(sum(r.debit for r in rows), money_scale),
            total_credit=from_minor(sum(r.credit for r in rows), money_scale),
            total_opening=from_minor(sum(r.opening for r in rows), money_scale),
            total_closing=from_minor(sum(r.closing for r in rows), money_scale),
        )

    @strawberry.federation.field(
        requires_scopes=LEDGER,
        description="Assets, liabilities and equity as of a date, grouped by the reporting "
        "hierarchy, with the year's result not yet closed inside equity, so that total "
        "assets = total liabilities and equity in every column. Optional comparison columns "
        "and a dimension filter (lines tagged with every value given).",
    )
    async def balance_sheet(
        self, info: Info, as_of: dt.date, compare: list[Comparison] | None = None,
        dimensions: list[DimensionInput] | None = None,
    ) -> Statement:
        async with info.context.session() as session:
            found = await statements.balance_sheet(
                session, as_of, _comparisons(compare), await _filters(session, dimensions)
            )
        return await Statement.build(info, found)

    @strawberry.federation.field(
        requires_scopes=LEDGER,
        description="Revenue and expenses of lines dated from..to inclusive, grouped by the "
        "reporting hierarchy, and the net result (revenue − expenses). Optional comparison "
        "columns and a dimension filter.",
    )
    async def income_statement(
        self, info: Info, from_: Annotated[dt.date, strawberry.argument(name="from")], to: dt.date,
        compare: list[Comparison] | None = None, dimensions: list[DimensionInput] | None = None,
    ) -> Statement:
        if to < from_:
            raise user_input_error(f"to ({to}) is before from ({from_})")
        async with info.context.session() as session:
            found = await statements.income_statement(
                session, from_, to, _comparisons(compare), await _filters(session, dimensions)
            )
        return await Statement.build(info, found)
