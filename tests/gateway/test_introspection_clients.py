"""Every demo role's introspection is a valid schema that standard clients build, and it
names nothing the role may not see: graphql-core's standard introspection query and
`build_client_schema`, through the app; and the `gql` client fetching the schema from a
live uvicorn server on loopback and running a DSL query built from it.
"""

from __future__ import annotations

import pytest
from gql import Client
from gql.dsl import DSLQuery, DSLSchema, dsl_gql
from gql.transport.httpx import HTTPXAsyncTransport
from graphql import build_client_schema, get_introspection_query, validate_schema

from sources.demo.services.serve import serving
from tests.gateway.test_demo_roles import EXPECTED, a_record, demo  # noqa: F401  (the fixture)

FULL = get_introspection_query(
    descriptions=True, specified_by_url=True, directive_is_repeatable=True,
    schema_description=True, input_value_deprecation=True,
)


def hidden_from(role: str) -> set[str]:
    """Type names the role may not see (one per kind of scope)."""
    seen = EXPECTED[role]
    hidden = set()
    if "ledger" not in seen:
        hidden |= {"JournalEntry", "TrialBalanceRow", "Account"}
    if "post" not in seen:
        hidden |= {"Mutation", "JournalEntryInput"}
    if "audit" not in seen:
        hidden.add("AuditEvent")
    if "crm" not in seen:
        hidden.add("CrmSalesOrder")
    return hidden


@pytest.mark.parametrize("role", sorted(EXPECTED))
async def test_the_standard_introspection_of_each_role_builds_a_client_schema(demo, role):  # noqa: F811
    _, _, _, callers = demo
    result = await callers[role](FULL, entity="SOFTCO")
    assert "errors" not in result, result["errors"]
    schema = build_client_schema(result["data"])
    assert validate_schema(schema) == []
    names = set(schema.type_map)
    assert not names & hidden_from(role), names & hidden_from(role)
    assert (schema.mutation_type is not None) == ("post" in EXPECTED[role])
    # Federation's composition entry point is for composition tooling only.
    assert "_service" not in schema.query_type.fields and "_Service" not in names


def dsl_query(role: str, ds: DSLSchema, index):
    """A query each role may run, built from the schema gql fetched."""
    if "ledger" in EXPECTED[role]:
        return DSLQuery(ds.Query.entity.select(ds.Entity.code))
    bill = a_record(index, ("ap", "Bill"), "SOFTCO")
    return DSLQuery(
        ds.Query.sourceRecord(system="ap", recordType="Bill", recordId=bill).select(ds.SourceRecord.recordId)
    )


@pytest.mark.parametrize("role", sorted(EXPECTED))
async def test_gql_fetches_each_roles_schema_from_a_live_server_and_runs_a_dsl_query(demo, role):  # noqa: F811
    _, index, _, callers = demo
    caller = callers[role]
    app = caller.http._transport.app
    headers = await caller.headers("SOFTCO")
    async with serving(app, host="127.0.0.1", lifespan="off") as url:
        transport = HTTPXAsyncTransport(url=f"{url}/graphql", headers=headers, timeout=30)
        client = Client(transport=transport, fetch_schema_from_transport=True)
        async with client as session:
            assert not set(client.schema.type_map) & hidden_from(role)
            ds = DSLSchema(client.schema)
            answer = await session.execute(dsl_gql(dsl_query(role, ds, index)))
    if "ledger" in EXPECTED[role]:
        assert answer == {"entity": {"code": "SOFTCO"}}
    else:
        assert answer["sourceRecord"]["recordId"]
