"""Exchange rates over GraphQL (`ledger.rates`)."""
