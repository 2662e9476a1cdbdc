"""Who is asking: the entity a request acts for and the scopes it holds."""

from dataclasses import dataclass


@dataclass(frozen=True)
class EntityInfo:
    id: int
    code: str
    name: str
    base_currency: str
    money_scale: int


@dataclass(frozen=True)
class Principal:
    """The caller, as established by the gateway's authentication.

    Attributes:
        subject: who the caller is (a user or client name), for logs and audit.
        entity: the one entity every ledger read and write is confined to.
        scopes: the OAuth scopes granted for this request.
        client_id: the integration client that sent the request (rate limits, audit), or
            None when no client stands behind it.
        username: the entity's web-services user the client acts as (audit), or None.
    """

    subject: str
    entity: EntityInfo
    scopes: frozenset[str]
    client_id: str | None = None
    username: str | None = None
