"""Announcing committed changes to whoever listens (GraphQL subscriptions), from inside the
change's own transaction, so that an announcement exists if and only if the change does.

On PostgreSQL an announcement is a `NOTIFY` on `CHANNEL` in the change's transaction:
PostgreSQL delivers it to every listening connection — every gateway process — when, and
only if, the transaction commits, in commit order. On SQLite (one process) it waits in the
session and goes to this process's listeners (`Announcements`) once the session commits,
and is dropped if it rolls back.

An announcement is text: `<entity id>:<topic>:<key>` (`3:salesOrder:17`); listeners read
the current state themselves, confined to their caller's entity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import ARRAY, Text, bindparam, event, text
from sqlalchemy.orm import Session

from .tenancy import LedgerSession

CHANNEL = "ledgergate_changes"
LISTENERS_KEY = "ledgergate_announcements"  # session.info: this database's `Announcements`
_PENDING_KEY = "ledgergate_announced"


class Announcements:
    """This process's listeners; each is called with the announcement's text, on the event
    loop's thread, after the commit."""

    def __init__(self) -> None:
        self.listeners: list[Callable[[str], None]] = []

    def emit(self, announcement: str) -> None:
        for listener in list(self.listeners):
            listener(announcement)


def announcement(entity_id: int, topic: str, key: object) -> str:
    return f"{entity_id}:{topic}:{key}"


def parse(announcement: str) -> tuple[int, str, str] | None:
    entity, _, rest = announcement.partition(":")
    topic, _, key = rest.partition(":")
    if not entity.isdigit() or not topic or not key:
        return None
    return int(entity), topic, key


async def announce(session, entity_id: int, topic: str, key: object) -> None:
    """Announce a change made in `session`'s transaction (an `AsyncSession`)."""
    message = announcement(entity_id, topic, key)
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_notify(:channel, :message)"),
                              {"channel": CHANNEL, "message": message})
    else:
        session.sync_session.info.setdefault(_PENDING_KEY, []).append(message)


async def announce_on(connection, entity_id: int, topic: str, key: object) -> str | None:
    """The same in a Core connection's transaction. On SQLite the announcement is returned
    for the caller to emit once its transaction has committed."""
    [message] = await announce_all_on(connection, [(entity_id, topic, key)]) or [None]
    return message


_NOTIFY_ALL = text("SELECT pg_notify(:channel, m) FROM unnest(:messages) AS m").bindparams(
    bindparam("messages", type_=ARRAY(Text)))


async def announce_all_on(connection, changes: Sequence[tuple[int, str, object]]) -> list[str]:
    """`announce_on` for many (entity id, topic, key) at once: on PostgreSQL one statement
    (a round trip per announcement cost a dispatcher more than its deliveries' bookkeeping);
    on SQLite the announcements, for the caller to emit after its commit."""
    messages = [announcement(*change) for change in changes]
    if connection.dialect.name != "postgresql":
        return messages
    if messages:
        await connection.execute(_NOTIFY_ALL, {"channel": CHANNEL, "messages": messages})
    return []


@event.listens_for(LedgerSession, "after_commit")
def _emit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    listeners = session.info.get(LISTENERS_KEY)
    if pending and listeners is not None:
        for message in pending:
            listeners.emit(message)


@event.listens_for(LedgerSession, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
