"""OAuth 2.0 core of the gateway: scopes and the grant rule, client-secret hashes, signing
keys and JWT access tokens.

Pure and database-free: these modules neither read the clock nor touch the network or the
database; the HTTP app, the token endpoint and the CLI wire them in.
"""
