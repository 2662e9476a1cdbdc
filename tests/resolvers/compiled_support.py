"""Two apps on one ledger, compiled path on and off, called as the same OAuth client: the
harness of the compiled path's differential tests (test_compiled*.py)."""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import json

import httpx
import orjson
import pytest

from gateway.app import create_app
from resolvers.context import RequestContext
from resolvers.ledger import types as ledger_types
from resolvers.sources.catalog import EMPTY_CATALOG
from tests.callers import fetch_token, pin_actor_cache, provision_tester
from tests.conftest import make_settings
from tests.record_types import linkable_catalog
from tests.support import POST, post_random_entries, sale

READ, STAT, POST_SCOPE = "ledger:read", "statistical:read", "ledger:post"
ACME_DIMS = [("DEPARTMENT", "SALES"), ("DEPARTMENT", "ENG"), ("LOCATION", "NYC"), ("CUSTOMER", "C1")]


def plans_of(app):
    return app.state.schema.execution_context_class.plans


class Both:
    """Sends each request to the compiled and the plain app, as the same caller."""

    def __init__(self, compiled, plain, party):
        self.compiled, self.plain, self.party = compiled, plain, party
        self.tokens: dict[frozenset[str] | None, str] = {}

    async def token(self, scopes) -> str:
        key = None if scopes is None else frozenset(scopes)
        if key not in self.tokens:
            wanted = None if key is None else " ".join(sorted(key))
            self.tokens[key] = await fetch_token(self.compiled, self.party, "ACME", wanted)
        return self.tokens[key]

    async def send(self, http, query, variables, scopes) -> httpx.Response:
        headers = {"Authorization": f"Bearer {await self.token(scopes)}"}
        return await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)

    async def execute(self, http, query, variables, scopes) -> tuple:
        """The schema's own result, before the endpoint formats (and masks) errors."""
        app = http.app
        headers = {"authorization": f"Bearer {await self.token(scopes)}"}
        principal = await app.state.principals.principal(headers)
        sources = getattr(app.state, "sources", EMPTY_CATALOG)  # set by tests with source systems
        context = RequestContext(app.state.db, principal, make_settings().limits, sources)
        result = await app.state.schema.execute(query, variable_values=variables, context_value=context)
        errors = [
            {"message": e.message, "path": e.path, "locations": [(l.line, l.column) for l in e.locations or ()],
             "extensions": e.extensions}
            for e in result.errors or ()
        ]
        return result.data, errors

    async def __call__(self, query, variables=None, scopes=None, *, compiled=True, any_error_order=False) -> dict:
        """The response (as JSON), after checking both apps gave the same bytes, and that
        both schemas gave the same data and errors (`last_errors`: graphql-core's own
        messages, which the endpoint masks for unexpected ones); `compiled`: whether the
        compiled app must have served part of it with a builder. `any_error_order`: the
        same data bytes and the same errors, in any order (records answered by a
        dataloader: graphql-core lists their errors in the order the loader settles its
        keys, the compiled path in document order; `resolvers.levels`)."""
        plans = plans_of(self.compiled.app)
        served = plans.served
        fast = await self.send(self.compiled, query, variables, scopes)
        slow = await self.send(self.plain, query, variables, scopes)
        assert fast.status_code == slow.status_code
        if any_error_order:
            assert _by_path(fast.json()) == _by_path(slow.json()), _difference(fast.json(), slow.json())
            assert orjson.dumps(fast.json().get("data")) == orjson.dumps(slow.json().get("data"))
        else:
            assert fast.content == slow.content, _difference(fast.json(), slow.json())
        if compiled:
            assert plans.served > served, "the compiled path served nothing"
        fast_result = await self.execute(self.compiled, query, variables, scopes)
        slow_result = await self.execute(self.plain, query, variables, scopes)
        if any_error_order:
            fast_result, slow_result = (_by_path({"data": d, "errors": e}) for d, e in (fast_result, slow_result))
        assert fast_result == slow_result, _difference(*(
            {"data": r[0], "errors": r[1]} if isinstance(r, tuple) else r for r in (fast_result, slow_result)))
        self.last_errors = fast_result["errors"] if any_error_order else fast_result[1]
        return fast.json()


def _by_path(answer: dict) -> dict:
    errors = sorted(answer.get("errors", []), key=lambda e: (e.get("path") or [], e["message"]))
    return {**answer, "errors": errors}


def break_lines(monkeypatch, alter) -> None:
    """Every line `JournalLine.from_row` makes is first passed to `alter(row, line)`, which
    may put in it what graphql-core must refuse."""
    original = ledger_types.JournalLine.from_row

    def from_row(row):
        line = original(row)
        alter(row, line)
        return line

    monkeypatch.setattr(ledger_types.JournalLine, "from_row", staticmethod(from_row))


def _difference(fast, slow) -> str:
    """Where the two answers differ (a whole lineage answer is too long to read)."""
    if fast.get("data") == slow.get("data"):  # the same data: compare the errors alone
        fast, slow = ([f"{e.get('path')}: {e['message']}" for e in a.get("errors", [])] for a in (fast, slow))
    lines = [json.dumps(answer, indent=1, sort_keys=False).splitlines() for answer in (fast, slow)]
    diff = difflib.unified_diff(*lines, "compiled", "plain", n=2, lineterm="")
    return "\n".join(itertools.islice(diff, 60))


@pytest.fixture
async def both(world):
    apps = [create_app(dataclasses.replace(make_settings(), compiled=flag), db=world.db,
                       sources=linkable_catalog()) for flag in (True, False)]
    assert plans_of(apps[0]) is not None and not hasattr(apps[1].state.schema.execution_context_class, "plans")
    party = await provision_tester(world.db)
    clients = []
    for app in apps:
        pin_actor_cache(app)
        clients.append(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ledgergate.test"))
        clients[-1].app = app
    yield Both(clients[0], clients[1], party)
    for client in clients:
        await client.aclose()


@pytest.fixture
async def ledger_data(both, world):
    """40 random ACME entries, a sale with memo and source links, a statistical entry."""
    await post_random_entries(world.db, world.acme, 40, 5, ["1000", "1100", "2000", "4000", "5000"], ACME_DIMS)
    result = await both(POST, {"input": sale(), "key": "k1"}, compiled=False)
    assert "errors" not in result, result
    stat = {"journal": "GJ", "date": "2026-03-31", "lines": [{"account": "9000", "quantity": "3"}]}
    result = await both(POST, {"input": stat, "key": "k2"}, compiled=False)
    assert "errors" not in result, result
    return world
