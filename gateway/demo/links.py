"""The source links ledger lines carry to the demo records behind them."""

from ledger.drafts import SourceRef
from sources.demo.records import SourceRecord, record_url


def link(system: str, record_type: str, record_id: str) -> SourceRef:
    return SourceRef(system, record_type, record_id, record_url(system, record_type, record_id))


def source_ref(record: SourceRecord) -> SourceRef:
    return link(*record.key)
