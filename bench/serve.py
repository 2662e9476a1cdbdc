"""Run one benchmark server in its own process:
`python -m bench.serve gateway|gateway-plain|gateway-open|baseline DB PORT ENTITY`.

- `gateway`: as `ledgergate serve` runs it: bearer tokens (RS256 verification, the actor
  cache) and field-scope checks; the secrets key comes from LEDGERGATE_SECRETS_KEY.
- `gateway-plain`: the same with `[execution] compiled = false` (graphql-core's path only),
  so `bench.run` shows what the compiled path gains.
- `gateway-open`: the same app with authentication taken out, for `bench.auth` only: every
  request acts for ENTITY with every scope (`OpenPrincipal`, injected through
  `create_app(principals=...)`; the gateway itself has no such mode). The difference between
  the two is what the security layer costs.
- `baseline`: the hand-written Starlette endpoints of `bench.baseline`.
"""

import sys

import uvicorn


class OpenPrincipal:
    """Benchmark only: one fixed principal, no token."""

    def __init__(self, db, entity: str):
        self.db, self.entity, self._principal = db, entity, None

    async def principal(self, headers):
        if self._principal is None:
            from sqlalchemy import select

            from gateway.auth.scopes import known_scopes
            from ledger.model import Entity
            from ledger.money import currency_scale
            from ledger.tenancy import ALL_ENTITIES
            from resolvers.principal import EntityInfo, Principal

            async with self.db.session(None) as session:
                e = await session.scalar(
                    select(Entity).where(Entity.code == self.entity).execution_options(**ALL_ENTITIES)
                )
            info = EntityInfo(e.id, e.code, e.name, e.base_currency, currency_scale(e.base_currency))
            self._principal = Principal("bench", info, known_scopes([]))
        return self._principal


def main() -> None:
    kind, db_path, port, entity = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    url = f"sqlite:///{db_path}"
    if kind in ("gateway", "gateway-plain", "gateway-open"):
        from gateway.app import create_app
        from gateway.config import MAX_RATE, RateLimitSettings, Settings
        from ledger.store import LedgerDatabase

        db = LedgerDatabase.from_url(url)
        principals = OpenPrincipal(db, entity) if kind == "gateway-open" else None
        # wrk sends hundreds of requests a second from one client, more than the default
        # rate limit allows: the limits are set out of its reach, not off, so the limiter's
        # cost is in the measurement but it never refuses.
        unreachable = RateLimitSettings(
            requests_per_second=MAX_RATE, burst=MAX_RATE, token_requests_per_minute=MAX_RATE,
            token_requests_per_minute_per_address=MAX_RATE,
        )
        settings = Settings(database_url=url, graphiql=False, rate_limit=unreachable,
                            compiled=kind != "gateway-plain")
        app = create_app(settings, db=db, principals=principals)
    else:
        from bench.baseline import create_baseline_app

        app = create_baseline_app(url, entity)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
