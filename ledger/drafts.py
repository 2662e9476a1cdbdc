"""What a caller asks to post, before it is validated: immutable, plain values."""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class SourceRef:
    """A record in a source system that an entry or line came from.

    Attributes:
        system: configured source system name ("crm", "pos", …).
        record_type: the system's record type ("Receipt", "SalesOrder", …).
        record_id: the record's key in that system.
        url: optional deep link to the record in the system's own UI.
    """

    system: str
    record_type: str
    record_id: str
    url: str | None = None


@dataclass(frozen=True)
class TxnAmount:
    """A line's amount in its transaction currency, and the rate that made its base amount
    (units of the base currency per unit of `currency`)."""

    currency: str
    debit: Decimal | None
    credit: Decimal | None
    rate: Decimal


@dataclass(frozen=True)
class LineDraft:
    """One requested line: money lines carry one of debit/credit, statistical ones a quantity.

    `currency` (and optionally `rate`): the line is in that transaction currency, its
    debit/credit amounts in it; `ledger.currency.price_lines` turns it into a base-currency
    line whose `txn` keeps what was asked.
    """

    account: str
    debit: Decimal | None = None
    credit: Decimal | None = None
    quantity: Decimal | None = None
    memo: str | None = None
    dimensions: tuple[tuple[str, str], ...] = ()  # (kind, code)
    sources: tuple[SourceRef, ...] = ()
    currency: str | None = None
    rate: Decimal | None = None
    txn: TxnAmount | None = None


@dataclass(frozen=True)
class EntryDraft:
    journal: str
    date: dt.date
    lines: tuple[LineDraft, ...]
    description: str | None = None
    source: SourceRef | None = None
    # Set only by `reverse_entry`: the id of the entry being reversed.
    reverses_id: int | None = field(default=None, compare=False)

    def links(self) -> Iterator[tuple[str, SourceRef]]:
        """Every source link with its path in the input: the entry's, then each line's."""
        if self.source is not None:
            yield "source", self.source
        for i, line in enumerate(self.lines):
            for j, ref in enumerate(line.sources):
                yield f"lines[{i}].sources[{j}]", ref


def request_document(draft: EntryDraft) -> dict:
    """The draft as plain data, the same for requests that mean the same thing."""

    def amount(value: Decimal | None) -> str | None:
        return None if value is None else str(value.normalize())

    def source(ref: SourceRef | None) -> list | None:
        return None if ref is None else [ref.system, ref.record_type, ref.record_id, ref.url]

    return {
        "journal": draft.journal,
        "date": draft.date.isoformat(),
        "description": draft.description,
        "source": source(draft.source),
        "lines": [
            {
                "account": line.account,
                "debit": amount(line.debit),
                "credit": amount(line.credit),
                "quantity": amount(line.quantity),
                "memo": line.memo,
                **({"currency": line.currency, "rate": amount(line.rate)} if line.currency else {}),
                "dimensions": sorted(list(d) for d in line.dimensions),
                "sources": [source(s) for s in line.sources],
            }
            for line in draft.lines
        ],
    }
