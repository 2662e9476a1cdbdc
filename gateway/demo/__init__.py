"""The `ledgergate demo` world: a two-company holding's ledger, posted from its source records."""
