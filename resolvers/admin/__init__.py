"""Administration of the caller's books (`ledger.admin`, `ledger.closing`) over GraphQL."""
