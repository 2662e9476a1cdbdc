"""The README's example queries run without errors against the demo world."""

import json
import re
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.demo.clients import provision_demo_clients
from gateway.demo.sources import demo_systems
from gateway.demo.world import build_demo
from sources.demo.generate import generate_world
from sources.demo.services import SERVICES
from tests.callers import GraphQLClient, Party
from tests.conftest import make_settings

README = (Path(__file__).parent.parent / "README.md").read_text()
EXAMPLES = re.findall(r"```graphql\n(.*?)```", README, re.S)


def test_the_readme_has_examples():
    assert len(EXAMPLES) >= 3


SCALE = 0.2


@pytest.fixture
async def demo_client(db, tmp_path):
    """The demo ledger with its five source systems running on free loopback ports."""
    await build_demo(db, seed=7, scale=SCALE)
    records = generate_world(7, SCALE)
    ports = dict.fromkeys(SERVICES, 0)
    async with demo_systems(records, pos_db_path=tmp_path / "pos.db", ports=ports) as (_, catalog):
        app = create_app(make_settings(), db=db, sources=catalog)
        # The demo's clients, with the credentials `ledgergate demo` would print.
        clients = await provision_demo_clients(db, catalog.sources)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield {c.role: GraphQLClient(client, Party(c.client_id, c.secret)) for c in clients}
        await catalog.aclose()


async def test_graphiqls_opening_query_runs_on_the_demo(demo_client):
    from gateway.graphiql import DEFAULT_QUERY

    response = await demo_client["auditor"].post(DEFAULT_QUERY, entity="SOFTCO")
    body = response.json()
    assert "errors" not in body and body["data"]["trialBalance"]["rows"], body


async def test_every_readme_example_runs_on_the_demo(demo_client):
    for example in EXAMPLES:
        entity = "HOTELCO" if "HOTELCO" in README.split(example)[0][-400:] else "SOFTCO"
        # As the README says: queries as the auditor, postings as the poster.
        role = "poster" if example.lstrip().startswith("mutation") else "auditor"
        response = await demo_client[role].post(example, entity=entity)
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, (example, body)
        if "record {" in example:  # lineage: live records from the systems, not nulls
            assert '"__typename": "Crm' in json.dumps(body) or '"__typename": "Pos' in json.dumps(body), body
        assert body["data"] and all(v is not None for v in body["data"].values()), body
