"""What a caller may not see is named to it by no error: `_service` exists only for
composition tooling (`federation:compose`), and no error carries a "Did you mean …?"
(fields, types in fragments, arguments, enum values, input fields, Mutation), through HTTP.
Also: a subscription over HTTP is told it needs a WebSocket; graphql-response+json codes."""

from __future__ import annotations

import pytest

from tests.callers import fetch_token
from tests.test_federation_composition import compose

READER = "ledger:read"


async def as_reader(gql, http, query, variables=None, scope=READER):
    token = await fetch_token(http, gql.party, "ACME", scope)
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}},
                               headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


async def test_service_is_an_unknown_field_without_the_composition_scope(gql, http):
    result = await as_reader(gql, http, "{ _service { sdl } }")
    assert "data" not in result
    [error] = result["errors"]
    assert error["message"] == "Cannot query field '_service' on type 'Query'."
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    hidden = await as_reader(gql, http, '{ __type(name: "_Service") { name } __schema { queryType { fields { name } } } }')
    assert hidden["data"]["__type"] is None
    assert "_service" not in {f["name"] for f in hidden["data"]["__schema"]["queryType"]["fields"]}


async def test_service_serves_a_composable_sdl_to_the_composition_scope(gql, http, tmp_path):
    result = await as_reader(gql, http, "{ _service { sdl } }", scope="federation:compose")
    sdl = result["data"]["_service"]["sdl"]
    assert "auditEvents" in sdl
    composed = compose(tmp_path, ledgergate=sdl)
    assert composed["ok"], composed["errors"]


# Each kind of name graphql-core would suggest; the reader may not see any of them.
TYPOS = {
    "field": "{ auditEvent { edges { cursor } } }",
    "type in a fragment": "{ entity { code } } fragment f on AuditEvnt { event }",
    "argument": "{ journalEntries(firts: 1) { edges { cursor } } }",
    "enum value": "{ accounts(type: REVENU) { edges { cursor } } }",
    "input field": "{ auditEvents(filter: {evnt: null}) { edges { cursor } } }",
    "mutation": "mutation { postJournalEntr(idempotencyKey: \"k\") { entry { number } } }",
}


@pytest.mark.parametrize("kind", sorted(TYPOS))
async def test_no_error_suggests_a_name(gql, http, kind):
    result = await as_reader(gql, http, TYPOS[kind])
    assert result["errors"], result
    for error in result["errors"]:
        assert "Did you mean" not in error["message"], error
        assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_no_variable_error_suggests_an_enum_value_or_input_field(gql, http):
    query = "query($t: AccountType) { accounts(type: $t) { edges { cursor } } }"
    result = await as_reader(gql, http, query, {"t": "REVENU"})
    assert "Did you mean" not in result["errors"][0]["message"], result
    query = "query($i: JournalEntryInput!) { entity { code } }"
    result = await as_reader(gql, http, query, {"i": {"journl": "GJ"}})
    assert all("Did you mean" not in e["message"] for e in result["errors"]), result


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_subscription_over_http_is_told_it_needs_a_websocket(gql, http, method):
    headers = await gql.headers()
    query = "subscription { entity { code } }"
    if method == "GET":
        response = await http.get("/graphql", params={"query": query}, headers=headers)
    else:
        response = await http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert "WebSocket" in error["message"] and error["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(("query", "status"), [
    ("{ entity { code } }", 200),
    ("{ entity { code", 400),                       # syntax
    ("{ entity { nope } }", 400),                    # validation
    ("query($n: Int!) { accounts(first: $n) { edges { cursor } } }", 400),  # variable missing
])
async def test_graphql_response_json_status_codes(gql, http, query, status):
    headers = {**await gql.headers(), "Accept": "application/graphql-response+json, application/json"}
    response = await http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    legacy = await http.post("/graphql", json={"query": query}, headers=await gql.headers())
    assert legacy.status_code == 200 and legacy.headers["content-type"].startswith("application/json")
