"""Planning a posting transaction: what each posting does, decided under the entity's lock.

Keys (their form, a batch's keys, replays and conflicts), references (accounts, journals,
dimensions, periods, rates) and every ledger rule, giving a `Plan`: which postings replay,
repeat, are refused, and which are fresh and how to write them (`ledger.posting_write`).
Nothing here writes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from . import reference_cache
from .currency import foreign, load_rates, price_lines
from .drafts import EntryDraft, request_document
from .errors import Conflict, InvalidEntry, Violation
from .hashing import fingerprint
from .model import AccountType, Entity, IdempotencyKey
from .money import currency_scale
from .reference_cache import REFERENCE_CACHE_KEY
from .validators import MAX_LINES, PostingRefs, validate_entry

if TYPE_CHECKING:  # the writer fills `Plan.written`; it imports this module, not the reverse
    from .posting_write import PostedEntry

MAX_KEY_LENGTH = 200
# The defaults of a batch's size (`batch_postings`); a deployment sets its own.
MAX_BATCH_ENTRIES = 10_000
MAX_BATCH_LINES = 100_000
# Printable ASCII, with no space at either end: a key is an identifier clients generate (a
# UUID, an order number), and invisible, look-alike or padded characters would let two keys
# that read the same be different ones.
_KEY = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,%d}[\x21-\x7e])?" % (MAX_KEY_LENGTH - 2))
KEY_RULE = (
    f"1 to {MAX_KEY_LENGTH} printable ASCII characters (space to ~), not beginning or "
    "ending with a space"
)


@dataclass(frozen=True)
class Posting:
    """A draft to post, with the idempotency key it came with (None for internal loads).

    Keys are scoped to the integration client that sent them (`client`), as payment APIs
    scope theirs to the account: another client's identical key is a different key.
    """

    draft: EntryDraft
    idempotency_key: str | None = None
    client: str = ""
    # Set for a posting of a batch (`batch_postings`): its key is derived from the batch's
    # and its fingerprint covers the whole batch.
    request_hash: str | None = None


def batch_postings(
    drafts: Sequence[EntryDraft], key: str, client: str = "", *,
    max_entries: int = MAX_BATCH_ENTRIES, max_lines: int = MAX_BATCH_LINES,
) -> list[Posting]:
    """The postings of a batch sent under one idempotency key; a batch that is empty or over
    `max_entries` entries or `max_lines` lines in all is InvalidEntry.

    Entry i is stored under the key `"{key} #{i} "`: it ends with a space, which no key a
    client sends may do, so it can never meet a single posting's key. Each entry's
    fingerprint covers the whole batch, so a batch sent again as it was replays every entry,
    and any other batch under the same key is a CONFLICT (at its first entry), whatever
    entries the two have in common.
    """
    lines = sum(len(d.lines) for d in drafts)
    if not drafts:
        raise InvalidEntry([Violation("inputs", "a batch needs at least one entry")])
    if len(drafts) > max_entries:
        raise InvalidEntry([Violation(
            "inputs", f"{len(drafts)} entries; at most {max_entries} per batch")])
    if lines > max_lines:
        raise InvalidEntry([Violation("inputs", f"{lines} lines in all; at most {max_lines} per batch")])
    check_key(key)
    # orjson: the batch's documents are hashed once, and a batch's fingerprint is new (no
    # stored key was made with json's), so the faster canonical form is free to take.
    batch = hashlib.sha256(orjson.dumps(
        {"operation": "postJournalEntries", "entries": [request_document(d) for d in drafts]},
        option=orjson.OPT_SORT_KEYS,
    )).hexdigest()
    return [
        Posting(draft, f"{key} #{index} ", client,
                request_hash=fingerprint({"batch": batch, "index": index}))
        for index, draft in enumerate(drafts)
    ]


def check_key(key: str) -> None:
    if not isinstance(key, str) or _KEY.fullmatch(key) is None:
        raise InvalidEntry([Violation("idempotencyKey", f"must be {KEY_RULE}")])


def _chunks(items: Sequence, size: int = 5000):
    # IN lists stay well below the drivers' bind-parameter limits.
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class KeyOutcomes:
    """How one client's keyed postings stand: index → stored entry id (a replay), index →
    earlier index of the same batch with the same key and request (a repeat), index →
    Conflict (the key was used with another request)."""

    replayed: dict[int, int]
    repeats: dict[int, int]
    conflicts: dict[int, Conflict]


async def key_outcomes(
    session: AsyncSession, keyed: Sequence[tuple[int, str, str]], client: str = ""
) -> KeyOutcomes:
    """Which postings repeat a key of `client`, given as (index, key, request hash).

    A key used before with another request, or twice in one batch with different
    requests (the later use), is a Conflict. Only `client`'s own keys are looked at.
    """
    keys = sorted({key for _, key, _ in keyed})
    stored = {}
    for chunk in _chunks(keys):
        rows = await session.execute(
            select(IdempotencyKey.key, IdempotencyKey.request_hash, IdempotencyKey.entry_id).where(
                IdempotencyKey.client_id == client, IdempotencyKey.key.in_(chunk)
            )
        )
        stored.update({row.key: row for row in rows})
    outcomes = KeyOutcomes({}, {}, {})
    first_seen: dict[str, tuple[str, int]] = {}
    for index, key, request_hash in keyed:
        earlier = stored.get(key)
        seen = first_seen.setdefault(key, (request_hash, index))
        if (earlier and earlier.request_hash != request_hash) or seen[0] != request_hash:
            outcomes.conflicts[index] = Conflict(
                f"idempotency key {key!r} was already used with a different request"
            )
        elif earlier:
            outcomes.replayed[index] = earlier.entry_id
        elif seen[1] != index:
            outcomes.repeats[index] = seen[1]
    return outcomes


async def replays(
    session: AsyncSession, keyed: Sequence[tuple[int, str, str]], client: str = ""
) -> tuple[dict[int, int], dict[int, int]]:
    """`key_outcomes`, raising the first Conflict: (replayed, repeats)."""
    outcomes = await key_outcomes(session, keyed, client)
    if outcomes.conflicts:
        raise outcomes.conflicts[min(outcomes.conflicts)]
    return outcomes.replayed, outcomes.repeats


async def resolve_refs(
    session: AsyncSession, entity: Entity, drafts: Sequence[EntryDraft], *, allow_inactive=False,
    max_lines: int = MAX_LINES, allow_closed_period: bool = False,
) -> list[PostingRefs]:
    """Look up every code the drafts use: none when the entity's reference cache has them
    all (`ledger.reference_cache`; the caller holds the entity's lock), else a few
    statements per 5,000 distinct codes."""
    found = await reference_cache.resolve(
        session, session.info.get(REFERENCE_CACHE_KEY), entity.id, entity.reference_version,
        {line.account for d in drafts for line in d.lines},
        {d.journal for d in drafts},
        {dim for d in drafts for line in d.lines for dim in line.dimensions},
    )
    scale = currency_scale(entity.base_currency)
    rates = await load_rates(session, *foreign(drafts, entity.base_currency))
    return [
        PostingRefs(
            currency=entity.base_currency,
            currency_scale=scale,
            journal=found.journals.get(d.journal),
            period=found.period_of(d.date),
            accounts=found.accounts,
            dimensions=found.dimensions,
            allow_inactive=allow_inactive,
            max_lines=max_lines,
            allow_closed_period=allow_closed_period,
            rates=rates,
        )
        for d in drafts
    ]


Found = Sequence[Violation] | Exception


@dataclass
class Plan:
    """What a transaction does with each of its postings, decided under the entity's lock.

    `ids`: index → entry id, for replays now and for the fresh postings once written;
    `repeats`: index → the earlier index it repeats; `errors`: index → why it cannot post
    (a Conflict, the caller's error, or InvalidEntry with its violations, paths unprefixed);
    `fresh`: the indexes to write, with their priced postings, references and hashes.
    """

    ids: dict[int, int]
    repeats: dict[int, int]
    errors: dict[int, Exception]
    fresh: list[int]
    priced: list[Posting]
    refs: list[PostingRefs]
    hashes: list[str | None]
    # index → the entry as written, for the postings written (and their repeats).
    written: dict[int, PostedEntry] = field(default_factory=dict)


def request_hashes(postings: Sequence[Posting]) -> list[str | None]:
    """Each keyed posting's request fingerprint; an ill-formed key is InvalidEntry."""
    hashes: list[str | None] = []
    for posting in postings:
        if posting.idempotency_key is None:
            hashes.append(None)
        elif posting.request_hash is not None:  # a batch's: its key was checked whole
            hashes.append(posting.request_hash)
        else:
            check_key(posting.idempotency_key)
            hashes.append(fingerprint({"operation": "post", **request_document(posting.draft)}))
    return hashes


async def plan_postings(
    session: AsyncSession, entity: Entity, postings: Sequence[Posting], *,
    max_lines: int | Sequence[int] = MAX_LINES, found: Sequence[Found] = (),
) -> Plan:
    """Sort postings into replays, repeats, refusals and fresh ones, every rule checked.

    `found[i]` is what the caller found of posting i beforehand (see `post_entries`);
    `max_lines` is one limit for all or one per posting.
    """
    hashes = request_hashes(postings)
    keyed: dict[str, list[tuple[int, str, str]]] = {}
    for index, posting in enumerate(postings):
        if posting.idempotency_key is not None:
            keyed.setdefault(posting.client, []).append(
                (index, posting.idempotency_key, hashes[index])
            )
    plan = Plan({}, {}, {}, [], [], [], hashes)
    for client, client_keyed in keyed.items():
        outcomes = await key_outcomes(session, client_keyed, client)
        plan.ids.update(outcomes.replayed)
        plan.repeats.update(outcomes.repeats)
        plan.errors.update(outcomes.conflicts)
    todo = []
    for index in range(len(postings)):
        if index in plan.ids or index in plan.repeats or index in plan.errors:
            continue
        known = found[index] if index < len(found) else ()
        if isinstance(known, Exception):
            plan.errors[index] = known
        else:
            todo.append((index, known))
    if todo:
        limits = [max_lines] * len(postings) if isinstance(max_lines, int) else max_lines
        refs = await resolve_refs(session, entity, [postings[i].draft for i, _ in todo])
        # The refs share one accounts table.
        statistical = {
            code for code, a in refs[0].accounts.items() if a.type == AccountType.STATISTICAL.value
        }
        for (index, known), ref in zip(todo, refs):
            if ref.max_lines != limits[index]:
                ref = replace(ref, max_lines=limits[index])
            posting = postings[index]
            draft, currency_violations = price_lines(
                posting.draft, ref.currency, ref.currency_scale, ref.rates, statistical
            )
            violations = [*currency_violations, *validate_entry(draft, ref), *known]
            if violations:
                plan.errors[index] = InvalidEntry(violations)
            else:
                plan.fresh.append(index)
                plan.priced.append(replace(posting, draft=draft))
                plan.refs.append(ref)
    for index, earlier in plan.repeats.items():
        if earlier in plan.errors:
            plan.errors[index] = plan.errors[earlier]
    return plan


def batch_error(errors: dict[int, Exception], count: int, name: str = "entries") -> Exception:
    """The one error an all-or-nothing batch raises: a Conflict first, then an error the
    caller found (a source that could not answer), else every violation of every entry,
    prefixed `entries[i].` (`name[i].`) when the batch has more than one."""
    ordered = sorted(errors.items())
    for kind in (Conflict, Exception):
        for _, error in ordered:
            if isinstance(error, kind) and not isinstance(error, InvalidEntry):
                return error
    prefix = (lambda i: f"{name}[{i}].") if count > 1 else (lambda i: "")
    return InvalidEntry([
        Violation(prefix(index) + v.path, v.message)
        for index, error in ordered for v in error.violations
    ])

