"""A record its system sends unusable must not tell another entity that it exists."""

from __future__ import annotations

import httpx

from gateway.app import create_app
from resolvers.sources.catalog import SourceCatalog
from sources.base import FieldSpec, Ownership, RecordType
from sources.mock import MockSource
from tests.callers import GraphQLClient, provision_tester
from tests.conftest import make_settings

ORDER = RecordType("crm", "SalesOrder", "CrmSalesOrder", "id", (
    FieldSpec("id", "ID", nullable=False), FieldSpec("company", "String", nullable=False),
    FieldSpec("amount", "Decimal"),
), ownership=Ownership(field="company"))
QUERY = '{ sourceRecord(system: "crm", recordType: "SalesOrder", recordId: "%s") { ... on CrmSalesOrder { amount } } }'


async def test_another_entitys_unusable_record_is_not_found_as_a_missing_one(world):
    """SOURCE_UNAVAILABLE ("unusable record (amount: expected Decimal, got 'lots')") for its
    own entity; for another, NOT_FOUND word for word as a missing id, without its value."""
    crm = MockSource("crm", {"SalesOrder": [{"id": "SO-B", "company": "BETA", "amount": "lots"}]})
    app = create_app(make_settings(), db=world.db, sources=SourceCatalog.of({"crm": crm}, [ORDER]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        gql = GraphQLClient(http, await provision_tester(world.db, ["crm"]))
        foreign = await gql(QUERY % "SO-B", entity="ACME")
        missing = await gql(QUERY % "SO-NONE", entity="ACME")
        own = await gql(QUERY % "SO-B", entity="BETA")

    assert foreign["errors"][0]["extensions"] == missing["errors"][0]["extensions"] == {
        "code": "NOT_FOUND", "system": "crm"}
    assert foreign["errors"][0]["message"] == "crm/SalesOrder/SO-B does not exist in crm"
    assert "lots" not in str(foreign)
    assert own["errors"][0]["extensions"] == {"code": "SOURCE_UNAVAILABLE", "system": "crm"}
    assert "unusable record" in own["errors"][0]["message"]
