"""Administration mutations: the caller's entity only, `admin:write` (reopening:
`periods:reopen`). Each change and its `admin` audit row commit in one transaction; a
refused change writes nothing and leaves its `admin` row, with the error code, in the
request's trail (written when the request ends), as refused postings do.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from ledger import admin, audit, closing, model

from ..errors import error_code
from ..ledger.mutations import failure_detail
from ..ledger.types import (
    Account,
    DimensionKind,
    DimensionValue,
    Entity,
    Journal,
    Period,
)
from ..ledger.types import AccountGroup as AccountGroupType
from ..scopes import ADMIN, REOPEN
from .types import AccountGroupInput, AccountInput, YearEndClose


async def run_admin(info: Info, operation: str, detail: dict, work):
    """`work(session, record)` in one transaction with its audit row; the result is
    converted to GraphQL inside `work`, while the session is open."""
    trail = info.context.audit

    async def record(session, name: str, change: dict) -> None:
        await audit.append(session, [trail.event(audit.ADMIN, audit.OK, {"operation": name, **change})])

    try:
        async with info.context.session() as session:
            result = await work(session, record)
            await session.commit()
            return result
    except Exception as error:
        trail.add(audit.ADMIN, error_code(error),
                  {"operation": operation, **detail, **failure_detail(error)})
        raise


def _kind(kind: DimensionKind) -> str:
    return model.DimensionKind(kind).value


def _group(group: model.AccountGroup, parent: str | None) -> AccountGroupType:
    return AccountGroupType.from_model(group, parent)


@strawberry.type
class AdminMutations:
    @strawberry.federation.field(requires_scopes=ADMIN, description="Rename the caller's entity.")
    async def rename_entity(self, info: Info, name: str) -> Entity:
        async def work(session, record):
            return Entity.from_model(await admin.rename_entity(session, name, record))
        return await run_admin(info, "renameEntity", {"name": name[:200]}, work)

    @strawberry.federation.field(
        requires_scopes=ADMIN,
        description="The equity account that revenue and expense close into at year end.",
    )
    async def set_retained_earnings_account(self, info: Info, code: str) -> Entity:
        async def work(session, record):
            return Entity.from_model(await admin.set_retained_earnings(session, code, record))
        return await run_admin(info, "setRetainedEarnings", {"account": code[:200]}, work)

    @strawberry.federation.field(requires_scopes=ADMIN, description="Add an account to the chart.")
    async def create_account(self, info: Info, input: AccountInput) -> Account:
        spec = admin.NewAccount(
            code=input.code, name=input.name, type=model.AccountType(input.type).value,
            normal_balance=model.NormalBalance(input.normal_balance).value if input.normal_balance else None,
            unit=input.unit, quantity_scale=input.quantity_scale,
            aggregation=model.Aggregation(input.aggregation).value if input.aggregation else None,
            group=input.group,
        )

        async def work(session, record):
            [account] = await admin.create_accounts(session, [spec], record)
            return Account.from_model(account)
        return await run_admin(info, "createAccount", {"code": input.code[:200]}, work)

    @strawberry.federation.field(
        requires_scopes=ADMIN,
        description="Rename an account or move it in the reporting hierarchy (ungroup: out "
        "of any group). Its code, type, normal balance, unit and aggregation do not change.",
    )
    async def update_account(
        self, info: Info, code: str, name: str | None = None, group: str | None = None,
        ungroup: bool = False,
    ) -> Account:
        async def work(session, record):
            return Account.from_model(
                await admin.update_account(session, code, record, name=name, group=group, ungroup=ungroup)
            )
        return await run_admin(info, "updateAccount", {"code": code[:200]}, work)

    @strawberry.federation.field(
        requires_scopes=ADMIN,
        description="Stop an account taking postings. Refused while a money account has a "
        "balance, unless force.",
    )
    async def deactivate_account(self, info: Info, code: str, force: bool = False) -> Account:
        async def work(session, record):
            return Account.from_model(
                await admin.set_account_active(session, code, False, record, force=force)
            )
        return await run_admin(info, "deactivateAccount", {"code": code[:200], "force": force}, work)

    @strawberry.federation.field(requires_scopes=ADMIN, description="Let an inactive account take postings again.")
    async def activate_account(self, info: Info, code: str) -> Account:
        async def work(session, record):
            return Account.from_model(await admin.set_account_active(session, code, True, record))
        return await run_admin(info, "activateAccount", {"code": code[:200]}, work)

    @strawberry.federation.field(requires_scopes=ADMIN, description="Add a heading to the reporting hierarchy.")
    async def create_account_group(self, info: Info, input: AccountGroupInput) -> AccountGroupType:
        async def work(session, record):
            group = await admin.create_group(
                session, input.code, input.name, record, parent=input.parent, position=input.position
            )
            return _group(group, input.parent)
        return await run_admin(info, "createAccountGroup", {"code": input.code[:200]}, work)

    @strawberry.federation.field(requires_scopes=ADMIN, description="Rename, move or reorder an account group.")
    async def update_account_group(
        self, info: Info, code: str, name: str | None = None, parent: str | None = None,
        position: int | None = None,
    ) -> AccountGroupType:
        async def work(session, record):
            group = await admin.update_group(
                session, code, record, name=name, parent=parent, position=position
            )
            parent_code = None
            if group.parent_id is not None:
                parent_code = (await session.get(model.AccountGroup, group.parent_id)).code
            return _group(group, parent_code)
        return await run_admin(info, "updateAccountGroup", {"code": code[:200]}, work)

    @strawberry.federation.field(requires_scopes=ADMIN)
    async def create_dimension_value(
        self, info: Info, kind: DimensionKind, code: str, name: str
    ) -> DimensionValue:
        async def work(session, record):
            [value] = await admin.create_dimension_values(session, [(_kind(kind), code, name)], record)
            return DimensionValue.from_model(value)
        return await run_admin(info, "createDimensionValue", {"kind": _kind(kind), "code": code[:200]}, work)

    @strawberry.federation.field(requires_scopes=ADMIN)
    async def rename_dimension_value(
        self, info: Info, kind: DimensionKind, code: str, name: str
    ) -> DimensionValue:
        async def work(session, record):
            return DimensionValue.from_model(
                await admin.rename_dimension_value(session, _kind(kind), code, name, record)
            )
        return await run_admin(info, "renameDimensionValue", {"kind": _kind(kind), "code": code[:200]}, work)

    @strawberry.federation.field(requires_scopes=ADMIN, description="Stop a dimension value taking postings.")
    async def deactivate_dimension_value(self, info: Info, kind: DimensionKind, code: str) -> DimensionValue:
        async def work(session, record):
            return DimensionValue.from_model(
                await admin.set_dimension_value_active(session, _kind(kind), code, False, record)
            )
        return await run_admin(info, "deactivateDimensionValue", {"kind": _kind(kind), "code": code[:200]}, work)

    @strawberry.federation.field(requires_scopes=ADMIN)
    async def activate_dimension_value(self, info: Info, kind: DimensionKind, code: str) -> DimensionValue:
        async def work(session, record):
            return DimensionValue.from_model(
                await admin.set_dimension_value_active(session, _kind(kind), code, True, record)
            )
        return await run_admin(info, "activateDimensionValue", {"kind": _kind(kind), "code": code[:200]}, work)

    @strawberry.federation.field(requires_scopes=ADMIN)
    async def create_journal(self, info: Info, code: str, name: str) -> Journal:
        async def work(session, record):
            return Journal.from_model(await admin.create_journal(session, code, name, record))
        return await run_admin(info, "createJournal", {"code": code[:200]}, work)

    @strawberry.federation.field(requires_scopes=ADMIN, description="Stop a journal taking postings.")
    async def deactivate_journal(self, info: Info, code: str) -> Journal:
        async def work(session, record):
            return Journal.from_model(await admin.set_journal_active(session, code, False, record))
        return await run_admin(info, "deactivateJournal", {"code": code[:200]}, work)

    @strawberry.federation.field(requires_scopes=ADMIN)
    async def activate_journal(self, info: Info, code: str) -> Journal:
        async def work(session, record):
            return Journal.from_model(await admin.set_journal_active(session, code, True, record))
        return await run_admin(info, "activateJournal", {"code": code[:200]}, work)

    @strawberry.federation.field(
        requires_scopes=ADMIN,
        description="Create the twelve monthly periods of a fiscal year (named by the calendar "
        "year it ends in), from the entity's fiscal year start month. Refused if any would "
        "overlap a period that exists.",
    )
    async def generate_fiscal_year(self, info: Info, year: int) -> list[Period]:
        async def work(session, record):
            return [Period.from_model(p) for p in await admin.generate_fiscal_year(session, year, record)]
        return await run_admin(info, "generateFiscalYear", {"year": year}, work)

    @strawberry.federation.field(requires_scopes=ADMIN, description="Close a period: it refuses postings from now on.")
    async def close_period(self, info: Info, name: str) -> Period:
        async def work(session, record):
            return Period.from_model(await closing.close_period(session, name, record))
        return await run_admin(info, "closePeriod", {"period": name[:200]}, work)

    @strawberry.federation.field(
        requires_scopes=REOPEN,
        description="Reopen a closed period, giving the reason (audited). In a closed "
        "fiscal year, the year-end close is reversed first.",
    )
    async def reopen_period(self, info: Info, name: str, reason: str) -> Period:
        async def work(session, record):
            return Period.from_model(await closing.reopen_period(session, name, reason, record))
        return await run_admin(info, "reopenPeriod", {"period": name[:200], "reason": reason[:500]}, work)

    @strawberry.federation.field(
        requires_scopes=ADMIN,
        description="Close a fiscal year whose periods are all closed: post, on its last day, "
        "the entry moving every revenue and expense balance into retained earnings (the "
        "account given, else the entity's). Reopening one of its periods reverses it.",
    )
    async def close_fiscal_year(
        self, info: Info, year: int, retained_earnings: str | None = None
    ) -> YearEndClose:
        async def work(session, record):
            await closing.close_fiscal_year(session, year, record, retained_earnings=retained_earnings)
            return YearEndClose.from_model(await closing.in_force(session, year))
        return await run_admin(info, "closeFiscalYear", {"year": year}, work)
