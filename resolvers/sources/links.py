"""Which source links an entry may carry: links name a configured system and record type.

Checked before the posting's transaction opens (it must not wait on anything while it holds
the entity's write lock); the violations join the ledger's own in one BAD_USER_INPUT.
"""

from __future__ import annotations

from collections.abc import Iterator

from ledger.drafts import EntryDraft, SourceRef
from ledger.errors import Violation

from .catalog import SourceCatalog


def draft_links(draft: EntryDraft) -> Iterator[tuple[str, SourceRef]]:
    """Every link of an entry with its path in the input: the entry's, then each line's."""
    if draft.source is not None:
        yield "source", draft.source
    for i, line in enumerate(draft.lines):
        for j, ref in enumerate(line.sources):
            yield f"lines[{i}].sources[{j}]", ref


def link_violations(catalog: SourceCatalog, draft: EntryDraft) -> list[Violation]:
    violations = []
    for path, ref in draft_links(draft):
        if ref.system not in catalog.sources:
            violations.append(Violation(f"{path}.system", f"no source system {ref.system!r} is configured"))
        elif (ref.system, ref.record_type) not in catalog.record_types:
            violations.append(Violation(
                f"{path}.recordType",
                f"source system {ref.system!r} has no record type {ref.record_type!r}",
            ))
    return violations
