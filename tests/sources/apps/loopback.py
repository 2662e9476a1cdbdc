"""Serving an ASGI app on a real loopback port for the length of a test."""

from __future__ import annotations

import functools
import socket

from sources.demo.services.serve import serving as _serving

# Test apps have no start-up or shutdown of their own.
serving = functools.partial(_serving, lifespan="off")


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
