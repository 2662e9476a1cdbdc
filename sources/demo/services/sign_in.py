"""Every route of a demo system needs credentials: a machine's on any route, a person's on
a deep link.

`SignInMiddleware` wraps a whole app, so it is in front of every route the app has or will
have, and of paths that match none (a 404 would tell what exists):

- a request with the system's machine credentials (`MachineCredentials`: the API key, or
  the OAuth2 bearer token) passes, and sees every field;
- a person (`people.People`) signed in with HTTP Basic may ``GET`` (or ``HEAD``) a deep
  link, ``/<system>/<path>/{id}``, and nothing else (403 elsewhere); the app finds the person
  in ``scope["demo.person"]`` and shows only what that person may see;
- anything else is a 401 without record data. On a deep link it challenges
  ``Basic realm="<system>"``, so that a browser asks its user to sign in.

`open_paths` are the paths that authenticate their callers themselves (the OAuth2 token
endpoint takes the client's id and secret).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from .people import PERSON_KEY, DemoPerson, People
from .routes import Collection, error

PERSON_METHODS = frozenset({"GET", "HEAD"})
# RFC 6455 §7.4.1: the endpoint refuses what its policy does not allow.
POLICY_VIOLATION = 1008


class MachineCredentials(Protocol):
    """How the system's clients (the gateway) authenticate; see `api_key`, `oauth`."""

    def accepts(self, headers: Headers) -> bool: ...

    def challenge(self, headers: Headers) -> str | None:
        """The ``WWW-Authenticate`` value for a refused request, if the scheme has one."""


class SignInMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        realm: str,
        machine: MachineCredentials,
        people: People,
        deep_links: Iterable[str],
        open_paths: Iterable[str] = (),
    ):
        self.app = app
        self.realm = realm
        self.machine = machine
        self.people = people
        self.deep_links = tuple(path.rstrip("/") + "/" for path in deep_links)
        self.open_paths = frozenset(open_paths)

    def is_deep_link(self, scope: Scope) -> bool:
        path: str = scope["path"]
        return scope.get("method") in PERSON_METHODS and any(
            path.startswith(prefix) and "/" not in path[len(prefix) :] and path != prefix
            for prefix in self.deep_links
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self.machine.accepts(headers) or (
            scope["type"] == "http" and scope["path"] in self.open_paths
        ):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": POLICY_VIOLATION})
            return
        deep_link = self.is_deep_link(scope)
        person = self.people.verify(headers.get("authorization", ""))
        if person is not None and deep_link:
            await self.app({**scope, PERSON_KEY: person}, receive, send)
            return
        if person is not None:
            response = error(
                403, "forbidden", "people may open deep links only (GET /<system>/<path>/<id>)"
            )
        else:
            response = error(401, "unauthorized", self._refusal(deep_link))
            for challenge in self._challenges(headers, deep_link):
                response.headers.append("WWW-Authenticate", challenge)
        await response(scope, receive, send)

    def _refusal(self, deep_link: bool) -> str:
        if deep_link and self.people:
            return f"sign in to {self.realm} (HTTP Basic) or send the system's API credentials"
        return f"{self.realm} needs its API credentials"

    def _challenges(self, headers: Headers, deep_link: bool) -> list[str]:
        found = []
        if deep_link and self.people:
            found.append(f'Basic realm="{self.realm}", charset="UTF-8"')
        machine = self.machine.challenge(headers)
        return found + [machine] if machine else found


def signed_in_app(
    realm: str,
    routes: Sequence[BaseRoute],
    collections: Iterable[Collection],
    *,
    machine: MachineCredentials,
    people: Iterable[DemoPerson] = (),
    open_paths: Iterable[str] = (),
) -> Starlette:
    """A demo system's app: `routes` behind `SignInMiddleware`, whose deep links are those
    of `collections`."""
    guard = Middleware(
        SignInMiddleware,
        realm=realm,
        machine=machine,
        people=People(people),
        deep_links=[collection.path for collection in collections],
        open_paths=open_paths,
    )
    return Starlette(routes=list(routes), middleware=[guard])
