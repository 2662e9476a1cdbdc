"""The general ledger domain: model, posting rules, reports and verification.

Knows nothing of GraphQL or HTTP; every read and write goes through an entity-scoped
session (see `ledger.tenancy`).
"""
