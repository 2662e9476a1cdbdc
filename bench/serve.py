"""Run one benchmark server in its own process:
`python -m bench.serve gateway|gateway-oauth|baseline DB PORT ENTITY`."""

import sys

import uvicorn


def main() -> None:
    kind, db_path, port, entity = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    url = f"sqlite:///{db_path}"
    if kind == "gateway":
        from gateway.app import create_app
        from gateway.config import Settings

        # The ledger is measured here, not authentication: the development principal.
        app = create_app(Settings(database_url=url, graphiql=False, insecure_dev=True))
    elif kind == "gateway-oauth":
        from gateway.app import create_app
        from gateway.config import MAX_RATE, RateLimitSettings, Settings

        # Bearer tokens and scope checks, as `ledgergate serve` runs (the secrets key is in
        # the environment). wrk sends hundreds of requests a second from one client, more
        # than the default rate limit allows: the limits are set out of its reach, not off,
        # so the limiter's cost is in the measurement but it never refuses.
        unreachable = RateLimitSettings(
            requests_per_second=MAX_RATE, burst=MAX_RATE, token_requests_per_minute=MAX_RATE,
            token_requests_per_minute_per_address=MAX_RATE,
        )
        app = create_app(Settings(database_url=url, graphiql=False, rate_limit=unreachable))
    else:
        from bench.baseline import create_baseline_app

        app = create_baseline_app(url, entity)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
