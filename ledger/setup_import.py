"""Setting up a company's books from CSV files: account groups, the chart of accounts,
dimension values and the opening balances.

Each file is validated whole before anything is written: every bad row is listed with its
row number (the file's line, the header being row 1) and the column, and one bad row
writes nothing. Each import is idempotent:

- groups, accounts, dimension values: a row whose code exists with the same attributes is
  unchanged; one that exists with others is refused (an import never rewrites the chart —
  rename through `ledger.admin`);
- opening balances: the file is posted as ONE balanced entry under an idempotency key made
  from the entity, date, journal and the rows' content, so importing it again returns the
  entry it posted the first time.

The files (UTF-8, comma-separated, a header row; column names are case-insensitive):

- groups: `code,name[,parent,position]` (a parent before its children, or already there);
- chart: `code,name,type[,normal_balance,unit,quantity_scale,aggregation,group]`;
- dimensions: `kind,code,name`;
- opening: `account,debit,credit[,memo]` plus one column per dimension kind to tag a line
  (`department`, `location`, …); amounts in the strict decimal grammar of `ledger.money`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from . import admin
from .drafts import EntryDraft, LineDraft
from .errors import Rejected, Violation
from .model import (
    Account,
    AccountGroup,
    DimensionKind,
    DimensionValue,
    IdempotencyKey,
    JournalEntry,
)
from .money import parse_decimal
from .posting import post_entries
from .posting_plan import Posting

KINDS = ("groups", "chart", "dimensions", "opening")
COLUMNS = {
    "groups": (("code", "name"), ("parent", "position")),
    "chart": (("code", "name", "type"),
              ("normal_balance", "unit", "quantity_scale", "aggregation", "group")),
    "dimensions": (("kind", "code", "name"), ()),
    "opening": (("account", "debit", "credit"),
                ("memo", *(k.value.lower() for k in DimensionKind))),
}
MAX_ROWS = 100_000
# The key space of opening-balance imports (`IdempotencyKey.client_id`): no client's.
OPENING_CLIENT = "setup:opening"
MAX_LISTED = 100  # violations listed in full; the count says how many there were


@dataclass
class ImportResult:
    kind: str
    rows: int
    created: int = 0
    unchanged: int = 0
    entry: str | None = None  # opening: the entry's number
    replayed: bool = False  # opening: the file was imported before


@dataclass(frozen=True)
class Row:
    number: int
    values: dict[str, str]

    def get(self, column: str) -> str | None:
        value = self.values.get(column)
        return value if value not in (None, "") else None


def read_csv(kind: str, text: str) -> list[Row]:
    """The file's rows, or Rejected listing what is wrong with its shape."""
    if kind not in KINDS:
        raise Rejected([Violation("kind", f"must be one of {', '.join(KINDS)}")])
    required, optional = COLUMNS[kind]
    return read_rows(text, required, optional, kind)


def read_rows(text: str, required, optional, kind: str) -> list[Row]:
    """A CSV file's rows with a header naming `required` and some of `optional` columns
    (any case), or Rejected listing what is wrong with its shape; blank lines skipped."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise Rejected([Violation("row 1", "the file is empty; it needs a header row")]) from None
    except csv.Error as error:
        raise Rejected([Violation("row 1", f"not CSV: {error}")]) from None
    names = [h.strip().lower() for h in header]
    problems = [Violation("row 1", f"missing column {c!r}") for c in required if c not in names]
    unknown = [n for n in names if n not in (*required, *optional)]
    if unknown:
        problems.append(Violation("row 1", f"unknown column(s) {', '.join(map(repr, unknown))}; "
                                  f"a {kind} file has {', '.join((*required, *optional))}"))
    if len(set(names)) != len(names):
        problems.append(Violation("row 1", "a column is named twice"))
    if problems:
        raise Rejected(problems)
    rows = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue  # blank lines
            if len(values) != len(names):
                problems.append(Violation(
                    f"row {reader.line_num}", f"has {len(values)} fields; the header has {len(names)}"
                ))
                continue
            rows.append(Row(reader.line_num, {n: v.strip() for n, v in zip(names, values)}))
            if len(rows) > MAX_ROWS:
                raise Rejected([Violation(f"row {reader.line_num}", f"a file has at most {MAX_ROWS} rows")])
    except csv.Error as error:
        problems.append(Violation(f"row {reader.line_num}", f"not CSV: {error}"))
    if problems:
        raise Rejected(problems)
    if not rows:
        raise Rejected([Violation("row 2", "the file has a header and no rows")])
    return rows


def refuse(violations: list[Violation]) -> None:
    """Rejected listing the first MAX_LISTED violations and how many there were."""
    if violations:
        listed = violations[:MAX_LISTED]
        if len(violations) > MAX_LISTED:
            listed.append(Violation("", f"… {len(violations) - MAX_LISTED} more ({len(violations)} in all)"))
        raise Rejected(listed)


def _path(row: Row) -> str:
    return f"row {row.number}: "


def _int(row: Row, column: str, default: int, violations: list[Violation]) -> int:
    text = row.get(column)
    if text is None:
        return default
    if not text.isascii() or not text.lstrip("-").isdigit():
        violations.append(Violation(f"row {row.number}", f"{column}: {text!r} is not a whole number"))
        return default
    return int(text)


async def import_file(
    session: AsyncSession, kind: str, text: str, record: admin.Recorder, *,
    date: dt.date | None = None, journal: str | None = None,
) -> ImportResult:
    """Import one file of `kind` into the session's entity; the caller commits (except for
    opening balances, which post, and so commit, their entry with its audit row)."""
    rows = read_csv(kind, text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    if kind == "groups":
        return await _groups(session, rows, record, digest)
    if kind == "chart":
        return await _chart(session, rows, record, digest)
    if kind == "dimensions":
        return await _dimensions(session, rows, record, digest)
    if date is None or journal is None:
        raise Rejected([Violation("date" if date is None else "journal",
                                  "an opening-balances import needs the entry's date and journal")])
    return await _opening(session, rows, record, date, journal)


async def _groups(session, rows: list[Row], record, digest: str) -> ImportResult:
    violations: list[Violation] = []
    existing = {g.code: g for g in await session.scalars(select(AccountGroup))}
    codes_by_id = {g.id: c for c, g in existing.items()}
    new: list[tuple[Row, str, str, str | None, int]] = []
    seen: set[str] = set()
    unchanged = 0
    for row in rows:
        found: list[Violation] = []
        code, name, parent = row.get("code"), row.get("name") or "", row.get("parent")
        position = _int(row, "position", 0, found)
        found += admin.check_code("code", code) + admin.check_name("name", name)
        if code in seen:
            found.append(Violation("code", f"{code} is given twice"))
        if parent is not None and parent not in existing and parent not in seen:
            found.append(Violation("parent", f"no account group {parent!r} (above this row or already there)"))
        if not found and code in existing:
            g = existing[code]
            if (g.name, codes_by_id.get(g.parent_id), g.position) == (name, parent, position):
                unchanged += 1
            else:
                found.append(Violation("code", f"group {code} exists as {g.name!r} under "
                                       f"{codes_by_id.get(g.parent_id)!r}; the row differs"))
        elif not found:
            new.append((row, code, name, parent, position))
        seen.add(code)
        violations += [Violation(f"row {row.number}", str(v)) for v in found]
    refuse(violations)
    for _, code, name, parent, position in new:
        group = AccountGroup(code=code, name=name, position=position,
                             parent_id=existing[parent].id if parent else None)
        session.add(group)
        await session.flush()
        existing[code] = group
    await record(session, "importGroups", {"file": digest, "rows": len(rows), "created": [n[1] for n in new]})
    return ImportResult("groups", len(rows), created=len(new), unchanged=unchanged)


def _account_spec(row: Row, violations: list[Violation]) -> admin.NewAccount:
    kind = (row.get("type") or "").upper()
    return admin.NewAccount(
        code=row.get("code") or "",
        name=row.get("name") or "",
        type=kind,
        normal_balance=(row.get("normal_balance") or "").upper() or None,
        unit=row.get("unit"),
        quantity_scale=_int(row, "quantity_scale", 0, violations),
        aggregation=(row.get("aggregation") or "").upper() or None,
        group=row.get("group"),
    )


def _same_account(account: Account, spec: admin.NewAccount, group_code: str | None) -> bool:
    wanted = admin._account_row(spec, None)
    return (account.name, account.type, account.normal_balance, account.unit,
            account.quantity_scale, account.aggregation, group_code) == (
        wanted.name, wanted.type, wanted.normal_balance, wanted.unit, wanted.quantity_scale,
        wanted.aggregation, spec.group,
    )


async def _chart(session, rows: list[Row], record, digest: str) -> ImportResult:
    violations: list[Violation] = []
    existing = {a.code: a for a in await session.scalars(select(Account))}
    groups = {g.id: g.code for g in await session.scalars(select(AccountGroup))}
    fresh, unchanged, seen = [], 0, set()
    for row in rows:
        found: list[Violation] = []
        spec = _account_spec(row, found)
        found += admin.check_account(spec)
        if spec.code in seen:
            found.append(Violation("code", f"account {spec.code} is given twice"))
        elif spec.code in existing:
            account = existing[spec.code]
            if found or not _same_account(account, spec, groups.get(account.group_id)):
                found.append(Violation("code", f"account {spec.code} exists as {account.name!r} "
                                       f"({account.type}); the row differs"))
            else:
                unchanged += 1
        else:
            if spec.group and spec.group not in groups.values():
                found.append(Violation("group", f"no account group {spec.group!r}"))
            fresh.append((row, spec))
        seen.add(spec.code)
        violations += [Violation(f"row {row.number}", str(v)) for v in found]
    refuse(violations)
    if fresh:
        await admin.create_accounts(
            session, [s for _, s in fresh], record, operation="importChart",
            paths=[_path(r) for r, _ in fresh],
        )
    else:
        await record(session, "importChart", {"file": digest, "rows": len(rows), "accounts": []})
    return ImportResult("chart", len(rows), created=len(fresh), unchanged=unchanged)


async def _dimensions(session, rows: list[Row], record, digest: str) -> ImportResult:
    violations: list[Violation] = []
    values = []
    for row in rows:
        kind = (row.get("kind") or "").upper()
        if kind not in {k.value for k in DimensionKind}:
            violations.append(Violation(f"row {row.number}", f"kind: {row.get('kind')!r} is not one of "
                                        f"{', '.join(k.value for k in DimensionKind)}"))
        values.append((row, kind, row.get("code") or "", row.get("name") or ""))
    existing = {(v.kind, v.code): v for v in await session.scalars(select(DimensionValue))}
    fresh, unchanged, seen = [], 0, set()
    for row, kind, code, name in values:
        found = admin.check_code("code", code, 64) + admin.check_name("name", name)
        if (kind, code) in seen:
            found.append(Violation("code", f"{kind} {code} is given twice"))
        elif (kind, code) in existing:
            if existing[(kind, code)].name == name:
                unchanged += 1
            else:
                found.append(Violation("code", f"{kind} {code} exists as "
                                       f"{existing[(kind, code)].name!r}; the row differs"))
        elif not found:
            fresh.append((row, kind, code, name))
        seen.add((kind, code))
        violations += [Violation(f"row {row.number}", str(v)) for v in found]
    refuse(violations)
    if fresh:
        await admin.create_dimension_values(
            session, [(k, c, n) for _, k, c, n in fresh], record, operation="importDimensions",
            paths=[_path(r) for r, *_ in fresh],
        )
    else:
        await record(session, "importDimensions", {"file": digest, "rows": len(rows), "values": []})
    return ImportResult("dimensions", len(rows), created=len(fresh), unchanged=unchanged)


def _amount(row: Row, column: str, violations: list[Violation]) -> Decimal | None:
    text = row.get(column)
    if text is None:
        return None
    try:
        return parse_decimal(text)
    except ValueError as error:
        violations.append(Violation(f"row {row.number}", f"{column}: {error}"))
        return None


async def _opening(session, rows: list[Row], record, date: dt.date, journal: str) -> ImportResult:
    violations: list[Violation] = []
    lines: list[LineDraft] = []
    numbers: list[int] = []
    kinds = [k.value for k in DimensionKind]
    for row in rows:
        debit, credit = _amount(row, "debit", violations), _amount(row, "credit", violations)
        if debit is not None and credit is not None and debit == 0:
            debit = None
        if debit is not None and credit is not None and credit == 0:
            credit = None
        dimensions = tuple((k, row.get(k.lower())) for k in kinds if row.get(k.lower()))
        lines.append(LineDraft(row.get("account") or "", debit=debit, credit=credit,
                               memo=row.get("memo"), dimensions=dimensions))
        numbers.append(row.number)
    refuse(violations)
    draft = EntryDraft(journal, date, tuple(lines), "Opening balances")
    content = json.dumps([[l.account, str(l.debit), str(l.credit), l.memo, l.dimensions] for l in lines])
    key = "opening:" + hashlib.sha256(f"{date}|{journal}|{content}".encode()).hexdigest()[:48]
    posted = await session.scalar(
        select(JournalEntry.number)
        .join(IdempotencyKey, IdempotencyKey.entry_id == JournalEntry.id)
        .where(IdempotencyKey.key == key, IdempotencyKey.client_id == OPENING_CLIENT)
    )
    if posted is not None:
        return ImportResult("opening", len(rows), entry=posted, replayed=True)
    # Posting starts its transaction with the entity's write lock (on SQLite, a transaction
    # that read first may not get it): end the read above first.
    await session.rollback()

    async def before_commit(session_, ids: Sequence[int], _numbers) -> None:
        await record(session_, "importOpeningBalances", {
            "date": date.isoformat(), "journal": journal, "rows": len(rows), "entries": list(ids),
        })

    try:
        [entry_id] = await post_entries(
            session, [Posting(draft, key, OPENING_CLIENT)], before_commit=before_commit,
            max_lines=max(len(lines), 1),
        )
    except Rejected as error:
        raise Rejected([_row_violation(v, numbers) for v in error.violations]) from None
    number = await session.scalar(select(JournalEntry.number).where(JournalEntry.id == entry_id))
    return ImportResult("opening", len(rows), created=1, entry=number)


def _row_violation(v: Violation, numbers: list[int]) -> Violation:
    """`lines[3].debit: …` → `row 5: debit: …`; entry-wide rules stay as they are."""
    if v.path.startswith("lines["):
        index, _, rest = v.path[len("lines["):].partition("]")
        if index.isdigit() and int(index) < len(numbers):
            column = rest.lstrip(".") or "line"
            return Violation(f"row {numbers[int(index)]}", f"{column}: {v.message}")
    return v


__all__ = ["KINDS", "ImportResult", "import_file", "read_csv"]
