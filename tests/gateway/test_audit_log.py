"""The audit log (`ledger.audit`) through the real app, with real clients and bearer tokens:
each kind of event is written with its who, what and request id; no secret or token ever
lands in it; the database refuses to change it; `auditEvents` needs `audit:read` and shows
only the caller's entity; `ledgergate audit list`; a plain query writes nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from gateway.app import create_app
from gateway.auth import identities
from gateway.cli import main
from gateway.secrets import KEY_ENV, new_key_text
from ledger import audit
from ledger.model import AuditEvent
from ledger.tenancy import ImmutableHistoryError
from resolvers.sources.catalog import SourceCatalog
from sources.base import FetchRequest, FetchResult, Source, collect
from tests.conftest import StatementCounter
from tests.gateway.oauth_support import Party, add_party, oauth_settings, request_token
from sources.mock import MockSource
from tests.record_types import HR_EMPLOYEE, sales_order
from tests.support import POST, counts, sale

EVERYTHING = "ledger:read ledger:post statistical:read audit:read source:hr:read source:hr:sensitive"
READER = "ledger:read source:hr:read"

EMPLOYEE = HR_EMPLOYEE
SALARY = "120000.00"
# An entry BETA's chart of accounts can take (tests.support.sale is ACME's).
BETA_SALE = {"journal": "GJ", "date": "2026-03-15",
             "lines": [{"account": "1000", "debit": "5.00"}, {"account": "4000", "credit": "5.00"}]}


class People(Source):
    """An HR system in memory, with one employee."""

    name = "hr"

    async def fetch(self, request: FetchRequest) -> FetchResult:
        rows = {"E1": {"id": "E1", "name": "Ada", "annualSalary": SALARY}}
        return collect(request, [rows[i] for i in request.ids if i in rows])


@dataclass
class Audited:
    http: httpx.AsyncClient
    db: object
    world: object
    acme: Party  # ACME as bot: every scope
    reader: Party  # ACME as reader-bot: ledger:read source:hr:read
    beta: Party  # BETA as beta-bot: every scope
    statements: StatementCounter

    async def token(self, party: Party | None = None, **form) -> str:
        response = await request_token(self.http, party or self.acme, **form)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    async def graphql(self, token: str, query: str, variables=None, request_id=None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if request_id:
            headers["X-Request-Id"] = request_id
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def rows(self, **where) -> list[AuditEvent]:
        """Every event (all entities), oldest first."""
        async with self.db.engine.connect() as connection:
            statement = select(AuditEvent.__table__)
            for column, value in where.items():
                statement = statement.where(getattr(AuditEvent, column) == value)
            return list((await connection.execute(statement.order_by(AuditEvent.id))).all())


@pytest.fixture
async def audited(world, monkeypatch) -> AsyncIterator[Audited]:
    monkeypatch.setenv(KEY_ENV, new_key_text())
    db = world.db
    await identities.add_role(db, "auditor", EVERYTHING)
    await identities.add_role(db, "reader", READER)
    await identities.add_user(db, "ACME", "bot", "auditor")
    await identities.add_user(db, "ACME", "reader-bot", "reader")
    await identities.add_user(db, "BETA", "beta-bot", "auditor")
    acme = await add_party(db, "Acme books", EVERYTHING, "ACME", "bot")
    reader = await add_party(db, "Acme reader", READER, "ACME", "reader-bot")
    beta = await add_party(db, "Beta books", EVERYTHING, "BETA", "beta-bot")
    # crm too: the entries posted here link to crm sales orders.
    catalog = SourceCatalog.of({"hr": People(), "crm": MockSource("crm")}, [EMPLOYEE, sales_order()])
    app = create_app(oauth_settings(), db=db, sources=catalog)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledgergate.test") as http:
        yield Audited(http, db, world, acme, reader, beta, StatementCounter(db))


def assert_no_secret(rows, *secrets: str) -> None:
    dumped = json.dumps([list(map(str, row)) for row in rows])
    for secret in secrets:
        assert secret not in dumped


def entity_ids(audited: Audited) -> dict[str, int]:
    return {"ACME": audited.world.acme, "BETA": audited.world.beta}


# --- request ids ----------------------------------------------------------------------------


async def test_every_request_gets_a_request_id_and_keeps_a_well_formed_one(audited):
    token = await audited.token()
    kept = await audited.graphql(token, "{ entity { code } }", request_id="trace-42.a:b_c")
    assert kept.headers["x-request-id"] == "trace-42.a:b_c"
    made = await audited.graphql(token, "{ entity { code } }")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    # Malformed or too long (an access token pasted there): replaced, never echoed.
    for bad in ("two words", "x" * 65, token):
        replaced = await audited.graphql(token, "{ entity { code } }", request_id=bad)
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])
    refused = await audited.http.post("/graphql", json={"query": "{ entity { code } }"},
                                      headers={"X-Request-Id": "no-token-1"})
    assert refused.status_code == 401 and refused.headers["x-request-id"] == "no-token-1"
    oauth = await request_token(audited.http, audited.acme)
    assert re.fullmatch(r"[0-9a-f]{32}", oauth.headers["x-request-id"])


# --- the token endpoint ---------------------------------------------------------------------


async def test_token_issued_and_refused(audited):
    response = await audited.http.post(
        "/oauth/token", data={"grant_type": "client_credentials", "scope": "ledger:read audit:read"},
        headers={**_basic(audited.acme), "X-Request-Id": "tok-1"},
    )
    assert response.status_code == 200 and response.headers["x-request-id"] == "tok-1"
    token = response.json()["access_token"]
    [issued] = await audited.rows(request_id="tok-1")
    assert (issued.event, issued.outcome, issued.client_id, issued.username, issued.entity_id) == (
        "token_issued", "OK", audited.acme.client_id, "bot", audited.world.acme)
    assert issued.detail == {"scopes": ["audit:read", "ledger:read"], "grantType": "client_credentials"}

    wrong = Party(audited.acme.client_id, "not-the-secret-" + "x" * 28)
    refused = await audited.http.post(
        "/oauth/token", data={"grant_type": "client_credentials", "entity": "ACME"},
        headers={**_basic(wrong), "X-Request-Id": "tok-2"},
    )
    assert refused.status_code == 401
    [row] = await audited.rows(request_id="tok-2")
    # The client did not authenticate: its word ties the refusal to no entity.
    assert (row.event, row.outcome, row.client_id, row.username, row.entity_id) == (
        "token_refused", "invalid_client", audited.acme.client_id, None, None)
    assert row.detail == {"description": "client authentication failed", "status": 401,
                          "clientAuthenticated": False, "entity": "ACME", "scope": None}

    scoped = await audited.http.post(
        "/oauth/token", data={"grant_type": "client_credentials", "scope": "ledger:read ledger:nope"},
        headers={**_basic(audited.reader), "X-Request-Id": "tok-3"},
    )
    assert scoped.status_code == 400
    [row] = await audited.rows(request_id="tok-3")
    assert (row.event, row.outcome, row.client_id, row.entity_id) == (
        "token_refused", "invalid_scope", audited.reader.client_id, None)
    assert row.detail["clientAuthenticated"] is True and "ledger:nope" in row.detail["description"]

    # An authenticated client naming an entity it may not reach: in that entity's log.
    other = await audited.http.post(
        "/oauth/token", data={"grant_type": "client_credentials", "entity": "BETA"},
        headers={**_basic(audited.acme), "X-Request-Id": "tok-4"},
    )
    assert other.status_code == 400
    [row] = await audited.rows(request_id="tok-4")
    assert (row.outcome, row.client_id, row.entity_id) == (
        "unauthorized_client", audited.acme.client_id, audited.world.beta)

    # Credentials swapped: what stands where the client id should is no client id (here,
    # the secret), and is not recorded.
    swapped = await audited.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"},
        headers={**_basic(Party(audited.reader.secret, audited.reader.client_id)), "X-Request-Id": "tok-6"},
    )
    assert swapped.status_code == 401
    [row] = await audited.rows(request_id="tok-6")
    assert (row.event, row.outcome, row.client_id) == ("token_refused", "invalid_client", None)

    # Refused before the client is known (a GET): recorded too.
    get = await audited.http.get("/oauth/token", headers={"X-Request-Id": "tok-5"})
    assert get.status_code == 405
    [row] = await audited.rows(request_id="tok-5")
    assert (row.event, row.outcome, row.client_id) == ("token_refused", "invalid_request", None)

    assert_no_secret(await audited.rows(), audited.acme.secret, audited.reader.secret, wrong.secret,
                     token)


async def test_a_token_whose_issue_cannot_be_recorded_is_not_handed_out(audited, monkeypatch, caplog):
    async def broken(db, events):
        raise DBAPIError("INSERT", {}, Exception("disk full"))

    monkeypatch.setattr(audit, "record", broken)
    response = await request_token(audited.http, audited.acme)
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert "access_token" not in response.text
    assert "the audit log cannot be written (DBAPIError); event lost" in caplog.text
    assert audited.acme.secret not in caplog.text


def _basic(party: Party) -> dict[str, str]:
    from tests.gateway.oauth_support import basic_auth

    return basic_auth(party)


# --- bearer tokens at /graphql --------------------------------------------------------------


async def test_a_refused_bearer_token(audited):
    forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJib3QifQ.c2ln"
    response = await audited.http.post(
        "/graphql", json={"query": "query Books { entity { code } }", "operationName": "Books"},
        headers={"Authorization": f"Bearer {forged}", "X-Request-Id": "bad-1"},
    )
    assert response.status_code == 401
    [row] = await audited.rows(request_id="bad-1")
    # A token that does not verify vouches for nothing: no client, no entity.
    assert (row.event, row.outcome, row.client_id, row.username, row.entity_id) == (
        "authentication_refused", "UNAUTHENTICATED", None, None, None)
    assert row.detail == {"reason": "unsupported algorithm", "operation": "Books"}

    # A verified token whose client was disabled since: the client and entity are known.
    token = await audited.token(audited.reader)
    await identities.disable_client(audited.db, audited.reader.client_id)
    response = await audited.graphql(token, "{ entity { code } }", request_id="bad-2")
    assert response.status_code == 401
    [row] = await audited.rows(request_id="bad-2")
    assert (row.event, row.client_id, row.entity_id) == (
        "authentication_refused", audited.reader.client_id, audited.world.acme)
    assert row.detail == {"reason": "client disabled", "operation": None}
    assert_no_secret(await audited.rows(), forged, token, audited.reader.secret)


# --- fields refused for missing scopes ------------------------------------------------------


async def test_fields_refused_for_missing_scopes_make_one_access_denied_row(audited):
    token = await audited.token(audited.reader)
    query = """query Peek { entity { code } account(code: "9000") { code balance }
                sourceRecord(system: "hr", recordType: "Employee", recordId: "E1") {
                  ... on HrEmployee { name annualSalary } } }"""
    response = await audited.graphql(token, query, request_id="deny-1")
    body = response.json()
    assert response.status_code == 200
    assert body["data"] == {"entity": {"code": "ACME"}, "account": None,
                            "sourceRecord": {"name": "Ada", "annualSalary": None}}
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    [row] = await audited.rows(request_id="deny-1")
    assert (row.event, row.outcome, row.client_id, row.username, row.entity_id) == (
        "access_denied", "FORBIDDEN", audited.reader.client_id, "reader-bot", audited.world.acme)
    assert row.detail["operation"] == "Peek"
    assert sorted((tuple(f["path"]), tuple(f["scopes"])) for f in row.detail["fields"]) == [
        (("account", "balance"), ("statistical:read",)),
        (("sourceRecord", "annualSalary"), ("source:hr:sensitive",)),
    ]


# --- mutations ------------------------------------------------------------------------------


async def test_a_successful_mutation_is_recorded_in_its_own_transaction(audited):
    token = await audited.token()
    response = await audited.graphql(token, POST, {"input": sale(), "key": "k-1"}, request_id="mut-1")
    entry = response.json()["data"]["postJournalEntry"]["entry"]
    [row] = await audited.rows(request_id="mut-1")
    assert (row.event, row.outcome, row.client_id, row.username, row.entity_id) == (
        "mutation", "OK", audited.acme.client_id, "bot", audited.world.acme)
    assert row.detail["operation"] == "postJournalEntry"
    assert row.detail["idempotencyKey"] == "k-1"
    assert [e["number"] for e in row.detail["entries"]] == [entry["number"]]

    reverse = """mutation R($n: String!) { reverseJournalEntry(number: $n, date: "2026-03-20",
                 idempotencyKey: "r-1") { entry { number } } }"""
    response = await audited.graphql(token, reverse, {"n": entry["number"]}, request_id="mut-2")
    reversal = response.json()["data"]["reverseJournalEntry"]["entry"]["number"]
    [row] = await audited.rows(request_id="mut-2")
    assert row.detail["operation"] == "reverseJournalEntry" and row.outcome == "OK"
    assert row.detail["number"] == entry["number"]
    assert [e["number"] for e in row.detail["entries"]] == [reversal]


async def test_a_mutation_that_fails_validation_is_recorded_and_writes_nothing_else(audited):
    token = await audited.token()
    before = await counts(audited.db, audited.world.acme)
    unbalanced = sale(lines=[{"account": "1100", "debit": "10.00"}, {"account": "4000", "credit": "9.00"}])
    response = await audited.graphql(token, POST, {"input": unbalanced, "key": "bad"}, request_id="mut-3")
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await counts(audited.db, audited.world.acme) == before
    [row] = await audited.rows(request_id="mut-3")
    assert (row.event, row.outcome, row.client_id, row.entity_id) == (
        "mutation", "BAD_USER_INPUT", audited.acme.client_id, audited.world.acme)
    assert row.detail["operation"] == "postJournalEntry" and row.detail["error"] == "BAD_USER_INPUT"
    assert row.detail["violationCount"] == len(row.detail["violations"]) >= 1
    assert "entries" not in row.detail


async def test_a_mutation_refused_before_it_runs_is_recorded_too(audited):
    token = await audited.token()
    before = await counts(audited.db, audited.world.acme)
    # Its variables do not fit (no key): refused before execution, BAD_USER_INPUT.
    response = await audited.graphql(token, POST, {"input": sale()}, request_id="mut-early")
    assert "data" not in response.json()
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await counts(audited.db, audited.world.acme) == before
    [row] = await audited.rows(request_id="mut-early")
    assert (row.event, row.outcome, row.client_id, row.entity_id) == (
        "mutation", "BAD_USER_INPUT", audited.acme.client_id, audited.world.acme)
    assert row.detail["operation"] == "Post" and row.detail["fields"] == ["postJournalEntry"]
    assert row.detail["ran"] is False and "$key" in row.detail["errors"][0]
    # A query refused so, or a document that does not parse, is no mutation: no row.
    await audited.graphql(token, "query Q($n: Int!) { entity { code } }", request_id="q-early")
    await audited.graphql(token, "mutation { postJournalEntry(", request_id="syntax")
    assert await audited.rows(request_id="q-early") == [] and await audited.rows(request_id="syntax") == []


async def test_a_posting_whose_audit_row_cannot_be_written_is_rolled_back(audited, monkeypatch):
    token = await audited.token()
    before = await counts(audited.db, audited.world.acme)

    async def broken(session, events):
        await session.execute(text("SELECT 1"))  # inside the posting's transaction
        raise DBAPIError("INSERT", {}, Exception("disk full"))

    monkeypatch.setattr(audit, "append", broken)
    response = await audited.graphql(token, POST, {"input": sale(), "key": "k-9"}, request_id="mut-4")
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert response.json()["data"] is None
    # The entries went with their audit row: no committed posting lacks its row.
    assert await counts(audited.db, audited.world.acme) == before
    [row] = await audited.rows(request_id="mut-4")  # the failure, from the request's batch
    assert (row.event, row.outcome) == ("mutation", "INTERNAL")


# --- sensitive reads ------------------------------------------------------------------------


SENSITIVE = """query Staff { ada: sourceRecord(system: "hr", recordType: "Employee", recordId: "E1") {
                 ... on HrEmployee { name annualSalary } }
               ghost: sourceRecord(system: "hr", recordType: "Employee", recordId: "E9") {
                 ... on HrEmployee { annualSalary } } }"""


async def test_a_sensitive_read_names_the_fields_and_the_records_returned(audited):
    token = await audited.token()
    response = await audited.graphql(token, SENSITIVE, request_id="read-1")
    body = response.json()
    assert body["data"]["ada"] == {"name": "Ada", "annualSalary": SALARY}
    assert body["data"]["ghost"] is None  # NOT_FOUND: not read, not recorded
    [row] = await audited.rows(request_id="read-1")
    assert (row.event, row.outcome, row.client_id, row.username, row.entity_id) == (
        "sensitive_read", "OK", audited.acme.client_id, "bot", audited.world.acme)
    assert row.detail == {"system": "hr", "recordType": "Employee", "fields": ["annualSalary"],
                          "recordIds": ["E1"]}
    assert SALARY not in json.dumps(row.detail)

    # The same record without its sensitive field: nothing to record.
    plain = '{ sourceRecord(system: "hr", recordType: "Employee", recordId: "E1") { ... on HrEmployee { name } } }'
    await audited.graphql(token, plain, request_id="read-2")
    assert await audited.rows(request_id="read-2") == []


async def test_sensitive_reads_fail_closed_and_other_rows_fail_open(audited, monkeypatch, caplog):
    token = await audited.token()
    reader = await audited.token(audited.reader)

    async def broken(db, events):
        raise DBAPIError("INSERT", {}, Exception("disk full"))

    monkeypatch.setattr(audit, "record", broken)
    response = await audited.graphql(token, SENSITIVE, request_id="read-3")
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert SALARY not in response.text and "Ada" not in response.text
    assert "event lost: request read-3, sensitive_read OK" in caplog.text

    denied = await audited.graphql(reader, "{ auditEvents { edges { cursor } } }", request_id="deny-2")
    assert denied.status_code == 200
    assert denied.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "event lost: request deny-2, access_denied FORBIDDEN" in caplog.text
    assert token not in caplog.text and reader not in caplog.text


# --- the log itself -------------------------------------------------------------------------


async def test_the_database_refuses_to_change_or_delete_audit_rows(audited):
    await audited.graphql(await audited.token(), "{ auditEvents { edges { cursor } } }")
    assert await audited.rows()
    for statement in ("UPDATE audit_events SET outcome = 'OK'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="audit log"):
            async with audited.db.engine.begin() as connection:
                await connection.execute(text(statement))
    async with audited.db.session(audited.world.acme) as session:
        with pytest.raises(ImmutableHistoryError):
            await session.execute(update(AuditEvent).values(outcome="OK"))
        with pytest.raises(ImmutableHistoryError):
            await session.execute(delete(AuditEvent))
    if audited.db.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="audit log"):
            async with audited.db.engine.begin() as connection:
                await connection.execute(text("TRUNCATE audit_events"))


EVENTS_QUERY = """query Log($first: Int, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id occurredAt requestId event outcome clientId username detail } }
    pageInfo { hasNextPage endCursor } } }"""


async def test_audit_events_shows_the_callers_entity_newest_first(audited):
    acme, beta = await audited.token(), await audited.token(audited.beta)
    for n in range(3):
        await audited.graphql(acme, POST, {"input": sale(), "key": f"a-{n}"}, request_id=f"acme-{n}")
    response = await audited.graphql(beta, POST, {"input": BETA_SALE, "key": "b-0"}, request_id="beta-0")
    assert "errors" not in response.json()
    await request_token(audited.http, Party("lgc_nobody", "x"), entity="ACME")  # no entity

    response = await audited.graphql(acme, EVENTS_QUERY, {"first": 2, "filter": {"event": "MUTATION"}})
    page = response.json()["data"]["auditEvents"]
    nodes = [e["node"] for e in page["edges"]]
    assert [n["requestId"] for n in nodes] == ["acme-2", "acme-1"]
    assert nodes[0]["event"] == "MUTATION" and nodes[0]["clientId"] == audited.acme.client_id
    assert nodes[0]["detail"]["operation"] == "postJournalEntry"
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await audited.graphql(acme, EVENTS_QUERY, {"first": 5, "after": page["pageInfo"]["endCursor"],
                                                      "filter": {"event": "MUTATION"}})
    rest = rest.json()["data"]["auditEvents"]
    assert [e["node"]["requestId"] for e in rest["edges"]] == ["acme-0"]
    assert rest["pageInfo"]["hasNextPage"] is False

    everything = (await audited.graphql(acme, EVENTS_QUERY, {"first": 100})).json()["data"]["auditEvents"]
    seen = {e["node"]["requestId"] for e in everything["edges"]}
    ids = [int(e["node"]["id"]) for e in everything["edges"]]
    assert ids == sorted(ids, reverse=True)
    assert "beta-0" not in seen  # another entity's events are invisible
    assert all(e["node"]["clientId"] != "lgc_nobody" for e in everything["edges"])
    assert {e["node"]["event"] for e in everything["edges"]} == {"TOKEN_ISSUED", "MUTATION"}

    beta_view = (await audited.graphql(beta, EVENTS_QUERY, {"filter": {"requestId": "acme-0"}})).json()
    assert beta_view["data"]["auditEvents"]["edges"] == []

    [newest] = (await audited.rows(request_id="acme-2"))
    window = {"since": newest.occurred_at, "until": "2999-01-01T00:00:00Z",
              "clientId": audited.acme.client_id}
    recent = (await audited.graphql(acme, EVENTS_QUERY, {"filter": window})).json()["data"]["auditEvents"]
    assert "acme-2" in {e["node"]["requestId"] for e in recent["edges"]}
    assert "acme-1" not in {e["node"]["requestId"] for e in recent["edges"]}

    bad = (await audited.graphql(acme, EVENTS_QUERY, {"filter": {"since": "yesterday"}})).json()
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_audit_events_needs_audit_read(audited):
    reader = await audited.token(audited.reader)
    body = (await audited.graphql(reader, EVENTS_QUERY, request_id="peek-log")).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "scopes": ["audit:read"]}
    [row] = await audited.rows(request_id="peek-log")
    assert (row.event, row.detail["operation"], row.detail["fields"][0]["path"]) == (
        "access_denied", "Log", ["auditEvents"])
    without = await audited.token(audited.acme, scope="ledger:read")
    body = (await audited.graphql(without, EVENTS_QUERY)).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_plain_query_writes_nothing_and_adds_no_statement(audited):
    token = await audited.token()
    query = "{ entity { code } accounts(first: 3) { edges { node { code name } } } }"
    warm = await audited.graphql(token, query)  # the actor is now cached, as in a running gateway
    assert "errors" not in warm.json()
    logged = len(await audited.rows())
    audited.statements.reset()
    response = await audited.graphql(token, query)
    assert response.json() == warm.json()
    # The accounts page is the request's one statement: the audit log adds none.
    assert audited.statements.count == 1, audited.statements.statements
    assert "audit_events" not in audited.statements.statements[0]
    assert len(await audited.rows()) == logged


# --- the command line -----------------------------------------------------------------------


async def test_audit_list_on_the_command_line(audited, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LEDGERGATE_DATABASE_URL", raising=False)
    acme = await audited.token()
    await audited.graphql(acme, POST, {"input": sale(), "key": "cli-1"}, request_id="cli-1")
    await audited.graphql(await audited.token(audited.beta), POST, {"input": BETA_SALE, "key": "cli-2"},
                          request_id="cli-2")
    url = audited.db.engine.url.render_as_string(hide_password=False)
    config = tmp_path / "lg.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')

    async def cli(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = await asyncio.to_thread(main, ["audit", "list", *argv, "--config", str(config)])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = await cli("--entity", "ACME", "--event", "mutation", "--json")
    assert code == 0
    [line] = out.splitlines()
    event = json.loads(line)
    assert (event["requestId"], event["event"], event["outcome"], event["entity"], event["clientId"],
            event["username"]) == ("cli-1", "mutation", "OK", "ACME", audited.acme.client_id, "bot")
    assert event["detail"]["operation"] == "postJournalEntry"

    code, out, _ = await cli("--event", "mutation", "--limit", "5")
    lines = [line.split("\t") for line in out.splitlines()]
    assert [(f[2], f[3], f[4], f[5]) for f in lines] == [
        ("cli-2", "mutation", "OK", "BETA"), ("cli-1", "mutation", "OK", "ACME")]
    assert int(lines[0][0]) > int(lines[1][0])  # newest first

    code, out, _ = await cli("--request-id", "cli-2", "--since", "2000-01-01", "--until", "2999-01-01")
    assert code == 0 and len(out.splitlines()) == 1 and "\tcli-2\t" in out

    code, _, err = await cli("--entity", "NOPE")
    assert code == 2 and err == "ledgergate: audit list: no entity 'NOPE'\n"
    code, _, err = await cli("--since", "last week")
    assert code == 2 and "--since must be an ISO 8601 date or date-time" in err
    assert_no_secret(await audited.rows(), acme, audited.acme.secret, audited.beta.secret)


async def test_the_log_is_written_with_one_insert_per_request(audited, caplog):
    caplog.set_level(logging.ERROR)
    reader = await audited.token(audited.reader)
    query = "{ a: auditEvents { edges { cursor } } b: auditEvents { edges { cursor } } }"
    audited.statements.reset()
    await audited.graphql(reader, query, request_id="one-insert")
    inserts = [s for s in audited.statements.statements if s.lstrip().startswith("INSERT")]
    assert len(inserts) == 1 and "audit_events" in inserts[0]
    assert len(await audited.rows(request_id="one-insert")) == 1
    assert caplog.text == ""


# --- the hash chains ------------------------------------------------------------------------


async def _tamper(db, statement: str) -> None:
    """Run `statement` past the append-only triggers, as someone with the schema's owner
    rights could: what `audit verify` is for."""
    async with db.engine.begin() as connection:
        if db.engine.dialect.name == "postgresql":
            await connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            await connection.execute(text(statement))
            await connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        else:
            for trigger in ("audit_events_no_update", "audit_events_no_delete"):
                await connection.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
            await connection.execute(text(statement))


async def test_concurrent_requests_keep_each_chain_linear(audited):
    token = await audited.token()
    responses = await asyncio.gather(
        *[audited.graphql(token, SENSITIVE, request_id=f"together-{n}") for n in range(8)]
    )
    assert all(r.status_code == 200 for r in responses)
    [acme] = await audit.verify(audited.db, entity="ACME")
    rows = await audited.rows(entity_id=audited.world.acme)
    assert acme.ok and acme.events_checked == len(rows) == 9  # the token, then 8 reads
    assert sorted(r.seq for r in rows) == list(range(1, 10))
    assert (acme.head_seq, acme.head_hash) == (9, max(rows, key=lambda r: r.seq).hash)


async def test_audit_verify_names_what_was_altered_or_removed(audited, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LEDGERGATE_DATABASE_URL", raising=False)
    acme, beta = await audited.token(), await audited.token(audited.beta)
    for n in range(3):
        await audited.graphql(acme, SENSITIVE, request_id=f"acme-{n}")
        await audited.graphql(beta, POST, {"input": BETA_SALE, "key": f"b-{n}"}, request_id=f"beta-{n}")
        await audited.http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                headers={**_basic(Party("lgc_nobody", "x")), "X-Request-Id": f"none-{n}"})
    chains = {c.entity: c for c in await audit.verify(audited.db)}
    assert set(chains) == {"ACME", "BETA", None}
    assert all(c.ok for c in chains.values()), chains
    assert (chains["ACME"].events_checked, chains["BETA"].events_checked, chains[None].events_checked) == (4, 4, 3)

    url = audited.db.engine.url.render_as_string(hide_password=False)
    config = tmp_path / "lg.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')

    async def verify_cli(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = await asyncio.to_thread(main, ["audit", "verify", *argv, "--config", str(config)])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = await verify_cli()
    assert code == 0 and err == "3 audit chain(s) hold\n"
    assert f"ACME\tok\t4 events\thead 4 {chains['ACME'].head_hash}\n" in out

    [changed] = await audited.rows(request_id="acme-1")
    await _tamper(audited.db, "UPDATE audit_events SET detail = '{}' WHERE request_id = 'acme-1'")
    [deleted] = await audited.rows(request_id="beta-1")
    await _tamper(audited.db, "DELETE FROM audit_events WHERE request_id = 'beta-1'")
    [tail] = await audited.rows(request_id="none-2")
    await _tamper(audited.db, "DELETE FROM audit_events WHERE request_id = 'none-2'")

    chains = {c.entity: c for c in await audit.verify(audited.db)}
    assert (chains["ACME"].ok, chains["ACME"].first_broken_seq) == (False, changed.seq)
    assert (chains["BETA"].ok, chains["BETA"].first_broken_seq) == (False, deleted.seq)
    assert (chains[None].ok, chains[None].first_broken_seq) == (False, tail.seq)  # the deleted tail

    code, out, err = await verify_cli("--entity", "BETA")
    assert code == 1
    assert out.startswith(f"BETA\tBROKEN at seq {deleted.seq}\t")
    assert err == "ledgergate: 1 audit chain(s) do not hold: events were altered or removed\n"
    code, _, err = await verify_cli("--entity", "NOPE")
    assert code == 2 and err == "ledgergate: audit verify: no entity 'NOPE'\n"
