"""The media type of a GraphQL response, and its status code, per GraphQL over HTTP.

The specification (https://graphql.github.io/graphql-over-http/) defines two response
media types. `application/graphql-response+json` is answered when the client's `Accept`
asks for it at least as much as for `application/json`; then the status code says what
happened: a response without `data` (the request failed before execution: a syntax,
validation or variable error, a limit) is a 4xx, one that executed is a 200 whatever its
field errors. `application/json` stays the default, for clients that do not ask and for
legacy ones; with it every well-formed request is answered 200, as before.
"""

from __future__ import annotations

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value.strip())))
            except ValueError:
                return 0.0
    return 1.0


def response_media_type(accept: str | None) -> str:
    """`GRAPHQL_RESPONSE` if `accept` prefers it (or ties) over `application/json`, counting
    `application/*` and `*/*` for the latter; `JSON` otherwise, also for no header."""
    if not accept:
        return JSON
    wanted = json = 0.0
    for item in accept.split(","):
        media, *params = item.split(";")
        media = media.strip().lower()
        if media == GRAPHQL_RESPONSE:
            wanted = max(wanted, _quality(params))
        elif media in (JSON, "application/*", "*/*"):
            json = max(json, _quality(params))
    return GRAPHQL_RESPONSE if wanted > 0 and wanted >= json else JSON


def result_status(media_type: str, body: dict, internal: bool) -> int:
    """The status of a GraphQL response `body` in `media_type`; `internal`: one of its errors
    is the server's fault (INTERNAL)."""
    if media_type != GRAPHQL_RESPONSE or "data" in body:
        return 200
    return 500 if internal else 400
