"""The audit log's GraphQL types."""

from __future__ import annotations

import datetime as dt
import enum

import strawberry
from strawberry.scalars import JSON

from ledger import audit
from ledger.model import AuditEvent as AuditRow

from ..scopes import AUDIT


@strawberry.enum(description="What an audit event records.")
class AuditEventKind(enum.Enum):
    TOKEN_ISSUED = audit.TOKEN_ISSUED
    TOKEN_REFUSED = audit.TOKEN_REFUSED
    AUTHENTICATION_REFUSED = audit.AUTHENTICATION_REFUSED
    ACCESS_DENIED = audit.ACCESS_DENIED
    MUTATION = audit.MUTATION
    SENSITIVE_READ = audit.SENSITIVE_READ


@strawberry.federation.type(
    requires_scopes=AUDIT,
    description="One event of the audit log: who (client, user), what (event, outcome, "
    "detail), when and in which request.",
)
class AuditEvent:
    id: strawberry.ID = strawberry.field(description="The event's position in the log.")
    occurred_at: dt.datetime
    request_id: str = strawberry.field(description="The request's X-Request-Id.")
    event: AuditEventKind
    outcome: str = strawberry.field(
        description="OK, or the refusal's or the error's code (an OAuth error, extensions.code)."
    )
    client_id: str | None
    username: str | None
    detail: JSON = strawberry.field(
        description="What happened: the operation, paths and missing scopes, the entries a "
        "mutation produced or its error, the sensitive fields and record ids read."
    )

    @classmethod
    def from_row(cls, row: AuditRow) -> AuditEvent:
        return cls(
            id=strawberry.ID(str(row.id)),
            occurred_at=dt.datetime.fromisoformat(row.occurred_at),
            request_id=row.request_id,
            event=AuditEventKind(row.event),
            outcome=row.outcome,
            client_id=row.client_id,
            username=row.username,
            detail=row.detail,
        )


@strawberry.input(description="Every condition given must hold; since ≤ occurredAt < until.")
class AuditEventFilter:
    event: AuditEventKind | None = None
    since: dt.datetime | None = strawberry.field(
        default=None, description="Inclusive; without a time zone, UTC."
    )
    until: dt.datetime | None = strawberry.field(
        default=None, description="Exclusive; without a time zone, UTC."
    )
    client_id: str | None = None
    request_id: str | None = None

    def to_filter(self) -> audit.AuditFilter:
        return audit.AuditFilter(
            event=self.event.value if self.event else None,
            since=self.since,
            until=self.until,
            client_id=self.client_id,
            request_id=self.request_id,
        )
