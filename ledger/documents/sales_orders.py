"""Sales orders, stored: created (from the record they came from), then moved through their
lifecycle (`sales_order`). Each change is one transaction that holds the company's write
lock and writes the change, its journal entry if it posts one (the invoice, a payment), its
idempotency row, its audit row (`before_commit`) and one outbox message for every system
that must hear of it (`notify`): all of it, or none of it.

A change is keyed like a posting: the same client repeating a key with the same request
gets the original change back (nothing new is written); with another request, CONFLICT.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..changes import announce
from ..drafts import EntryDraft, LineDraft, SourceRef
from ..errors import Conflict, NotFound, Rejected, Violation
from ..hashing import fingerprint
from ..model import (
    Account,
    AccountType,
    DimensionKind,
    DimensionValue,
    Entity,
    Journal,
    JournalEntry,
)
from ..money import currency_scale, from_minor, to_minor
from ..outbox import OutboxMessage
from ..posting import lock_entity
from ..posting_plan import Posting, batch_error, check_key, plan_postings
from ..posting_write import write_plan
from . import sales_order as rules
from .model import (
    DocumentRequest,
    SalesOrder,
    SalesOrderBook,
    SalesOrderEntry,
    SalesOrderLine,
    SalesOrderNote,
)
from .sales_order import OrderAction, OrderLineDraft, OrderState

TOPIC = "salesOrder"
NOTE_TOPIC = "salesOrderNote"
MAX_NOTE = 4000
LEDGERGATE = "ledgergate"  # the origin of a note written here
# The audit row's writer: called with the session and what changed, before the commit.
BeforeCommit = Callable[[AsyncSession, "Change"], Awaitable[None]]


class InvalidOrder(Rejected):
    what = "The sales order request"


@dataclasses.dataclass(frozen=True)
class OrderDraft:
    customer: str  # a CUSTOMER dimension value's code
    currency: str
    lines: tuple[OrderLineDraft, ...]
    source: SourceRef | None = None


@dataclasses.dataclass(frozen=True)
class Change:
    """What a document write did: the order, the version it left it at, the entry it
    posted (if any), and whether it replayed an earlier request's key."""

    order_id: int
    number: str
    version: int
    entry_id: int | None = None
    replayed: bool = False
    note_id: int | None = None


def order_number(n: int) -> str:
    return f"SO-{n:06d}"


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def set_book(session: AsyncSession, *, journal: str, receivable: str, revenue: str,
                   cash: str) -> SalesOrderBook:
    """Name the journal and accounts the caller's sales orders post to (in the caller's
    transaction): receivable and cash are ASSET accounts, revenue a REVENUE account."""
    journal_id = await session.scalar(select(Journal.id).where(Journal.code == journal))
    wanted = {"receivable": (receivable, "ASSET"), "revenue": (revenue, "REVENUE"),
              "cash": (cash, "ASSET")}
    rows = {a.code: a for a in (await session.scalars(
        select(Account).where(Account.code.in_([c for c, _ in wanted.values()])))).all()}
    found = [] if journal_id is not None else [Violation("journal", f"no journal {journal!r}")]
    ids = {}
    for name, (code, kind) in wanted.items():
        account = rows.get(code)
        if account is None:
            found.append(Violation(name, f"no account {code!r}"))
        elif AccountType(account.type) is not AccountType(kind):
            found.append(Violation(name, f"account {code} is {AccountType(account.type).value}, not {kind}"))
        else:
            ids[name] = account.id
    if found:
        raise InvalidOrder(found)
    book = await session.scalar(select(SalesOrderBook))
    if book is None:
        book = SalesOrderBook(journal_id=journal_id, receivable_account_id=ids["receivable"],
                              revenue_account_id=ids["revenue"], cash_account_id=ids["cash"])
        session.add(book)
    else:
        book.journal_id, book.receivable_account_id = journal_id, ids["receivable"]
        book.revenue_account_id, book.cash_account_id = ids["revenue"], ids["cash"]
    await session.flush()
    return book


async def _replayed(session: AsyncSession, client: str, key: str, request_hash: str) -> Change | None:
    check_key(key)
    row = await session.scalar(select(DocumentRequest).where(
        DocumentRequest.client_id == client, DocumentRequest.key == key))
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise Conflict(f"idempotency key {key!r} was already used with a different request")
    number = await session.scalar(select(SalesOrder.number).where(SalesOrder.id == row.order_id))
    return Change(row.order_id, number, row.version, replayed=True)


async def _finish(session: AsyncSession, order: SalesOrder, client: str, key: str,
                  request_hash: str, notify: Sequence[str], before_commit: BeforeCommit | None,
                  entry_id: int | None = None) -> Change:
    """Record the key, the outbox messages and the audit row of `order`'s change; commit."""
    await session.flush()
    session.add(DocumentRequest(client_id=client, key=key, request_hash=request_hash,
                                order_id=order.id, version=order.version))
    message = await order_message(session, order)
    entity_code = message["company"]
    now = order.updated_at
    for system in notify:
        session.add(OutboxMessage(
            system=system, topic=TOPIC, record_key=order.number, version=order.version,
            # The same for every attempt at this message, and unique to it: the receiver
            # applies it once however often it is delivered.
            idempotency_key=f"ledgergate:{entity_code}:{TOPIC}:{order.number}:v{order.version}:{system}",
            payload=message, state="PENDING", attempts=0, next_attempt_at=now, created_at=now,
        ))
    return await _commit(session, order, Change(order.id, order.number, order.version, entry_id),
                         before_commit)


async def _commit(session: AsyncSession, order: SalesOrder, change: Change,
                  before_commit: BeforeCommit | None) -> Change:
    """The end of every change: announced to subscribers, audited, committed."""
    await session.flush()
    await announce(session, order.entity_id, TOPIC, order.id)
    if before_commit is not None:
        await before_commit(session, change)
    await session.commit()
    return change


async def order_message(session: AsyncSession, order: SalesOrder) -> dict:
    """What other systems are told of an order: its whole status at `version`, so that a
    receiver can apply the newest and ignore anything older."""
    scale = currency_scale(order.currency)
    customer = await session.scalar(select(DimensionValue.code).where(DimensionValue.id == order.customer_id))
    invoice = await session.scalar(
        select(JournalEntry.number).join(SalesOrderEntry, SalesOrderEntry.entry_id == JournalEntry.id)
        .where(SalesOrderEntry.order_id == order.id, SalesOrderEntry.kind == "INVOICE"))

    def money(units: int) -> str:
        return str(from_minor(units, scale))

    company = await session.scalar(select(Entity.code).where(Entity.id == order.entity_id))
    return {
        "company": company, "number": order.number, "version": order.version, "state": order.state,
        "customer": customer, "currency": order.currency, "total": money(order.total),
        "amountInvoiced": money(order.invoiced), "amountPaid": money(order.paid),
        "amountDue": money(order.invoiced - order.paid), "invoiceNumber": invoice,
        "paidOn": order.paid_on, "updatedAt": order.updated_at,
        "source": None if order.source_system is None else {
            "system": order.source_system, "recordType": order.source_record_type,
            "recordId": order.source_record_id,
        },
    }


def _draft_request(draft: OrderDraft) -> dict:
    return {
        "operation": "createSalesOrder", "customer": draft.customer, "currency": draft.currency,
        "lines": [[ln.item, str(ln.quantity), str(ln.unit_price), ln.description, list(ln.dimensions)]
                  for ln in draft.lines],
        "source": None if draft.source is None else dataclasses.astuple(draft.source),
    }


async def create_order(
    session: AsyncSession, draft: OrderDraft, key: str, *, client: str = "",
    notify: Sequence[str] = (), before_commit: BeforeCommit | None = None,
) -> Change:
    """A new OPEN order at version 1. A record (`draft.source`) makes one order: a second
    request for it is a CONFLICT naming the order it made."""
    await lock_entity(session)
    request_hash = fingerprint(_draft_request(draft))
    replay = await _replayed(session, client, key, request_hash)
    if replay is not None:
        await session.commit()
        return replay
    found = rules.check_order(draft.currency, draft.lines)
    customer = await session.scalar(select(DimensionValue).where(
        DimensionValue.kind == DimensionKind.CUSTOMER, DimensionValue.code == draft.customer))
    if customer is None:
        found.append(Violation("customer", f"no customer {draft.customer!r}"))
    elif not customer.active:
        found.append(Violation("customer", f"customer {draft.customer} is inactive"))
    found += await _dimension_violations(session, draft.lines)
    if found:
        raise InvalidOrder(found)
    if draft.source is not None:
        s = draft.source
        made = await session.scalar(select(SalesOrder.number).where(
            SalesOrder.source_system == s.system, SalesOrder.source_record_type == s.record_type,
            SalesOrder.source_record_id == s.record_id))
        if made is not None:
            raise Conflict(f"{s.system} {s.record_type} {s.record_id} already made sales order {made}")
    count = await session.scalar(select(func.count()).select_from(SalesOrder))
    now = _utc_now()
    scale = currency_scale(draft.currency)
    order = SalesOrder(
        number=order_number(count + 1), customer_id=customer.id, currency=draft.currency,
        state=OrderState.OPEN.value, version=1, total=rules.order_total(draft.currency, draft.lines),
        invoiced=0, paid=0, created_at=now, updated_at=now,
        source_system=draft.source and draft.source.system,
        source_record_type=draft.source and draft.source.record_type,
        source_record_id=draft.source and draft.source.record_id,
        source_url=draft.source and draft.source.url,
    )
    session.add(order)
    await session.flush()
    for no, line in enumerate(draft.lines, start=1):
        session.add(SalesOrderLine(
            order_id=order.id, line_no=no, item=line.item, description=line.description,
            quantity=to_minor(line.quantity, rules.QUANTITY_PLACES),
            unit_price=to_minor(line.unit_price, rules.PRICE_PLACES),
            amount=to_minor(rules.line_amount(line, scale), scale),
            dimensions=[list(d) for d in line.dimensions],
        ))
    return await _finish(session, order, client, key, request_hash, notify, before_commit)


async def _dimension_violations(session: AsyncSession, lines: Sequence[OrderLineDraft]) -> list[Violation]:
    wanted = {(kind, code) for line in lines for kind, code in line.dimensions}
    if not wanted:
        return []
    rows = await session.execute(select(DimensionValue.kind, DimensionValue.code, DimensionValue.active)
                                 .where(DimensionValue.code.in_({c for _, c in wanted})))
    known = {(str(k), c): active for k, c, active in rows}
    found = []
    for i, line in enumerate(lines):
        for j, (kind, code) in enumerate(line.dimensions):
            path = f"lines[{i}].dimensions[{j}]"
            if kind == DimensionKind.CUSTOMER.value:
                found.append(Violation(path, "the order's customer is its customer dimension"))
            elif (kind, code) not in known:
                found.append(Violation(path, f"no {kind} {code!r}"))
            elif not known[(kind, code)]:
                found.append(Violation(path, f"{kind} {code} is inactive"))
    return found


async def _order(session: AsyncSession, number: str) -> SalesOrder:
    order = await session.scalar(select(SalesOrder).where(SalesOrder.number == number))
    if order is None:
        raise NotFound(f"no sales order {number!r}")
    return order


async def _check(order: SalesOrder, action: OrderAction) -> None:
    found = rules.check_action(OrderState(order.state), action, order.number)
    if found:
        raise InvalidOrder(found)


def _advance(order: SalesOrder, state: OrderState) -> None:
    if rules.RANK[state] < rules.RANK[OrderState(order.state)]:  # the rules forbid it; belt and braces
        raise AssertionError(f"{order.number} would go back from {order.state} to {state.value}")
    order.state, order.version, order.updated_at = state.value, order.version + 1, _utc_now()


async def _step(session, number, action, request, key, client, notify, before_commit, change):
    """The frame every transition shares: lock, key, order, legality; `change(order)`
    does the rest and returns the entry it posted, if any."""
    entity = await lock_entity(session)
    request_hash = fingerprint({"operation": action.value, "number": number, **request})
    replay = await _replayed(session, client, key, request_hash)
    if replay is not None:
        await session.commit()
        return replay
    order = await _order(session, number)
    await _check(order, action)
    entry_id = await change(order, entity)
    return await _finish(session, order, client, key, request_hash, notify, before_commit, entry_id)


async def fulfil(session: AsyncSession, number: str, key: str, *, client: str = "",
                 notify: Sequence[str] = (), before_commit: BeforeCommit | None = None) -> Change:
    async def change(order, entity):
        _advance(order, OrderState.FULFILLED)
    return await _step(session, number, OrderAction.FULFIL, {}, key, client, notify, before_commit, change)


async def cancel(session: AsyncSession, number: str, key: str, *, client: str = "",
                 notify: Sequence[str] = (), before_commit: BeforeCommit | None = None) -> Change:
    async def change(order, entity):
        _advance(order, OrderState.CANCELLED)
    return await _step(session, number, OrderAction.CANCEL, {}, key, client, notify, before_commit, change)


async def invoice(session: AsyncSession, number: str, date: dt.date, key: str, *, client: str = "",
                  notify: Sequence[str] = (), before_commit: BeforeCommit | None = None) -> Change:
    """Post the order's invoice on `date` (receivable against revenue, each revenue line
    with its order line's dimensions and the customer), linked to the order and to the
    record it came from."""
    async def change(order, entity):
        book = await _book(session, entity)
        lines = (await session.scalars(select(SalesOrderLine).where(SalesOrderLine.order_id == order.id)
                                       .order_by(SalesOrderLine.line_no))).all()
        scale = currency_scale(order.currency)
        customer = (("CUSTOMER", await _customer_code(session, order)),)
        sources = _sources(order)
        revenue = [
            LineDraft(account=book.revenue, credit=from_minor(line.amount, scale),
                      memo=(line.description or line.item)[:500],
                      dimensions=tuple(sorted({*customer, *(tuple(d) for d in line.dimensions)})),
                      sources=sources, **_currency(order, book))
            for line in lines if line.amount
        ]
        receivable = LineDraft(account=book.receivable, debit=from_minor(order.total, scale),
                               memo=f"Sales order {order.number}", dimensions=customer,
                               sources=sources, **_currency(order, book))
        draft = EntryDraft(journal=book.journal, date=date, description=f"Invoice for sales order {order.number}",
                           lines=(receivable, *revenue), source=sources[0] if sources else None)
        entry_id = await _post(session, entity, draft)
        session.add(SalesOrderEntry(order_id=order.id, entry_id=entry_id, kind="INVOICE", amount=order.total))
        order.invoiced = order.total
        _advance(order, OrderState.INVOICED)
        return entry_id
    return await _step(session, number, OrderAction.INVOICE, {"date": date.isoformat()}, key, client,
                       notify, before_commit, change)


async def record_payment(
    session: AsyncSession, number: str, amount: Decimal, currency: str, date: dt.date, key: str, *,
    client: str = "", notify: Sequence[str] = (), before_commit: BeforeCommit | None = None,
) -> Change:
    """Post a payment of `amount` received on `date` (cash against receivable); the order
    is PAID once nothing is due."""
    async def change(order, entity):
        found = rules.check_payment(order.number, order.currency, order.invoiced - order.paid,
                                    amount, currency)
        if found:
            raise InvalidOrder(found)
        book = await _book(session, entity)
        scale = currency_scale(order.currency)
        customer = (("CUSTOMER", await _customer_code(session, order)),)
        sources = _sources(order)
        paid = to_minor(amount, scale)
        shown = from_minor(paid, scale)
        draft = EntryDraft(
            journal=book.journal, date=date, description=f"Payment for sales order {order.number}",
            source=sources[0] if sources else None,
            lines=(
                LineDraft(account=book.cash, debit=shown, dimensions=customer, sources=sources,
                          memo=f"Sales order {order.number}", **_currency(order, book)),
                LineDraft(account=book.receivable, credit=shown, dimensions=customer, sources=sources,
                          memo=f"Sales order {order.number}", **_currency(order, book)),
            ),
        )
        entry_id = await _post(session, entity, draft)
        session.add(SalesOrderEntry(order_id=order.id, entry_id=entry_id, kind="PAYMENT", amount=paid))
        order.paid += paid
        state = rules.state_after(OrderState(order.state), OrderAction.PAY, order.invoiced - order.paid)
        if state is OrderState.PAID:
            order.paid_on = date.isoformat()
        _advance(order, state)
        return entry_id
    return await _step(session, number, OrderAction.PAY,
                       {"amount": str(amount), "currency": currency, "date": date.isoformat()},
                       key, client, notify, before_commit, change)


@dataclasses.dataclass(frozen=True)
class _Book:
    journal: str
    receivable: str
    revenue: str
    cash: str
    base: str  # the company's base currency


async def _book(session: AsyncSession, entity: Entity) -> _Book:
    book = await session.scalar(select(SalesOrderBook))
    if book is None:
        raise InvalidOrder([Violation("", "the company has no sales order book yet: name its "
                                          "journal and accounts first (setSalesOrderBook)")])
    codes = dict((await session.execute(select(Account.id, Account.code).where(Account.id.in_(
        [book.receivable_account_id, book.revenue_account_id, book.cash_account_id])))).all())
    journal = await session.scalar(select(Journal.code).where(Journal.id == book.journal_id))
    return _Book(journal, codes[book.receivable_account_id], codes[book.revenue_account_id],
                 codes[book.cash_account_id], entity.base_currency)


def _currency(order: SalesOrder, book: _Book) -> dict:
    """A line in the order's currency when it is not the company's: priced at the day's
    rate by the posting (`ledger.currency.price_lines`)."""
    return {} if order.currency == book.base else {"currency": order.currency}


def _sources(order: SalesOrder) -> tuple[SourceRef, ...]:
    if order.source_system is None:
        return ()
    return (SourceRef(order.source_system, order.source_record_type, order.source_record_id,
                      order.source_url),)


async def _customer_code(session: AsyncSession, order: SalesOrder) -> str:
    return await session.scalar(select(DimensionValue.code).where(DimensionValue.id == order.customer_id))


async def _post(session: AsyncSession, entity: Entity, draft: EntryDraft) -> int:
    """Post `draft` in the change's transaction (the company's lock is held); a rule it
    breaks (a closed period, a missing rate, an inactive account) refuses the change."""
    plan = await plan_postings(session, entity, [Posting(draft)], max_lines=len(draft.lines) + 1)
    if plan.errors:
        error = batch_error(plan.errors, 1)
        if isinstance(error, Rejected):
            raise InvalidOrder([Violation(f"entry.{v.path}" if v.path else "entry", v.message)
                                for v in error.violations])
        raise error
    await write_plan(session, entity, plan)
    return plan.ids[0]


async def add_note(
    session: AsyncSession, number: str, author: str, text: str, key: str, *, client: str = "",
    origin: str = LEDGERGATE, external_id: str | None = None, notify: Sequence[str] = (),
    before_commit: BeforeCommit | None = None,
) -> Change:
    """A note on order `number`, shared through the outbox with `notify` but never sent back
    to where it came from (`origin`). A pushed note (`external_id`) is added once."""
    await lock_entity(session)
    request_hash = fingerprint({"operation": "addNote", "number": number, "author": author,
                               "text": text, "origin": origin, "externalId": external_id})
    replay = await _replayed(session, client, key, request_hash)
    if replay is not None:
        await session.commit()
        return replay
    found = []
    if not text.strip():
        found.append(Violation("text", "a note needs some text"))
    elif len(text) > MAX_NOTE:
        found.append(Violation("text", f"a note is at most {MAX_NOTE} characters, not {len(text)}"))
    if not author.strip() or len(author) > 128:
        found.append(Violation("author", "a note's author is 1 to 128 characters"))
    if found:
        raise InvalidOrder(found)
    order = await _order(session, number)
    if external_id is not None:
        known = await session.scalar(select(SalesOrderNote.id).where(
            SalesOrderNote.order_id == order.id, SalesOrderNote.origin == origin,
            SalesOrderNote.external_id == external_id))
        if known is not None:
            await session.commit()
            return Change(order.id, order.number, order.version, replayed=True, note_id=known)
    note = SalesOrderNote(order_id=order.id, author=author, text=text, origin=origin,
                          external_id=external_id, created_at=_utc_now())
    session.add(note)
    await session.flush()
    session.add(DocumentRequest(client_id=client, key=key, request_hash=request_hash,
                                order_id=order.id, version=order.version))
    company = await session.scalar(select(Entity.code).where(Entity.id == order.entity_id))
    for system in notify:
        if system == origin:  # never echoed back to where it was written
            continue
        session.add(OutboxMessage(
            system=system, topic=NOTE_TOPIC, record_key=order.number, version=note.id,
            idempotency_key=f"ledgergate:{company}:{NOTE_TOPIC}:{order.number}:n{note.id}:{system}",
            payload={"company": company, "number": order.number, "noteId": f"LG-{note.id}",
                     "author": author, "text": text, "createdAt": note.created_at},
            state="PENDING", attempts=0, next_attempt_at=note.created_at, created_at=note.created_at,
        ))
    return await _commit(session, order, Change(order.id, order.number, order.version, note_id=note.id),
                         before_commit)
