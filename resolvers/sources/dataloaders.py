"""Per-request loaders for source records and for the ledger lines linked to them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from aiodataloader import DataLoader

from ledger import reads
from sources.base import FetchRequest, RecordType, Source
from sources.errors import SourceError

from ..errors import NOT_FOUND, CodedError
from ..ledger.dataloaders import LedgerLoader


class LinesBySourceLoader(LedgerLoader):
    """Key: ((system, record type, record id), first, after) → (rows, has_next)."""

    async def load_batch(self, session, keys):
        batches: dict[tuple, list] = defaultdict(list)
        for source_key, first, after in keys:
            batches[(first, after)].append(source_key)
        pages: dict[tuple, tuple] = {}
        for (first, after), source_keys in batches.items():
            found = await reads.lines_for_sources(session, source_keys, first=first, after=after)
            for source_key, page in found.items():
                pages[(source_key, first, after)] = page
        return [pages[k] for k in keys]


def source_error(error: SourceError, path_hint: str) -> CodedError:
    return CodedError(f"{path_hint}: {error}", error.code, system=error.system)


class SourceRecordLoader(DataLoader):
    """Records of one (system, record type) with one set of fields, by id, for one entity.

    The request's loaders are keyed by (system, record type, fields), so each batch is one
    `fetch` (chunked by the source's policy) however many links point at that type.
    Each key resolves to the record, or to the error that explains its absence.

    This is where source records are confined to the caller's entity, for every path that
    reaches them (`sourceRecord`, `SourceLink.record`, and whatever comes later): a record
    whose owner (`RecordType.ownership`) is not `entity_code` is answered exactly as a
    record the system does not have, and a per-entity system of another entity is not
    even asked. The owner field is fetched whether or not the query selected it.
    """

    def __init__(
        self, source: Source, record_type: RecordType, fields: tuple[str, ...], entity_code: str
    ):
        super().__init__()
        self.source = source
        self.record_type = record_type
        self.fields = fields
        self.entity_code = entity_code
        ownership = record_type.ownership
        if ownership is None:  # SourceCatalog.of refuses these; never serve one regardless
            raise ValueError(f"{record_type.system}/{record_type.name} has no ownership")
        self.owner_field = ownership.field
        self.visible = ownership.shared or ownership.entity in (None, entity_code)
        self.fetched = fields if ownership.field in (None, *fields) else (*fields, ownership.field)
        # Worked out once per request and field set, not per record: the audit log's
        # `sensitive_read` names them (`resolvers.sources.records`).
        self.sensitive_fields = tuple(
            f.name for f in record_type.fields if f.sensitive and f.name in fields
        )

    def _missing(self, name: str, record_id: str) -> CodedError:
        return CodedError(
            f"{name}/{record_id} does not exist in {self.record_type.system}",
            NOT_FOUND,
            system=self.record_type.system,
        )

    def _owned(self, record: dict) -> bool:
        return self.owner_field is None or record.get(self.owner_field) == self.entity_code

    async def _owned_unusable(self, invalid: dict[str, str]) -> dict[str, str | SourceError]:
        """The unusable records that are the caller's, with the reason. An unusable record's
        owner is not known from the answer (its values did not convert), and saying it is
        unusable would tell another entity that it exists, with the offending value: its
        owner field alone is fetched again, for those ids only, and only when it happens.
        If that fetch fails, those ids get its error, which says nothing of any record."""
        if not invalid or self.owner_field is None:
            return invalid
        probe = FetchRequest(self.record_type, tuple(invalid), (self.record_type.key, self.owner_field))
        try:
            owners = await self.source.fetch(probe)
        except SourceError as error:
            return dict.fromkeys(invalid, error)
        return {i: reason for i, reason in invalid.items()
                if i in owners.records and self._owned(owners.records[i])}

    async def batch_load_fn(self, ids: Sequence[str]) -> list:
        name = f"{self.record_type.system}/{self.record_type.name}"
        if not self.visible:
            return [self._missing(name, i) for i in ids]
        request = FetchRequest(self.record_type, tuple(ids), self.fetched)
        try:
            result = await self.source.fetch(request)
        except SourceError as error:
            return [source_error(error, f"{name}/{i}") for i in ids]
        unusable = await self._owned_unusable(result.invalid)
        answers: list = []
        for record_id in ids:
            if record_id in result.records:
                record = result.records[record_id]
                answers.append(record if self._owned(record) else self._missing(name, record_id))
            elif isinstance(failed := result.failed.get(record_id), SourceError):
                answers.append(source_error(failed, f"{name}/{record_id}"))
            elif isinstance(reason := unusable.get(record_id), SourceError):
                answers.append(source_error(reason, f"{name}/{record_id}"))
            elif reason is not None:
                answers.append(
                    CodedError(
                        f"{name}/{record_id}: the system returned an unusable record "
                        f"({reason})",
                        "SOURCE_UNAVAILABLE",
                        system=self.record_type.system,
                    )
                )
            else:
                answers.append(self._missing(name, record_id))
        return answers
