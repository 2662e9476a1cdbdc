"""Run one benchmark server in its own process:
`python -m bench.serve gateway|gateway-plain|gateway-open|baseline DB PORT ENTITY [--workers N]`.

DB is a SQLite file path or any SQLAlchemy URL (`postgresql://…`). With `--workers N`,
uvicorn runs N worker processes accepting on the one port (`bench.scaleout`).

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

import argparse
import os

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


def build_app(kind: str, db: str, entity: str):
    """The ASGI app of one benchmark server; `db` a SQLite path or any SQLAlchemy URL."""
    from bench.ledgerdb import database_url

    url = database_url(db)
    if kind in ("gateway", "gateway-plain", "gateway-open"):
        from gateway.app import create_app
        from gateway.config import MAX_RATE, RateLimitSettings, Settings
        from ledger.store import LedgerDatabase

        database = LedgerDatabase.from_url(url)
        principals = OpenPrincipal(database, entity) if kind == "gateway-open" else None
        # wrk sends hundreds of requests a second from one client, more than the default
        # rate limit allows: the limits are set out of its reach, not off, so the limiter's
        # cost is in the measurement but it never refuses.
        unreachable = RateLimitSettings(
            requests_per_second=MAX_RATE, burst=MAX_RATE, token_requests_per_minute=MAX_RATE,
            token_requests_per_minute_per_address=MAX_RATE,
        )
        settings = Settings(database_url=url, graphiql=False, rate_limit=unreachable,
                            compiled=kind != "gateway-plain")
        return create_app(settings, db=database, principals=principals)
    if kind == "baseline":
        from bench.baseline import create_baseline_app

        return create_baseline_app(url, entity)
    raise SystemExit(f"unknown server kind {kind!r}")


APP_ENV = "LEDGERGATE_BENCH_SERVE"  # "kind\tdb\tentity", for `factory` in each worker


def factory():
    """`uvicorn --workers N --factory bench.serve:factory`: each worker process builds its
    own app (its own pools, caches and rate limits) from APP_ENV."""
    return build_app(*os.environ[APP_ENV].split("\t"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=("gateway", "gateway-plain", "gateway-open", "baseline"))
    parser.add_argument("db", help="a SQLite file path or any SQLAlchemy URL")
    parser.add_argument("port", type=int)
    parser.add_argument("entity")
    parser.add_argument("--workers", type=int, default=1,
                        help="uvicorn worker processes sharing the port (default 1: this process)")
    args = parser.parse_args()
    if args.workers == 1:
        app = build_app(args.kind, args.db, args.entity)
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    else:
        os.environ[APP_ENV] = "\t".join((args.kind, args.db, args.entity))
        uvicorn.run("bench.serve:factory", factory=True, workers=args.workers, host="127.0.0.1",
                    port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
