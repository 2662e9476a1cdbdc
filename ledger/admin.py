"""Administration of a company's books: the entity, its chart of accounts and reporting
groups, dimension values, journals and fiscal periods (their close is `ledger.closing`).

Each operation runs in an entity-confined session (`ledger.tenancy`), validates its whole
request first (every broken rule a `Violation`, raised together as `Rejected`; an existing
code is a `Conflict`; an unknown one `NotFound`), then writes, records its audit row with
`record` in the same transaction, and leaves the commit to the caller, so that a change
and its audit row commit together or not at all. The GraphQL mutations (`resolvers.admin`)
and the command line (`gateway.cli`) both call these functions; neither has rules of its
own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import Conflict, NotFound, Rejected, Violation
from .fiscal import monthly_periods
from .model import (
    DEFAULT_NORMAL_BALANCE,
    Account,
    AccountGroup,
    AccountType,
    Aggregation,
    DimensionKind,
    DimensionValue,
    Entity,
    Journal,
    JournalLine,
    NormalBalance,
    Period,
)
from .money import currency_scale, from_minor
from .tenancy import ENTITY_KEY

# record(session, operation, detail): the audit row of a change, in its transaction.
Recorder = Callable[[AsyncSession, str, dict], Awaitable[None]]

CODE_RULE = "1 to {n} characters: letters, digits, '.', '_' or '-', starting with a letter or digit"
_CODE = {n: re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,%d}" % (n - 1), re.ASCII) for n in (32, 64)}
MAX_NAME = 200
MAX_QUANTITY_SCALE = 6


def check_code(path: str, code: object, length: int = 32) -> list[Violation]:
    if not isinstance(code, str) or _CODE[length].fullmatch(code) is None:
        return [Violation(path, f"must be {CODE_RULE.format(n=length)}")]
    return []


def check_name(path: str, name: object) -> list[Violation]:
    if not isinstance(name, str) or not name.strip():
        return [Violation(path, "must not be empty")]
    if len(name) > MAX_NAME:
        return [Violation(path, f"must be at most {MAX_NAME} characters")]
    if name != name.strip() or any(unicodedata.category(c).startswith("C") for c in name):
        return [Violation(path, "must not begin or end with spaces or contain control characters")]
    return []


def _raise(violations: Sequence[Violation]) -> None:
    if violations:
        raise Rejected(list(violations))


def _refuse(violations: list[Violation], existing: list[Violation]) -> None:
    """Codes that exist already alone are a Conflict (the thing is there); with any other
    broken rule, one Rejected lists them all."""
    if existing and not violations:
        # One thing asked for: its message says it all; several: each with its place.
        raise Conflict(existing[0].message if len(existing) == 1 and existing[0].path == "code"
                       else "; ".join(str(v) for v in existing))
    _raise(violations + existing)


async def current_entity(session: AsyncSession) -> Entity:
    entity = await session.get(Entity, session.info[ENTITY_KEY])
    if entity is None:
        raise NotFound(f"entity {session.info[ENTITY_KEY]} does not exist")
    return entity


# --- entities -------------------------------------------------------------------------------


def check_entity(code: str, name: str, base_currency: str, fiscal_year_start_month: int) -> None:
    violations = check_code("code", code) + check_name("name", name)
    try:
        currency_scale(base_currency)
    except ValueError as error:
        violations.append(Violation("baseCurrency", str(error)))
    if not isinstance(fiscal_year_start_month, int) or not 1 <= fiscal_year_start_month <= 12:
        violations.append(Violation("fiscalYearStartMonth", "must be a month, 1 to 12"))
    _raise(violations)


async def rename_entity(session: AsyncSession, name: str, record: Recorder) -> Entity:
    _raise(check_name("name", name))
    entity = await current_entity(session)
    before, entity.name = entity.name, name
    await session.flush()
    await record(session, "renameEntity", {"before": before, "name": name})
    return entity


async def set_retained_earnings(session: AsyncSession, code: str, record: Recorder) -> Entity:
    """Name the equity account revenue and expense close into (`ledger.closing`)."""
    account = await account_by_code(session, code)
    if account.type != AccountType.EQUITY.value or not account.active:
        raise Rejected([Violation(
            "retainedEarnings", f"account {code} is {account.type.lower()}"
            f"{'' if account.active else ', inactive'}: retained earnings is an active equity account",
        )])
    entity = await current_entity(session)
    entity.retained_earnings_account_id = account.id
    await session.flush()
    await record(session, "setRetainedEarnings", {"account": code})
    return entity


# --- account groups -------------------------------------------------------------------------


async def group_by_code(session: AsyncSession, code: str, path: str = "group") -> AccountGroup:
    group = await session.scalar(select(AccountGroup).where(AccountGroup.code == code))
    if group is None:
        raise NotFound(f"{path}: no account group {code!r}")
    return group


async def create_group(
    session: AsyncSession, code: str, name: str, record: Recorder, *,
    parent: str | None = None, position: int = 0,
) -> AccountGroup:
    _raise(check_code("code", code) + check_name("name", name))
    if await session.scalar(select(AccountGroup.id).where(AccountGroup.code == code)):
        raise Conflict(f"account group {code} already exists")
    parent_id = (await group_by_code(session, parent, "parent")).id if parent else None
    group = AccountGroup(code=code, name=name, parent_id=parent_id, position=position)
    session.add(group)
    await session.flush()
    await record(session, "createAccountGroup",
                 {"code": code, "name": name, "parent": parent, "position": position})
    return group


async def update_group(
    session: AsyncSession, code: str, record: Recorder, *,
    name: str | None = None, parent: str | None = None, position: int | None = None,
) -> AccountGroup:
    group = await group_by_code(session, code, "code")
    changes: dict = {}
    if name is not None:
        _raise(check_name("name", name))
        group.name = changes["name"] = name
    if parent is not None:
        new_parent = await group_by_code(session, parent, "parent")
        # A group may not sit under itself or under one of its own descendants.
        ancestor: AccountGroup | None = new_parent
        while ancestor is not None:
            if ancestor.id == group.id:
                raise Rejected([Violation("parent", f"{parent} is {code} or lies under it")])
            ancestor = await session.get(AccountGroup, ancestor.parent_id) if ancestor.parent_id else None
        group.parent_id = new_parent.id
        changes["parent"] = parent
    if position is not None:
        group.position = changes["position"] = position
    await session.flush()
    await record(session, "updateAccountGroup", {"code": code, **changes})
    return group


# --- accounts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAccount:
    """An account to create. `normal_balance` None: its type's usual side; `aggregation`
    None on a statistical account: FLOW."""

    code: str
    name: str
    type: str
    normal_balance: str | None = None
    unit: str | None = None
    quantity_scale: int = 0
    aggregation: str | None = None
    group: str | None = None


def _enum(path: str, enum, value) -> tuple[object, list[Violation]]:
    try:
        return enum(value), []
    except ValueError:
        names = ", ".join(m.value for m in enum)
        return None, [Violation(path, f"{value!r} is not one of {names}")]


def check_account(spec: NewAccount, path: str = "") -> list[Violation]:
    """Every rule a new account breaks, without looking at the database."""
    violations = check_code(f"{path}code", spec.code) + check_name(f"{path}name", spec.name)
    kind, found = _enum(f"{path}type", AccountType, spec.type)
    violations += found
    if spec.normal_balance is not None:
        violations += _enum(f"{path}normalBalance", NormalBalance, spec.normal_balance)[1]
    if kind is None:
        return violations
    statistical = kind == AccountType.STATISTICAL
    if statistical:
        if not spec.unit or not spec.unit.strip():
            violations.append(Violation(f"{path}unit", "a statistical account needs a unit (people, GB, rooms)"))
        elif len(spec.unit) > 32 or spec.unit != spec.unit.strip():
            violations.append(Violation(f"{path}unit", "must be 1 to 32 characters, no spaces at either end"))
        if not isinstance(spec.quantity_scale, int) or not 0 <= spec.quantity_scale <= MAX_QUANTITY_SCALE:
            violations.append(Violation(f"{path}quantityScale", f"must be 0 to {MAX_QUANTITY_SCALE}"))
        if spec.aggregation is not None:
            violations += _enum(f"{path}aggregation", Aggregation, spec.aggregation)[1]
    else:
        for name, value, empty in (("unit", spec.unit, None), ("quantityScale", spec.quantity_scale, 0),
                                   ("aggregation", spec.aggregation, None)):
            if value != empty:
                violations.append(Violation(f"{path}{name}", "statistical accounts only"))
    return violations


def _account_row(spec: NewAccount, group_id: int | None) -> Account:
    kind = AccountType(spec.type)
    statistical = kind == AccountType.STATISTICAL
    return Account(
        code=spec.code,
        name=spec.name,
        type=kind.value,
        unit=spec.unit if statistical else None,
        quantity_scale=spec.quantity_scale if statistical else 0,
        active=True,
        normal_balance=(spec.normal_balance or DEFAULT_NORMAL_BALANCE[kind].value),
        aggregation=(spec.aggregation or Aggregation.FLOW.value) if statistical else None,
        group_id=group_id,
    )


async def create_accounts(
    session: AsyncSession, specs: Sequence[NewAccount], record: Recorder, *,
    operation: str = "createAccount", paths: Sequence[str] | None = None,
) -> list[Account]:
    """Create accounts, all or none: every violation of every spec is listed (`paths[i]`
    prefixes spec i's, e.g. "rows[3]."), codes taken already or twice are Conflicts."""
    paths = list(paths) if paths is not None else ["" if len(specs) == 1 else f"accounts[{i}]."
                                                   for i in range(len(specs))]
    violations = [v for spec, path in zip(specs, paths) for v in check_account(spec, path)]
    codes = [s.code for s in specs]
    taken = set(await session.scalars(select(Account.code).where(Account.code.in_(codes))))
    seen: set[str] = set()
    existing = []
    for spec, path in zip(specs, paths):
        if spec.code in taken:
            existing.append(Violation(f"{path}code", f"account {spec.code} already exists"))
        elif spec.code in seen:
            violations.append(Violation(f"{path}code", f"account {spec.code} is given twice"))
        seen.add(spec.code)
    wanted = {s.group for s in specs if s.group}
    groups = dict((await session.execute(
        select(AccountGroup.code, AccountGroup.id).where(AccountGroup.code.in_(wanted))
    )).all()) if wanted else {}
    for spec, path in zip(specs, paths):
        if spec.group and spec.group not in groups:
            violations.append(Violation(f"{path}group", f"no account group {spec.group!r}"))
    _refuse(violations, existing)
    rows = [_account_row(spec, groups.get(spec.group)) for spec in specs]
    session.add_all(rows)
    await session.flush()
    await record(session, operation, {"accounts": [
        {"code": s.code, "name": s.name, "type": s.type, "normalBalance": r.normal_balance,
         "unit": r.unit, "quantityScale": r.quantity_scale, "aggregation": r.aggregation,
         "group": s.group}
        for s, r in zip(specs, rows)
    ]})
    return rows


async def account_by_code(session: AsyncSession, code: str) -> Account:
    account = await session.scalar(select(Account).where(Account.code == code))
    if account is None:
        raise NotFound(f"no account {code!r}")
    return account


async def update_account(
    session: AsyncSession, code: str, record: Recorder, *,
    name: str | None = None, group: str | None = None, ungroup: bool = False,
) -> Account:
    """Rename an account or move it in the reporting hierarchy. Its code, type, normal
    balance, unit and aggregation are what posted lines mean: they do not change."""
    account = await account_by_code(session, code)
    changes: dict = {}
    if name is not None:
        _raise(check_name("name", name))
        changes["before"] = account.name
        account.name = changes["name"] = name
    if group is not None:
        account.group_id = (await group_by_code(session, group)).id
        changes["group"] = group
    elif ungroup:
        account.group_id = None
        changes["group"] = None
    await session.flush()
    await record(session, "updateAccount", {"code": code, **changes})
    return account


async def account_balance(session: AsyncSession, account: Account) -> int:
    """All-time debit − credit (money accounts) or quantity sum (statistical), minor units."""
    column = JournalLine.quantity if account.type == AccountType.STATISTICAL.value else (
        JournalLine.debit - JournalLine.credit
    )
    total = await session.scalar(
        select(func.coalesce(func.sum(column), 0)).where(JournalLine.account_id == account.id)
    )
    return int(total or 0)


async def set_account_active(
    session: AsyncSession, code: str, active: bool, record: Recorder, *, force: bool = False
) -> Account:
    """Deactivate (no new postings) or reactivate an account. A money account with a
    balance is not deactivated unless `force`: its balance would stay on the statements
    with nothing able to clear it."""
    account = await account_by_code(session, code)
    if account.active == active:
        raise Conflict(f"account {code} is already {'active' if active else 'inactive'}")
    balance = 0
    if not active and account.type != AccountType.STATISTICAL.value:
        balance = await account_balance(session, account)
        if balance and not force:
            entity = await current_entity(session)
            shown = from_minor(balance, currency_scale(entity.base_currency))
            raise Rejected([Violation(
                "code", f"account {code} has a balance of {shown} {entity.base_currency} "
                "(debit positive); clear it first, or deactivate with force",
            )])
    account.active = active
    await session.flush()
    await record(session, "activateAccount" if active else "deactivateAccount",
                 {"code": code, "force": force, "balanceMinorUnits": balance})
    return account


# --- dimension values -----------------------------------------------------------------------


async def create_dimension_values(
    session: AsyncSession, values: Sequence[tuple[str, str, str]], record: Recorder, *,
    operation: str = "createDimensionValue", paths: Sequence[str] | None = None,
) -> list[DimensionValue]:
    """Create (kind, code, name) values, all or none."""
    paths = list(paths) if paths is not None else ["" if len(values) == 1 else f"values[{i}]."
                                                   for i in range(len(values))]
    violations: list[Violation] = []
    for (kind, code, name), path in zip(values, paths):
        violations += _enum(f"{path}kind", DimensionKind, kind)[1]
        violations += check_code(f"{path}code", code, 64) + check_name(f"{path}name", name)
    codes = {code for _, code, _ in values}
    taken = set((await session.execute(
        select(DimensionValue.kind, DimensionValue.code).where(DimensionValue.code.in_(codes))
    )).all())
    seen: set[tuple[str, str]] = set()
    existing = []
    for (kind, code, _), path in zip(values, paths):
        if (kind, code) in taken:
            existing.append(Violation(f"{path}code", f"{kind} {code} already exists"))
        elif (kind, code) in seen:
            violations.append(Violation(f"{path}code", f"{kind} {code} is given twice"))
        seen.add((kind, code))
    _refuse(violations, existing)
    rows = [DimensionValue(kind=kind, code=code, name=name, active=True) for kind, code, name in values]
    session.add_all(rows)
    await session.flush()
    await record(session, operation, {"values": [
        {"kind": kind, "code": code, "name": name} for kind, code, name in values
    ]})
    return rows


async def dimension_value(session: AsyncSession, kind: str, code: str) -> DimensionValue:
    value = await session.scalar(
        select(DimensionValue).where(DimensionValue.kind == kind, DimensionValue.code == code)
    )
    if value is None:
        raise NotFound(f"no {kind} {code!r}")
    return value


async def rename_dimension_value(
    session: AsyncSession, kind: str, code: str, name: str, record: Recorder
) -> DimensionValue:
    _raise(check_name("name", name))
    value = await dimension_value(session, kind, code)
    before, value.name = value.name, name
    await session.flush()
    await record(session, "renameDimensionValue", {"kind": kind, "code": code, "before": before, "name": name})
    return value


async def set_dimension_value_active(
    session: AsyncSession, kind: str, code: str, active: bool, record: Recorder
) -> DimensionValue:
    value = await dimension_value(session, kind, code)
    if value.active == active:
        raise Conflict(f"{kind} {code} is already {'active' if active else 'inactive'}")
    value.active = active
    await session.flush()
    await record(session, "activateDimensionValue" if active else "deactivateDimensionValue",
                 {"kind": kind, "code": code})
    return value


# --- journals -------------------------------------------------------------------------------


async def create_journal(session: AsyncSession, code: str, name: str, record: Recorder) -> Journal:
    _raise(check_code("code", code) + check_name("name", name))
    if await session.scalar(select(Journal.id).where(Journal.code == code)):
        raise Conflict(f"journal {code} already exists")
    journal = Journal(code=code, name=name, active=True)
    session.add(journal)
    await session.flush()
    await record(session, "createJournal", {"code": code, "name": name})
    return journal


async def set_journal_active(
    session: AsyncSession, code: str, active: bool, record: Recorder
) -> Journal:
    journal = await session.scalar(select(Journal).where(Journal.code == code))
    if journal is None:
        raise NotFound(f"no journal {code!r}")
    if journal.active == active:
        raise Conflict(f"journal {code} is already {'active' if active else 'inactive'}")
    journal.active = active
    await session.flush()
    await record(session, "activateJournal" if active else "deactivateJournal", {"code": code})
    return journal


# --- periods --------------------------------------------------------------------------------

MIN_YEAR, MAX_YEAR = 1900, 2999


async def generate_fiscal_year(session: AsyncSession, year: int, record: Recorder) -> list[Period]:
    """Fiscal `year`'s twelve monthly periods, by the entity's fiscal year start month.
    Refused if any of them would overlap a period that exists."""
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise Rejected([Violation("year", f"must be a year from {MIN_YEAR} to {MAX_YEAR}")])
    entity = await current_entity(session)
    spans = monthly_periods(year, entity.fiscal_year_start_month)
    first, last = spans[0].start, spans[-1].end
    clash = await session.scalar(
        select(Period.name)
        .where(Period.start_date <= last, Period.end_date >= first)
        .order_by(Period.start_date)
        .limit(1)
    )
    if clash is not None:
        raise Conflict(
            f"fiscal {year} ({first.isoformat()} to {last.isoformat()}) overlaps period {clash}, "
            "which exists"
        )
    rows = [
        Period(name=s.name, start_date=s.start, end_date=s.end, closed=False, fiscal_year=year)
        for s in spans
    ]
    session.add_all(rows)
    await session.flush()
    await record(session, "generateFiscalYear", {
        "year": year, "from": first.isoformat(), "to": last.isoformat(),
        "periods": [s.name for s in spans],
    })
    return rows


__all__ = [
    "NewAccount",
    "Recorder",
    "account_by_code",
    "check_account",
    "check_entity",
    "create_accounts",
    "create_dimension_values",
    "create_group",
    "create_journal",
    "generate_fiscal_year",
    "rename_dimension_value",
    "rename_entity",
    "set_account_active",
    "set_dimension_value_active",
    "set_journal_active",
    "set_retained_earnings",
    "update_account",
    "update_group",
]
