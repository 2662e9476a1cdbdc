"""Ledger writes: posting and reversing entries, each under an idempotency key.

Every mutation that runs leaves a `mutation` row in the audit log (`ledger.audit`): on
success written in the posting's own transaction (so no committed entry lacks its row,
and a row that cannot be written rolls the posting back), on failure added to the
request's trail with the error code (and the violations), which the gateway writes when
the request ends.
"""

from __future__ import annotations

import datetime as dt
import decimal

import strawberry
from strawberry.types import Info

from ledger import audit, model, posting, posting_plan, reversal
from ledger.drafts import EntryDraft, LineDraft, SourceRef
from ledger.errors import Rejected

from ..errors import INTERNAL, CodedError, error_code
from ..scopes import POST
from ..sources.links import link_violations, unverified_links
from .dataloaders import EntryByIdLoader
from .types import DimensionKind, JournalEntry


@strawberry.input
class SourceLinkInput:
    system: str
    record_type: str
    record_id: str
    url: str | None = None

    def to_ref(self) -> SourceRef:
        return SourceRef(self.system, self.record_type, self.record_id, self.url)


@strawberry.input
class DimensionInput:
    kind: DimensionKind
    code: str


@strawberry.input
class JournalLineInput:
    account: str
    debit: decimal.Decimal | None = None
    credit: decimal.Decimal | None = None
    quantity: decimal.Decimal | None = strawberry.field(
        default=None, description="Statistical accounts only."
    )
    memo: str | None = None
    dimensions: list[DimensionInput] | None = None
    sources: list[SourceLinkInput] | None = None
    currency: str | None = strawberry.field(
        default=None, description="The line's transaction currency (ISO 4217) when it is not "
        "the entity's: debit and credit are then in it, and the base amount is amount × rate "
        "rounded half to even to the base currency's minor unit."
    )
    rate: decimal.Decimal | None = strawberry.field(
        default=None, description="Base-currency units per unit of `currency`; omitted: the "
        "SPOT rate of exchangeRates dated on the entry's date, or the latest before it."
    )


# A dimension kind's stored value, by member (or value): a lookup, where
# `model.DimensionKind(kind)` cost a tenth of turning a bulk posting's inputs into drafts.
_KIND_VALUES = {**{k: k.value for k in model.DimensionKind}, **{k.value: k.value for k in model.DimensionKind}}


@strawberry.input
class JournalEntryInput:
    journal: str
    date: dt.date
    description: str | None = None
    lines: list[JournalLineInput]
    source: SourceLinkInput | None = None

    def to_draft(self) -> EntryDraft:
        return EntryDraft(
            journal=self.journal,
            date=self.date,
            description=self.description,
            source=self.source.to_ref() if self.source else None,
            lines=tuple(
                LineDraft(
                    account=line.account,
                    debit=line.debit,
                    credit=line.credit,
                    quantity=line.quantity,
                    memo=line.memo,
                    dimensions=tuple(
                        (_KIND_VALUES[d.kind], d.code) for d in line.dimensions or ()
                    ),
                    sources=tuple(s.to_ref() for s in line.sources or ()),
                    currency=line.currency,
                    rate=line.rate,
                )
                for line in self.lines
            ),
        )


def _link(value: dict) -> SourceLinkInput:
    return SourceLinkInput(
        system=value["system"], record_type=value["recordType"],
        record_id=value["recordId"], url=value.get("url"),
    )


def _journal_entry_from_input(cls, value, _context) -> JournalEntryInput:
    """Build the input straight from graphql-core's coerced value (GraphQL names).

    Strawberry's generic conversion resolves every field's type for every line; for an
    entry of 10,000 lines that was 60% of posting it (2.6 s of 4.4). graphql-core has
    already validated and parsed every value (Decimal, Date, enums), so only the
    objects remain to be made. Keep in step with the input classes above.
    """
    lines = [
        JournalLineInput(
            account=line["account"],
            debit=line.get("debit"),
            credit=line.get("credit"),
            quantity=line.get("quantity"),
            memo=line.get("memo"),
            dimensions=None if (dims := line.get("dimensions")) is None else [
                DimensionInput(kind=d["kind"], code=d["code"]) for d in dims
            ],
            sources=None if (links := line.get("sources")) is None else [
                _link(link) for link in links
            ],
            currency=line.get("currency"),
            rate=line.get("rate"),
        )
        for line in value["lines"]
    ]
    source = value.get("source")
    return cls(
        journal=value["journal"], date=value["date"], description=value.get("description"),
        lines=lines, source=None if source is None else _link(source),
    )


JournalEntryInput.__strawberry_definition__.from_input = _journal_entry_from_input


@strawberry.federation.type(requires_scopes=POST)
class PostJournalEntryPayload:
    entry: JournalEntry


@strawberry.federation.type(requires_scopes=POST)
class PostJournalEntriesPayload:
    entries: list[JournalEntry] = strawberry.field(description="In the order of the inputs.")


async def _payload(info: Info, entry_id: int) -> PostJournalEntryPayload:
    row = await info.context.loader(EntryByIdLoader).load(entry_id)
    return PostJournalEntryPayload(entry=JournalEntry.from_row(row))


# A failed mutation's row lists at most this many violations (an entry of 10,000 lines can
# break a rule on each); `violationCount` says how many there were.
MAX_AUDITED_VIOLATIONS = 50


def failure_detail(error: Exception) -> dict:
    code = error_code(error)
    detail: dict = {"error": code}
    if isinstance(error, Rejected):
        detail["violationCount"] = len(error.violations)
        detail["violations"] = [
            {"path": v.path, "message": v.message}
            for v in error.violations[:MAX_AUDITED_VIOLATIONS]
        ]
    elif code != INTERNAL:  # an unexpected error's text is masked from callers and here
        detail["message"] = str(error)[:500]
    return detail


async def _audited(info: Info, operation: str, detail: dict, write):
    """`write(trail)` → what it posted, with the mutation's audit row either way: on
    success the write puts it in its transaction (`trail.mutation_recorder` or
    `trail.mutation_event`), on failure it joins the request's trail here."""
    trail = info.context.audit
    try:
        return await write(trail)
    except Exception as error:
        trail.add(audit.MUTATION, error_code(error), {"operation": operation, **detail,
                                                      **failure_detail(error)})
        raise


async def _links_found(info: Info, drafts: list[EntryDraft]) -> list[posting_plan.Found]:
    """What each draft's source links break (`resolvers.sources.links`), found before the
    posting's transaction; a source that cannot answer stops every draft that needed it
    (fatal unless the posting replays its key)."""
    catalog = info.context.sources
    found: list[posting_plan.Found] = [link_violations(catalog, d) for d in drafts]
    checked = [i for i, violations in enumerate(found) if not violations]
    try:
        unverified = await unverified_links(
            catalog, [drafts[i] for i in checked], info.context.entity.code
        )
    except CodedError as error:
        return [f if f else error for f in found]
    for index, violations in zip(checked, unverified):
        found[index] = violations
    return found


def _key_owner(info: Info) -> str:
    """Whose key space an idempotency key lives in: the integration client's."""
    return info.context.principal.client_id or ""


@strawberry.type
class LedgerMutations:
    @strawberry.federation.field(
        requires_scopes=POST,
        description="Validate and post an entry. The idempotency key is "
        f"{posting_plan.KEY_RULE}, and belongs to the calling integration client: the same "
        "client repeating a key with the same input gets the original entry; with a "
        "different input, CONFLICT. Another client's equal key is another key."
    )
    async def post_journal_entry(
        self, info: Info, input: JournalEntryInput, idempotency_key: str
    ) -> PostJournalEntryPayload:
        operation = "postJournalEntry"
        detail = {"idempotencyKey": idempotency_key[:200], "journal": input.journal[:200],
                  "date": input.date.isoformat(), "lines": len(input.lines)}

        async def write(trail) -> int:
            draft = input.to_draft()
            found = (await _links_found(info, [draft]))[0]
            # Concurrent postings of the entity share a transaction (`ledger.group_commit`).
            posted = await info.context.db.group_commit.post(
                info.context.entity.id, posting_plan.Posting(draft, idempotency_key, _key_owner(info)),
                found=found, max_lines=info.context.limits.max_entry_lines,
                audit_event=trail.mutation_event(operation, detail),
            )
            if posted.entry is not None:  # as written: the payload needs no read back
                info.context.loader(EntryByIdLoader).prime(posted.id, posted.entry)
            return posted.id

        entry_id = await _audited(info, operation, detail, write)
        return await _payload(info, entry_id)

    @strawberry.federation.field(
        requires_scopes=POST,
        description="Validate and post many entries in one transaction: all or nothing. "
        "A refusal lists every violation of every entry, its path starting with the "
        "entry's index (`inputs[3].lines[0].account`). One idempotency key covers the "
        "whole batch, under postJournalEntry's rules: the same batch again gets the "
        "original entries; any other batch under the key, CONFLICT. At most "
        "`[limits] max_batch_entries` entries and `max_batch_lines` lines in all."
    )
    async def post_journal_entries(
        self, info: Info, inputs: list[JournalEntryInput], idempotency_key: str
    ) -> PostJournalEntriesPayload:
        limits = info.context.limits
        operation = "postJournalEntries"
        lines = sum(len(i.lines) for i in inputs)
        detail = {"idempotencyKey": idempotency_key[:200], "entryCount": len(inputs),
                  "lines": lines}

        async def write(trail) -> list[int]:
            drafts = [i.to_draft() for i in inputs]
            postings = posting_plan.batch_postings(
                drafts, idempotency_key, _key_owner(info),
                max_entries=limits.max_batch_entries, max_lines=limits.max_batch_lines,
            )
            found = await _links_found(info, drafts)
            db = info.context.db
            async with db.group_commit.writer, info.context.session() as session:
                return await posting.post_entries(
                    session, postings, before_commit=trail.mutation_recorder(operation, detail),
                    max_lines=limits.max_entry_lines, found=found, path="inputs",
                )

        entry_ids = await _audited(info, operation, detail, write)
        rows = await info.context.loader(EntryByIdLoader).load_many(entry_ids)
        return PostJournalEntriesPayload(entries=[JournalEntry.from_row(r) for r in rows])

    @strawberry.federation.field(
        requires_scopes=POST,
        description="Post the mirror image of an entry on the given date, linked both ways. "
        "The idempotency key follows postJournalEntry's rules."
    )
    async def reverse_journal_entry(
        self, info: Info, number: str, date: dt.date, idempotency_key: str
    ) -> PostJournalEntryPayload:
        operation = "reverseJournalEntry"
        detail = {"idempotencyKey": idempotency_key[:200], "number": number[:200], "date": date.isoformat()}

        async def write(trail) -> int:
            async with info.context.session() as session:
                return await reversal.reverse_entry(
                    session, number, date, idempotency_key, client=_key_owner(info),
                    before_commit=trail.mutation_recorder(operation, detail),
                )

        entry_id = await _audited(info, operation, detail, write)
        return await _payload(info, entry_id)
