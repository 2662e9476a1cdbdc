"""GraphQL over the audit log (`ledger.audit`): `Query.auditEvents`, needing `audit:read`."""
