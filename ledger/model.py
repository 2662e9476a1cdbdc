"""The ledger's tables, as typed SQLAlchemy 2 mappings.

Amounts are integer minor units of the line's currency; statistical quantities are integers
scaled by their account's `quantity_scale`. Every ledger row but `Entity` carries its
`entity_id` (the `EntityScoped` mixin), which `ledger.tenancy` uses to confine sessions.
`SourceSecret` is the gateway's, not any entity's: source systems serve every entity.
So are the integration clients and roles (`ApiClient`, `Role`, and the assertion ids a
client used, `ClientAssertionJti`); a web-services user
(`WsUser`) and an allow-list entry (`ClientEntity`) belong to one entity each.
`AuditEvent` rows belong to the entity a request acted for, or to none (a token request
that named no entity it could reach).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments an INTEGER PRIMARY KEY; everywhere else keys are 64-bit.
Id = BigInteger().with_variant(Integer(), "sqlite")

GENESIS_HASH = "0" * 64


class AccountType(str, enum.Enum):
    ASSET = "ASSET"
    LIABILITY = "LIABILITY"
    EQUITY = "EQUITY"
    REVENUE = "REVENUE"
    EXPENSE = "EXPENSE"
    STATISTICAL = "STATISTICAL"


class DimensionKind(str, enum.Enum):
    DEPARTMENT = "DEPARTMENT"
    LOCATION = "LOCATION"
    PROJECT = "PROJECT"
    CUSTOMER = "CUSTOMER"
    VENDOR = "VENDOR"
    EMPLOYEE = "EMPLOYEE"
    ITEM = "ITEM"
    CLASS = "CLASS"


class NormalBalance(str, enum.Enum):
    """The side an account's balance normally sits on (a statement shows it positive)."""

    DEBIT = "DEBIT"
    CREDIT = "CREDIT"


class Aggregation(str, enum.Enum):
    """How a statistical account adds up over time.

    FLOW: a period's value is the sum of its quantities (GB used, rooms sold).
    STOCK: each quantity is a level (headcount); a period's value is the latest level.
    """

    FLOW = "FLOW"
    STOCK = "STOCK"


# Balance-sheet accounts carry their balance forward; income-statement accounts start each
# fiscal year at zero (the year-end close moves their result into retained earnings).
BALANCE_SHEET_TYPES = frozenset({AccountType.ASSET, AccountType.LIABILITY, AccountType.EQUITY})
INCOME_STATEMENT_TYPES = frozenset({AccountType.REVENUE, AccountType.EXPENSE})
DEFAULT_NORMAL_BALANCE = {
    AccountType.ASSET: NormalBalance.DEBIT,
    AccountType.EXPENSE: NormalBalance.DEBIT,
    AccountType.STATISTICAL: NormalBalance.DEBIT,
    AccountType.LIABILITY: NormalBalance.CREDIT,
    AccountType.EQUITY: NormalBalance.CREDIT,
    AccountType.REVENUE: NormalBalance.CREDIT,
}


class Base(DeclarativeBase):
    pass


class EntityScoped:
    """Mixin for rows that belong to one entity (company)."""

    entity_id: Mapped[int] = mapped_column(Id, ForeignKey("entities.id"), index=False)


class Entity(Base):
    """A company: the unit of confinement, numbering and the hash chain.

    Attributes:
        head_seq: sequence number of the last posted entry (0 before the first).
        head_hash: hash of the last posted entry (GENESIS_HASH before the first).
        reference_version: bumped by database triggers with every change of the entity's
            accounts, journals, dimension values or periods (`ledger.reference_cache`).
    """

    __tablename__ = "entities"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    base_currency: Mapped[str] = mapped_column(String(3))
    # The month (1-12) a fiscal year starts in; a fiscal year is named by the calendar
    # year it ends in (a year starting 2025-07 is fiscal 2026), as most ERPs do.
    fiscal_year_start_month: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The equity account revenue and expense close into (`ledger.closing`), and where the
    # reports put prior years' result that no year-end close has moved yet. No foreign key:
    # accounts reference entities already.
    retained_earnings_account_id: Mapped[int | None] = mapped_column(Id)
    head_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    reference_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Account(EntityScoped, Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("entity_id", "code"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    # Statistical accounts only: the unit (rooms, people, GB) and how many decimals a
    # quantity may carry.
    unit: Mapped[str | None] = mapped_column(String(32))
    quantity_scale: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    normal_balance: Mapped[str] = mapped_column(String(6), default="DEBIT", server_default="DEBIT")
    # Statistical accounts only: `Aggregation` (FLOW or STOCK); None for money accounts.
    aggregation: Mapped[str | None] = mapped_column(String(5))
    # Where the account sits in the statements' reporting hierarchy (`AccountGroup`).
    group_id: Mapped[int | None] = mapped_column(Id, ForeignKey("account_groups.id"))


class AccountGroup(EntityScoped, Base):
    """A heading of the statements ("Current assets", "Operating expenses"): groups nest
    (`parent_id`), accounts belong to one (`Account.group_id`); `position` orders siblings."""

    __tablename__ = "account_groups"
    __table_args__ = (UniqueConstraint("entity_id", "code"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(Id, ForeignKey("account_groups.id"))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DimensionValue(EntityScoped, Base):
    __tablename__ = "dimension_values"
    __table_args__ = (UniqueConstraint("entity_id", "kind", "code"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Period(EntityScoped, Base):
    __tablename__ = "periods"
    __table_args__ = (UniqueConstraint("entity_id", "name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The fiscal year the period belongs to (named by the calendar year it ends in).
    fiscal_year: Mapped[int | None] = mapped_column(Integer)


class YearEndClose(EntityScoped, Base):
    """A fiscal year's close: the entry that moved its revenue and expense into retained
    earnings, and, once the year was reopened, the entry that reversed it.

    At most one close of a year is in force (`reversal_entry_id` null); `ledger.closing`
    checks that under the entity's write lock.
    """

    __tablename__ = "year_end_closes"
    __table_args__ = (Index("ix_year_end_closes_year", "entity_id", "fiscal_year"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    # None: the year had no revenue or expense to close.
    entry_id: Mapped[int | None] = mapped_column(Id, ForeignKey("journal_entries.id"))
    retained_earnings_account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id"))
    closed_at: Mapped[str] = mapped_column(String(32))
    reversal_entry_id: Mapped[int | None] = mapped_column(Id, ForeignKey("journal_entries.id"))
    reopened_at: Mapped[str | None] = mapped_column(String(32))


class ExchangeRate(EntityScoped, Base):
    """How many units of the entity's base currency one unit of `currency` was worth.

    `rate` is exact decimal text (`ledger.money` grammar), never a float. `rate_type` is
    SPOT for transaction rates; AVERAGE and CLOSING fit revaluation and consolidation later.
    """

    __tablename__ = "exchange_rates"
    __table_args__ = (UniqueConstraint("entity_id", "currency", "rate_type", "rate_date"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    rate_type: Mapped[str] = mapped_column(String(16), default="SPOT", server_default="SPOT")
    rate_date: Mapped[dt.date] = mapped_column(Date)
    rate: Mapped[str] = mapped_column(String(40))


class Journal(EntityScoped, Base):
    __tablename__ = "journals"
    __table_args__ = (UniqueConstraint("entity_id", "code"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class VerificationCheckpoint(EntityScoped, Base):
    """The last entry whose chain a verification found intact (`ledger.verification`).

    Attributes:
        seq / hash: that entry's sequence number and the hash it had then.
        verified_at: when (UTC, ISO 8601).
    """

    __tablename__ = "verification_checkpoints"
    __table_args__ = (UniqueConstraint("entity_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[str] = mapped_column(String(32))


class JournalEntry(EntityScoped, Base):
    """A posted entry; never updated or deleted once written (see `ledger.tenancy`).

    Attributes:
        seq: gapless per-entity posting sequence; the hash chain follows it.
        reverses_id: the entry this one reverses; unique, so an entry is reversed once.
        posted_at: ISO-8601 UTC timestamp, kept as text so it hashes identically everywhere.
        prev_hash / hash: the chain link (see `ledger.hashing`).
    """

    __tablename__ = "journal_entries"
    __table_args__ = (
        UniqueConstraint("entity_id", "seq"),
        UniqueConstraint("entity_id", "number"),
        Index("ix_journal_entries_entity_date", "entity_id", "date", "seq"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    number: Mapped[str] = mapped_column(String(32))
    journal_id: Mapped[int] = mapped_column(Id, ForeignKey("journals.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(String(500))
    reverses_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("journal_entries.id"), unique=True
    )
    posted_at: Mapped[str] = mapped_column(String(32))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


DIMENSION_COLUMNS: dict[DimensionKind, str] = {
    DimensionKind.DEPARTMENT: "department_id",
    DimensionKind.LOCATION: "location_id",
    DimensionKind.PROJECT: "project_id",
    DimensionKind.CUSTOMER: "customer_id",
    DimensionKind.VENDOR: "vendor_id",
    DimensionKind.EMPLOYEE: "employee_id",
    DimensionKind.ITEM: "item_id",
    DimensionKind.CLASS: "class_id",
}


def _dimension() -> Mapped[int | None]:
    return mapped_column(Id, ForeignKey("dimension_values.id"))


class JournalLine(EntityScoped, Base):
    """One line of an entry.

    The standard dimensions are columns (not a side table) so that reports can GROUP BY
    them on an index; `date` repeats the entry's date for the same reason.
    """

    __tablename__ = "journal_lines"
    __table_args__ = (
        UniqueConstraint("entry_id", "line_no"),
        Index("ix_journal_lines_account_date", "entity_id", "account_id", "date", "id"),
        Index("ix_journal_lines_entity_date", "entity_id", "date", "account_id"),
        # An entity's lines of given entries (every `JournalEntry.lines` batch): migration 0012.
        Index("ix_journal_lines_entity_entry", "entity_id", "entry_id", "line_no"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(Id, ForeignKey("journal_entries.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(Id, ForeignKey("accounts.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    debit: Mapped[int] = mapped_column(BigInteger, default=0)
    credit: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity: Mapped[int | None] = mapped_column(BigInteger)
    memo: Mapped[str | None] = mapped_column(String(500))
    # A line in a foreign (transaction) currency: its amount in that currency's minor units
    # and the rate (exact decimal text) that gave `debit`/`credit` in the base currency.
    # None on base-currency and statistical lines.
    txn_currency: Mapped[str | None] = mapped_column(String(3))
    txn_debit: Mapped[int | None] = mapped_column(BigInteger)
    txn_credit: Mapped[int | None] = mapped_column(BigInteger)
    rate: Mapped[str | None] = mapped_column(String(40))
    department_id: Mapped[int | None] = _dimension()
    location_id: Mapped[int | None] = _dimension()
    project_id: Mapped[int | None] = _dimension()
    customer_id: Mapped[int | None] = _dimension()
    vendor_id: Mapped[int | None] = _dimension()
    employee_id: Mapped[int | None] = _dimension()
    item_id: Mapped[int | None] = _dimension()
    class_id: Mapped[int | None] = _dimension()


class SourceLink(EntityScoped, Base):
    """Where an entry (line_id null) or a line came from, in the system that owns it."""

    __tablename__ = "source_links"
    __table_args__ = (
        Index("ix_source_links_record", "entity_id", "system", "record_type", "record_id"),
        Index("ix_source_links_entry", "entry_id"),
        # With the entity filter every confined read adds, (entry_id) alone lost to the
        # entity's record index: verification scanned all the entity's links per chunk.
        Index("ix_source_links_entity_entry", "entity_id", "entry_id"),
        Index("ix_source_links_line", "line_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(Id, ForeignKey("journal_entries.id"))
    line_id: Mapped[int | None] = mapped_column(Id, ForeignKey("journal_lines.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    system: Mapped[str] = mapped_column(String(64))
    record_type: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(128))
    url: Mapped[str | None] = mapped_column(String(1000))


class IdempotencyKey(EntityScoped, Base):
    """A write's idempotency key and the fingerprint of the request it first came with."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("entity_id", "client_id", "key", name="uq_idempotency_keys_client_key"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # The integration client the key belongs to ("" for writes no client sent: the demo's
    # loads, and keys stored before keys were per client).
    client_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # A client's key is at most 200 characters; a batch's entries add ` #index ` to it
    # (`posting_plan.batch_postings`).
    key: Mapped[str] = mapped_column(String(220))
    request_hash: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[int] = mapped_column(Id, ForeignKey("journal_entries.id"))


LEDGER_HISTORY = (JournalEntry, JournalLine, SourceLink, IdempotencyKey)


class SourceSecret(Base):
    """One credential value of a source system, encrypted (see `gateway.secrets`).

    Not entity-scoped: a sources config's `credentials = "crm"` names it for the whole
    gateway. Only `gateway.secrets` reads or writes it, on plain engine connections.

    Attributes:
        name / key: the credentials name (`credentials = "crm"`) and the value's key in it
            (`api_key`, `client_secret`, `password`).
        ciphertext: format byte, AES-GCM nonce, then ciphertext and tag; (name, key) is the
            associated data, so a value copied to another row does not decrypt.
        key_id: which secrets key encrypted it (a fingerprint of the key, not the key).
        updated_at: ISO-8601 UTC timestamp of the last `ledgergate secrets set`.
    """

    __tablename__ = "source_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[str] = mapped_column(String(32))


# --- integrations and users (`gateway.auth.identities`) --------------------------------------
# Timestamps are ISO-8601 UTC text, as `SourceSecret.updated_at`. Scopes are stored as the
# sorted, space-separated `scope` value (`gateway.auth.scopes.format_scope`).


class Role(Base):
    """A named set of scopes that web-services users of any entity can be given."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))


class ApiClient(Base):
    """An integration client (the sender of token requests); the gateway's, not an entity's:
    which entities it may reach is its allow-list (`ClientEntity`).

    Attributes:
        client_id: the public, generated id (`lgc_…`).
        secret_hash: `gateway.auth.secret_hash.hash_secret` of the secret; never the secret.
            For a client with `jwks`, `gateway.auth.identities.NO_SECRET`, which no secret
            matches.
        allowed_scopes: the most any of its tokens may carry.
        disabled_at: set by `ledgergate clients disable`; a disabled client gets no token and
            its tokens are refused.
        jwks: the public JWK set (JSON) of a client authenticating with `private_key_jwt`;
            None for a client with a secret.
    """

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(255))
    allowed_scopes: Mapped[str] = mapped_column(Text)
    disabled_at: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[str] = mapped_column(String(32))
    jwks: Mapped[str | None] = mapped_column(Text)


class ClientAssertionJti(Base):
    """The `jti` of a client assertion (`private_key_jwt`) already used, kept until the
    assertion expires (epoch seconds), so that it cannot be presented twice."""

    __tablename__ = "client_assertion_jtis"
    __table_args__ = (Index("ix_client_assertion_jtis_expires_at", "expires_at"),)

    api_client_id: Mapped[int] = mapped_column(Id, ForeignKey("api_clients.id"), primary_key=True)
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class WsUser(EntityScoped, Base):
    """A web-services user of one entity: whom a client acts as there, with its role."""

    __tablename__ = "ws_users"
    __table_args__ = (
        UniqueConstraint("entity_id", "username"),
        # The target of `ClientEntity`'s (ws_user_id, entity_id) key.
        UniqueConstraint("id", "entity_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    role_id: Mapped[int] = mapped_column(Id, ForeignKey("roles.id"))
    deactivated_at: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[str] = mapped_column(String(32))


class ClientEntity(EntityScoped, Base):
    """An entry of an entity's allow-list: the client may act in the entity, as `ws_user_id`.

    The user key is (ws_user_id, entity_id), so the database itself refuses a user of
    another entity.
    """

    __tablename__ = "client_entities"
    __table_args__ = (
        ForeignKeyConstraint(["ws_user_id", "entity_id"], ["ws_users.id", "ws_users.entity_id"]),
    )

    api_client_id: Mapped[int] = mapped_column(Id, ForeignKey("api_clients.id"), primary_key=True)
    entity_id: Mapped[int] = mapped_column(Id, ForeignKey("entities.id"), primary_key=True)
    ws_user_id: Mapped[int] = mapped_column(Id)
    created_at: Mapped[str] = mapped_column(String(32))


class SigningKey(Base):
    """A signing key of the built-in authorization server (`gateway.auth.keystore`).

    Not entity-scoped: one authorization server signs every entity's tokens.

    Attributes:
        kid: the key id, the RFC 7638 thumbprint of the public key.
        ciphertext: the private JWK (JSON), AES-GCM encrypted with the secrets key; the kid
            is the associated data, so a key copied to another row does not decrypt.
        key_id: which secrets key encrypted it (a fingerprint of the key, not the key).
        created_at: when it began to sign (ISO-8601 UTC with microseconds); the newest key
            not retired is the current one, which signs.
        retired_at: when it was withdrawn from the JWK Set; None while published.
    """

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[str] = mapped_column(String(32))
    retired_at: Mapped[str | None] = mapped_column(String(32))


class AuditEvent(EntityScoped, Base):
    """One row of the audit log (`ledger.audit`): append-only, here and in the database.

    Entity-scoped like the ledger, so a session confined to an entity sees only that
    entity's events; `entity_id` is null for an event that could not be attributed to an
    entity (a token request from an unauthenticated client, a token that did not verify).

    Attributes:
        id: the order of the log (autoincrement).
        chain / seq: the hash chain the event is in (the entity's id; 0 for events of no
            entity) and its gapless position there.
        prev_hash / hash: the chain link (`ledger.audit.event_hash`).
        occurred_at: ISO-8601 UTC with microseconds, as `JournalEntry.posted_at`.
        request_id: the HTTP request's `X-Request-Id`.
        event: one of `ledger.audit.EVENTS`.
        outcome: `OK`, or the refusal's or error's code (OAuth error, `extensions.code`).
        client_id / username: the integration client and the user it acted as, when known.
        detail: what happened (JSON): operation, paths, scopes, ids; never a secret.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        Index("ix_audit_events_entity", "entity_id", "id"),
        Index("ix_audit_events_request", "request_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    entity_id: Mapped[int | None] = mapped_column(Id, ForeignKey("entities.id"), nullable=True)
    chain: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[str] = mapped_column(String(128))
    event: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(64))
    username: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON)


class AuditHead(Base):
    """The head of one audit hash chain (`AuditEvent.chain`): its last seq and hash.

    Writers lock it (an UPDATE) before they extend the chain, so each chain stays linear;
    `ledgergate audit verify` checks that the last event matches it (a deleted tail).
    """

    __tablename__ = "audit_heads"

    chain: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


# Rows no one may change or delete (`ledger.tenancy` in the ORM, triggers in the database).
APPEND_ONLY = (*LEDGER_HISTORY, AuditEvent)
