"""Reading sales orders, in batches (one statement per batch of orders)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..model import DimensionValue
from ..outbox import OutboxMessage
from .model import SalesOrder, SalesOrderEntry, SalesOrderLine, SalesOrderNote


async def orders_page(session: AsyncSession, *, state: str | None, first: int,
                      after: int | None) -> tuple[list[tuple[SalesOrder, str]], bool]:
    """Orders by number (their id order), `first` after id `after`, with the customer's code."""
    statement = (select(SalesOrder, DimensionValue.code)
                 .join(DimensionValue, DimensionValue.id == SalesOrder.customer_id)
                 .order_by(SalesOrder.id).limit(first + 1))
    if state is not None:
        statement = statement.where(SalesOrder.state == state)
    if after is not None:
        statement = statement.where(SalesOrder.id > after)
    rows = [tuple(r) for r in (await session.execute(statement)).all()]
    return rows[:first], len(rows) > first


async def order_by_number(session: AsyncSession, number: str) -> tuple[SalesOrder, str] | None:
    row = (await session.execute(
        select(SalesOrder, DimensionValue.code)
        .join(DimensionValue, DimensionValue.id == SalesOrder.customer_id)
        .where(SalesOrder.number == number))).first()
    return tuple(row) if row else None


async def order_by_id(session: AsyncSession, order_id: int) -> tuple[SalesOrder, str] | None:
    row = (await session.execute(
        select(SalesOrder, DimensionValue.code)
        .join(DimensionValue, DimensionValue.id == SalesOrder.customer_id)
        .where(SalesOrder.id == order_id))).first()
    return tuple(row) if row else None


async def lines_by_orders(session: AsyncSession, order_ids: Sequence[int]) -> list[SalesOrderLine]:
    return list((await session.scalars(
        select(SalesOrderLine).where(SalesOrderLine.order_id.in_(order_ids))
        .order_by(SalesOrderLine.order_id, SalesOrderLine.line_no))).all())


async def entries_by_orders(session: AsyncSession, order_ids: Sequence[int]) -> list[SalesOrderEntry]:
    return list((await session.scalars(
        select(SalesOrderEntry).where(SalesOrderEntry.order_id.in_(order_ids))
        .order_by(SalesOrderEntry.order_id, SalesOrderEntry.entry_id))).all())


async def messages_by_records(session: AsyncSession, topic: str,
                              record_keys: Sequence[str]) -> list[OutboxMessage]:
    return list((await session.scalars(
        select(OutboxMessage).where(OutboxMessage.topic == topic,
                                    OutboxMessage.record_key.in_(record_keys))
        .order_by(OutboxMessage.record_key, OutboxMessage.version, OutboxMessage.system))).all())


async def notes_by_orders(session: AsyncSession, order_ids: Sequence[int]) -> list[SalesOrderNote]:
    return list((await session.scalars(
        select(SalesOrderNote).where(SalesOrderNote.order_id.in_(order_ids))
        .order_by(SalesOrderNote.order_id, SalesOrderNote.id))).all())
