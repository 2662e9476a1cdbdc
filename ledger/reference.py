"""Setting up an entity's reference data: the chart of accounts, dimensions, journals, periods.

Used by the demo generator and by tests; each function works inside an entity-scoped
session, except `create_entity`, which creates the scope itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import NotFound
from .fiscal import monthly_periods
from .model import (
    DEFAULT_NORMAL_BALANCE,
    Account,
    AccountType,
    Aggregation,
    DimensionKind,
    DimensionValue,
    Entity,
    Journal,
    NormalBalance,
    Period,
)
from .money import currency_scale
from .tenancy import ALL_ENTITIES


@dataclass(frozen=True)
class AccountSpec:
    code: str
    name: str
    type: AccountType
    unit: str | None = None
    quantity_scale: int = 0
    active: bool = True
    # None: the type's usual side (`model.DEFAULT_NORMAL_BALANCE`).
    normal_balance: NormalBalance | None = None
    # Statistical accounts: FLOW (summed) unless STOCK (a level) is said.
    aggregation: Aggregation | None = None


async def create_entity(
    session: AsyncSession, code: str, name: str, base_currency: str, fiscal_year_start_month: int = 1
) -> int:
    """Create a company; `session` may be unscoped (this is how scopes come to exist)."""
    currency_scale(base_currency)  # refuses unknown currencies
    entity = Entity(
        code=code, name=name, base_currency=base_currency, head_seq=0,
        fiscal_year_start_month=fiscal_year_start_month,
    )
    session.add(entity)
    await session.flush()
    return entity.id


async def entity_codes(db) -> list[str]:
    """The code of every entity, in order: for setting up what spans all of them (a
    client's allow-list in each, say). `db` is a `ledger.store.LedgerDatabase`."""
    async with db.session(None) as session:
        rows = await session.scalars(
            select(Entity.code).order_by(Entity.code).execution_options(**ALL_ENTITIES)
        )
        return list(rows)


async def add_accounts(session: AsyncSession, specs: Iterable[AccountSpec]) -> None:
    for spec in specs:
        statistical = spec.type == AccountType.STATISTICAL
        if statistical != (spec.unit is not None):
            raise ValueError(f"account {spec.code}: statistical accounts, and only they, have a unit")
        if not 0 <= spec.quantity_scale <= 6 or (spec.quantity_scale and not statistical):
            raise ValueError(f"account {spec.code}: quantity_scale is 0-6, statistical accounts only")
        if spec.aggregation is not None and not statistical:
            raise ValueError(f"account {spec.code}: only statistical accounts aggregate as FLOW or STOCK")
        aggregation = (spec.aggregation or Aggregation.FLOW).value if statistical else None
        normal = spec.normal_balance or DEFAULT_NORMAL_BALANCE[spec.type]
        session.add(
            Account(
                code=spec.code,
                name=spec.name,
                type=spec.type.value,
                unit=spec.unit,
                quantity_scale=spec.quantity_scale,
                active=spec.active,
                normal_balance=normal.value,
                aggregation=aggregation,
            )
        )
    await session.flush()


async def add_dimension_values(
    session: AsyncSession, values: Iterable[tuple[DimensionKind, str, str]], *, active: bool = True
) -> None:
    for kind, code, name in values:
        session.add(DimensionValue(kind=kind.value, code=code, name=name, active=active))
    await session.flush()


async def add_journals(session: AsyncSession, journals: Iterable[tuple[str, str]]) -> None:
    for code, name in journals:
        session.add(Journal(code=code, name=name))
    await session.flush()


async def add_monthly_periods(session: AsyncSession, year: int, start_month: int = 1) -> None:
    """Fiscal `year`'s twelve monthly periods (`ledger.fiscal.monthly_periods`)."""
    for span in monthly_periods(year, start_month):
        session.add(
            Period(
                name=span.name,
                start_date=span.start,
                end_date=span.end,
                closed=False,
                fiscal_year=span.fiscal_year,
            )
        )
    await session.flush()


async def close_periods_through(session: AsyncSession, day: dt.date) -> None:
    await session.execute(update(Period).where(Period.end_date <= day).values(closed=True))


async def set_account_active(session: AsyncSession, code: str, active: bool) -> None:
    account = await session.scalar(select(Account).where(Account.code == code))
    if account is None:
        raise NotFound(f"no account {code!r}")
    account.active = active
    await session.flush()


__all__ = [
    "AccountSpec",
    "add_accounts",
    "add_dimension_values",
    "add_journals",
    "add_monthly_periods",
    "close_periods_through",
    "create_entity",
    "set_account_active",
]
