"""The error tree of source systems, modelled on httpx's: one base, few leaves.

    SourceError
    ├── SourceUnavailable        the system cannot answer now (refused, 5xx, garbage, …)
    │   ├── CircuitOpen          failing fast while the system is known to be down
    │   └── SourceProtocolError  it answered, but not with what the contract promises
    ├── SourceTimeout            it did not answer within the configured timeout
    └── DeliveryRefused          it will not take a message we deliver (a 4xx): sending the
                                 same message again cannot help
    SourceConfigError            a source is configured wrongly (raised at start)

Messages name the system and never carry credentials.
"""

from __future__ import annotations


class SourceError(Exception):
    """Base of every failure to get records from a source system."""

    code = "SOURCE_UNAVAILABLE"

    def __init__(self, system: str, message: str):
        self.system = system
        super().__init__(f"{system}: {message}")


class SourceUnavailable(SourceError):
    pass


class CircuitOpen(SourceUnavailable):
    pass


class SourceProtocolError(SourceUnavailable):
    pass


class SourceTimeout(SourceError):
    code = "SOURCE_TIMEOUT"


class DeliveryRefused(SourceError):
    """The system answered a delivery with a refusal that will not change (HTTP 400, 404,
    422, …): the message is dead-lettered at once rather than retried."""


class SourceConfigError(ValueError):
    """A configuration problem, named by file, system and what is wrong."""

    def __init__(self, file: str, system: str | None, problem: str):
        self.file, self.system, self.problem = file, system, problem
        where = f"{file}: source {system!r}" if system else file
        super().__init__(f"{where}: {problem}")
