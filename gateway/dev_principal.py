"""The development principal: who a request acts as until OAuth replaces this module.

INSECURE BY DESIGN. The caller picks its entity with the `X-Ledgergate-Entity` header
(default: the first entity by id) and holds every scope. `ledgergate serve` refuses to run
this without `--insecure-dev`; the OAuth issue replaces this module as a whole.
"""

from __future__ import annotations

from sqlalchemy import select

from ledger.model import Entity
from ledger.money import currency_scale
from ledger.store import LedgerDatabase
from ledger.tenancy import ALL_ENTITIES
from resolvers.errors import UNAUTHENTICATED, CodedError
from resolvers.principal import EntityInfo, Principal
from resolvers.scopes import BASE_SCOPES

ENTITY_HEADER = "x-ledgergate-entity"


class EveryScope(frozenset):
    """Every scope there is: the base scopes listed, and `source:<system>:read` and
    `:sensitive` of whatever systems are configured (membership and `issuperset` are always
    true; the field checks of `resolvers.scopes` use only those)."""

    def __contains__(self, scope: object) -> bool:
        return True

    def issuperset(self, other) -> bool:
        return True


DEV_SCOPES = EveryScope(BASE_SCOPES)


class DevPrincipalResolver:
    """Maps a request's entity header to a Principal; entities are cached, refreshed on a miss."""

    def __init__(self, db: LedgerDatabase):
        self.db = db
        self._entities: dict[str, EntityInfo] = {}
        self._first: EntityInfo | None = None

    async def _refresh(self) -> None:
        async with self.db.session(None) as session:
            rows = await session.scalars(
                select(Entity).order_by(Entity.id).execution_options(**ALL_ENTITIES)
            )
            entities = [
                EntityInfo(e.id, e.code, e.name, e.base_currency, currency_scale(e.base_currency))
                for e in rows
            ]
        self._entities = {e.code: e for e in entities}
        self._first = entities[0] if entities else None

    async def principal(self, headers) -> Principal:
        code = headers.get(ENTITY_HEADER)
        entity = self._entities.get(code) if code else self._first
        if entity is None:
            await self._refresh()
            entity = self._entities.get(code) if code else self._first
        if entity is None:
            which = f"no entity with code {code!r}" if code else "the ledger has no entity yet"
            raise CodedError(f"Cannot act for an entity: {which}", UNAUTHENTICATED)
        return Principal(subject="insecure-dev", entity=entity, scopes=DEV_SCOPES)
