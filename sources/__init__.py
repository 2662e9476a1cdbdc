"""Connectors to source systems: the contract (`base`), its errors, and one module per kind.

Nothing here imports `ledger`, `resolvers` or `gateway`.
"""
