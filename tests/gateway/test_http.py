"""The HTTP surface: methods, bodies, coded errors, health, masking."""

import pytest

from tests.support import sale


async def test_health(http):
    response = await http.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_queries_work_over_get(http, gql):
    response = await http.get("/graphql", params={"query": "{ entity { code } }"}, headers=await gql.headers("BETA"))
    assert response.status_code == 200 and response.json() == {"data": {"entity": {"code": "BETA"}}}


async def test_the_token_names_the_entity(gql):
    assert await gql("{ entity { code name } }", entity="ACME") == {
        "data": {"entity": {"code": "ACME", "name": "Acme Software Inc."}}}
    assert await gql("{ entity { code name } }", entity="BETA") == {
        "data": {"entity": {"code": "BETA", "name": "Beta Hotels GmbH"}}}


async def test_mutations_are_refused_over_get_and_write_nothing(http, gql, world):
    import json

    from tests.support import POST
    response = await http.get("/graphql", params={"query": POST, "variables": json.dumps({"input": sale(), "key": "g"})},
                              headers=await gql.headers())
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    entries = await gql("{ journalEntries { edges { cursor } } }")
    assert entries["data"]["journalEntries"]["edges"] == []


@pytest.mark.parametrize("body,content_type,status,fragment", [
    (b"{not json", "application/json", 400, "not valid JSON"),
    (b"[1, 2]", "application/json", 400, "JSON object"),
    (b'{"query": 42}', "application/json", 400, "no GraphQL query"),
    (b'{"query": "{ entity { code } }", "variables": [1]}', "application/json", 400, "variables must be a JSON object"),
    (b"query { entity { code } }", "text/plain", 415, "Content-Type"),
    (b"x" * 1_000_001, "application/json", 413, "limit is 1000000"),
])
async def test_bad_requests_get_coded_json_errors(http, body, content_type, status, fragment):
    response = await http.post("/graphql", content=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] in ("BAD_USER_INPUT", "LIMIT_EXCEEDED") and fragment in error["message"]


async def test_a_request_without_a_token_is_unauthenticated(http):
    # No unauthenticated mode: the old development principal's entity header does nothing.
    response = await http.post("/graphql", json={"query": "{ entity { code } }"}, headers={"X-Ledgergate-Entity": "ACME"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in response.json()


@pytest.mark.parametrize("query,fragment", [
    ("{ entity { code ", "Syntax Error"),
    ("{ entity { colour } }", "Cannot query field 'colour'"),
    ('{ accounts(first: "ten") { edges { cursor } } }', "Int cannot represent"),
])
async def test_syntax_and_validation_errors_are_bad_user_input(gql, query, fragment):
    response = await gql.post(query)
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert fragment in body["errors"][0]["message"]


async def test_unexpected_failures_are_masked_and_the_rest_still_arrives(gql, world, monkeypatch, caplog):
    from ledger import reads

    async def broken(*_args, **_kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(reads, "account_by_code", broken)
    response = await gql.post('{ entity { code } account(code: "1000") { name } }')
    body = response.json()
    assert body["data"] == {"entity": {"code": "ACME"}, "account": None}
    [error] = body["errors"]
    assert error == {"message": "Internal server error", "locations": [{"line": 1, "column": 19}],
                     "path": ["account"], "extensions": {"code": "INTERNAL"}}
    assert "hunter2" not in response.text
    assert "hunter2" in caplog.text  # the operator still sees it in the log


async def test_graphiql_is_served_offline(http):
    page = await http.get("/graphiql")
    assert page.status_code == 200 and "/static/graphiql/graphiql.min.js" in page.text
    redirect = await http.get("/graphql", headers={"Accept": "text/html"})
    assert redirect.status_code == 302 and redirect.headers["location"] == "/graphiql"
