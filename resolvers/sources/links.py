"""Which source links an entry may carry: links name a configured system and record type.

Checked before the posting's transaction opens (it must not wait on anything while it holds
the entity's write lock); the violations join the ledger's own in one BAD_USER_INPUT.
"""

from __future__ import annotations

import asyncio

from ledger.drafts import EntryDraft
from ledger.errors import Violation

from ..errors import NOT_FOUND, CodedError
from .catalog import SourceCatalog
from .dataloaders import SourceRecordLoader


def link_violations(catalog: SourceCatalog, draft: EntryDraft) -> list[Violation]:
    violations = []
    for path, ref in draft.links():
        if ref.system not in catalog.sources:
            violations.append(Violation(f"{path}.system", f"no source system {ref.system!r} is configured"))
        elif (ref.system, ref.record_type) not in catalog.record_types:
            violations.append(Violation(
                f"{path}.recordType",
                f"source system {ref.system!r} has no record type {ref.record_type!r}",
            ))
    return violations


async def unverified_links(
    catalog: SourceCatalog, drafts: list[EntryDraft], entity_code: str
) -> list[list[Violation]]:
    """For each draft, its links to record types with `verify_links` whose record is not
    there for `entity_code`: missing, or another entity's (the same words for both, as
    everywhere).

    One fetch per record type, whatever the number of links and drafts: one loader batches
    them. A system that cannot answer raises its coded error (SOURCE_UNAVAILABLE,
    SOURCE_TIMEOUT): nothing is posted on a guess.
    """
    wanted: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
    for index, draft in enumerate(drafts):
        for path, ref in draft.links():
            spec = catalog.record_types.get((ref.system, ref.record_type))
            if spec is not None and spec.verify_links:
                wanted.setdefault((ref.system, ref.record_type), []).append(
                    (index, path, ref.record_id)
                )
    violations: list[list[Violation]] = [[] for _ in drafts]
    for (system, record_type), links in wanted.items():
        spec = catalog.record_types[(system, record_type)]
        loader = SourceRecordLoader(catalog.sources[system], spec, (spec.key,), entity_code)
        ids = sorted({record_id for _, _, record_id in links})
        answers = await asyncio.gather(*(loader.load(i) for i in ids), return_exceptions=True)
        found = dict(zip(ids, answers))
        for index, path, record_id in links:
            answer = found[record_id]
            if isinstance(answer, CodedError) and answer.extensions["code"] == NOT_FOUND:
                violations[index].append(Violation(f"{path}.recordId", str(answer)))
            elif isinstance(answer, Exception):
                raise answer
    return violations
