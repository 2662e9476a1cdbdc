"""What the demo CRM keeps across restarts: the ledger's orders as it holds them, its
idempotency store, its notes and the deals its people won (`crm_ledger`, `crm_deals`).

Like any CRM, it remembers: the ledger delivers each change once, so a CRM that forgot
them at every start would show nothing of the year after the first. One small JSON file,
rewritten whole (to a side file, then renamed) after each change; no path keeps it in
memory only (tests and benchmarks).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson


class CrmState:
    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = None if path is None else Path(path)
        self.sections: dict[str, Any] = {}
        if self.path is not None and self.path.exists():
            self.sections = orjson.loads(self.path.read_bytes())

    def get(self, section: str, default: Any) -> Any:
        return self.sections.get(section, default)

    @property
    def kept(self) -> bool:
        """Whether what is saved outlives the process (else callers need not save)."""
        return self.path is not None

    def save(self, **sections: Any) -> None:
        """Keep each section's value (JSON: dicts with string keys, lists, strings, numbers)."""
        self.sections.update(sections)
        if self.path is None:
            return
        side = self.path.with_name(self.path.name + ".writing")
        side.write_bytes(orjson.dumps(self.sections))
        side.replace(self.path)
