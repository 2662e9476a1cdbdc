"""What each signed push from a source system did (`gateway.push_endpoint`), by the sender's
event id: a redelivered event gets the stored answer and changes nothing.

An event is stored once it has an answer that will not change (it was applied, ignored, or
refused for good); one that failed for a reason that may pass (a system that could not be
reached) is not stored, so the sender's retry is processed afresh. Stored per system, not
per company: the company is what the verified push says, and an event id is the sender's.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from .model import Base, Id


class InboundEvent(Base):
    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("system", "event_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    system: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(128))
    body_sha256: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int | None] = mapped_column(Id, ForeignKey("entities.id"))
    status: Mapped[int] = mapped_column(Integer)
    answer: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[str] = mapped_column(String(32))
    signed_at: Mapped[int] = mapped_column(BigInteger)


_T = InboundEvent.__table__


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


async def earlier(engine: AsyncEngine, system: str, event_id: str) -> InboundEvent | None:
    async with engine.connect() as connection:
        row = (await connection.execute(select(_T).where(_T.c.system == system,
                                                          _T.c.event_id == event_id))).first()
    return row


async def remember(engine: AsyncEngine, *, system: str, event_id: str, body: bytes, signed_at: int,
                   entity_id: int | None, status: int, answer: dict) -> tuple[int, dict]:
    """Store what the event did; if another delivery of it was stored first (two at once),
    that one's answer is the event's."""
    row = {"system": system, "event_id": event_id, "body_sha256": body_hash(body),
           "entity_id": entity_id, "status": status, "answer": answer, "signed_at": signed_at,
           "received_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    try:
        async with engine.begin() as connection:
            await connection.execute(_T.insert().values(**row))
    except IntegrityError:
        first = await earlier(engine, system, event_id)
        return first.status, first.answer
    return status, answer
