"""The per-entity hash chain over posted entries.

An entry's hash is SHA-256 over the previous entry's hash and the canonical JSON of the
entry's content: everything an auditor reads (number, journal, date, description, posting
time, reversal link, every line with account code, amounts in minor units, quantity,
memo, dimension codes and source links). Posting and verification both build the content
with `entry_content`, so they cannot drift apart.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceContent:
    system: str
    record_type: str
    record_id: str
    url: str | None


@dataclass(frozen=True)
class LineContent:
    line_no: int
    account: str
    currency: str | None
    debit: int
    credit: int
    quantity: int | None
    memo: str | None
    dimensions: Mapping[str, str]  # kind → code
    sources: Sequence[SourceContent]
    # A transaction-currency line: (currency, debit, credit in its minor units, rate text).
    # Hashed only when present, so every base-currency entry keeps the hash it had.
    txn: tuple[str, int, int, str] | None = None


@dataclass(frozen=True)
class EntryContent:
    entity: str
    seq: int
    number: str
    journal: str
    date: str
    description: str | None
    posted_at: str
    reverses: str | None
    sources: Sequence[SourceContent]
    lines: Sequence[LineContent]


def _source(s: SourceContent) -> list:
    return [s.system, s.record_type, s.record_id, s.url]


def canonical_json(content: EntryContent) -> bytes:
    document = {
        "entity": content.entity,
        "seq": content.seq,
        "number": content.number,
        "journal": content.journal,
        "date": content.date,
        "description": content.description,
        "posted_at": content.posted_at,
        "reverses": content.reverses,
        "sources": [_source(s) for s in content.sources],
        "lines": [
            {
                "line_no": line.line_no,
                "account": line.account,
                "currency": line.currency,
                "debit": line.debit,
                "credit": line.credit,
                "quantity": line.quantity,
                "memo": line.memo,
                "dimensions": dict(sorted(line.dimensions.items())),
                "sources": [_source(s) for s in line.sources],
                **({"txn": list(line.txn)} if line.txn is not None else {}),
            }
            for line in sorted(content.lines, key=lambda line: line.line_no)
        ],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, content: EntryContent) -> str:
    digest = hashlib.sha256()
    digest.update(prev_hash.encode())
    digest.update(b"\n")
    digest.update(canonical_json(content))
    return digest.hexdigest()


def fingerprint(document: object) -> str:
    """A stable hash of a request, for idempotency-key comparison."""
    raw = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(raw).hexdigest()
