"""OAuth 2.0 of the gateway: scopes and the grant rule, client-secret hashes, signing keys
and JWT access tokens (pure and database-free: these neither read the clock nor touch the
network or the database), plus the identities (`identities`), the persisted signing keys
(`keystore`) and the authorization server's HTTP endpoints (`server`), which wire them in;
and the verifying side: the issuers /graphql trusts (`issuers`: the built-in server and
external identity providers, whose keys `jwks` fetches and caches) and the bearer-token
principal (`principal`).
"""
