"""uvicorn's access log never shows a query string: a token sent as ?access_token= was
written there in full."""

import asyncio
import logging
import socket

import httpx
import uvicorn

from gateway.access_log import ACCESS_LOGGER, redact_access_log
from gateway.app import create_app
from tests.conftest import make_settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_a_token_in_the_query_string_never_reaches_the_access_log(world):
    port = _free_port()
    app = create_app(make_settings(), db=world.db)
    # As `ledgergate serve` configures it (gateway.cli.serve.serve_app).
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", lifespan="off")
    redact_access_log()
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    seen = Lines()  # uvicorn's access logger does not propagate: listen on it directly
    logging.getLogger(ACCESS_LOGGER).addHandler(seen)
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        secret = "eyJhbGciOiJSUzI1NiJ9.secret-token-part.signature"
        async with httpx.AsyncClient() as http:
            for path in (f"/graphql?access_token={secret}&query=%7Bentity%7D", f"/healthz?t={secret}"):
                await http.get(f"http://127.0.0.1:{port}{path}")
        for _ in range(50):  # the log line is written as the response ends
            if len(seen.lines) >= 2:
                break
            await asyncio.sleep(0.02)
    finally:
        server.should_exit = True
        await task
        logging.getLogger(ACCESS_LOGGER).removeHandler(seen)
    lines = seen.lines
    assert len(lines) == 2, lines
    assert all(secret not in line and "access_token" not in line for line in lines), lines
    assert '"GET /graphql?… HTTP/1.1" 401' in lines[0], lines
    assert '"GET /healthz?… HTTP/1.1" 200' in lines[1], lines
