"""The one place that confines ledger reads and writes to the caller's entity.

A `LedgerSession` carries its entity in `session.info["entity_id"]`. Every ORM-enabled
SELECT, UPDATE and DELETE it executes (Core `select(Model.col)` included) gets
`entity_id = :entity` added to each entity-scoped table it touches, aliases included; every
row it inserts through the unit of work must belong to that entity; and posted history
(entries, lines, source links, idempotency keys) and the audit log can never be updated
or deleted through it.
Code that really needs to cross entities (resolving the caller's entity, migrations, demo
generation) must say so with the `ALL_ENTITIES` execution option or a plain engine
connection.
"""

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from .model import APPEND_ONLY, EntityScoped

ENTITY_KEY = "entity_id"
ALL_ENTITIES = {"ledgergate_all_entities": True}


class EntityConfinementError(RuntimeError):
    """A ledger statement was about to run without, or outside, an entity scope."""


class ImmutableHistoryError(RuntimeError):
    """Something tried to change or delete posted history."""


class LedgerSession(Session):
    """The sync session under every `AsyncSession` the ledger hands out."""


@event.listens_for(LedgerSession, "do_orm_execute")
def _confine_statement(state: ORMExecuteState) -> None:
    if state.execution_options.get("ledgergate_all_entities"):
        return
    entity_id = state.session.info.get(ENTITY_KEY)
    if entity_id is None:
        raise EntityConfinementError("ledger statement outside an entity scope")
    if state.is_update or state.is_delete:
        for mapper in state.all_mappers:
            if mapper.class_ in APPEND_ONLY:
                raise ImmutableHistoryError(f"{mapper.class_.__name__} rows are immutable")
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(
                EntityScoped,
                lambda cls: cls.entity_id == entity_id,
                include_aliases=True,
            )
        )


@event.listens_for(LedgerSession, "before_flush")
def _guard_flush(session: Session, _context, _instances) -> None:
    entity_id = session.info.get(ENTITY_KEY)
    for obj in session.new:
        if isinstance(obj, EntityScoped):
            if obj.entity_id is None:
                obj.entity_id = entity_id
            elif obj.entity_id != entity_id:
                raise EntityConfinementError(
                    f"{type(obj).__name__} of entity {obj.entity_id} written in entity {entity_id}"
                )
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, APPEND_ONLY) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            raise ImmutableHistoryError(f"{type(obj).__name__} rows are immutable")
