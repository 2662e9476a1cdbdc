"""ledgergate as a Federation 2 subgraph: its entities resolve in batches through _entities."""

from tests.support import post, post_random_entries

ENTITIES = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  __typename ... on JournalLine { id debit account { code } } ... on Account { code }
  ... on JournalEntry { number } } }"""


async def test_the_sdl_declares_the_entities_and_federation_2():
    from resolvers.schema import print_sdl

    sdl = print_sdl()
    assert 'schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@requiresScopes"])' in sdl
    for entity in ("Account", "JournalEntry", "JournalLine"):
        assert f'type {entity} implements Node @key(fields: "id")' in sdl


async def test_service_sdl_is_served(gql, world):
    result = await gql("{ _service { sdl } }")
    assert '@key(fields: "id")' in result["data"]["_service"]["sdl"]


async def test_entities_resolve_in_a_constant_number_of_statements(gql, world, statements):
    await post_random_entries(world.db, world.acme, 300, 9, ["1000", "1100", "4000"], [])
    ids = []
    result = await gql("{ journalEntries(first: 300) { edges { node { id lines { id account { id } } } } } }")
    for edge in result["data"]["journalEntries"]["edges"]:
        ids.append(("JournalEntry", edge["node"]["id"]))
        ids += [("JournalLine", line["id"]) for line in edge["node"]["lines"]]
    counts = {}
    for n in (10, 100, 1000):
        reps = [{"__typename": t, "id": i} for t, i in ids[:n]]
        statements.reset()
        result = await gql(ENTITIES, {"reps": reps})
        assert "errors" not in result and all(result["data"]["_entities"]), result
        counts[n] = statements.count
    assert counts[10] == counts[100] == counts[1000], counts


async def test_another_entitys_references_resolve_to_null(gql, world):
    entry = await post(gql, key="x")
    result = await gql(ENTITIES, {"reps": [{"__typename": "JournalEntry", "id": entry["id"]}]}, entity="BETA")
    assert result["data"]["_entities"] == [None]
    mine = await gql(ENTITIES, {"reps": [{"__typename": "JournalEntry", "id": entry["id"]}]})
    assert mine["data"]["_entities"] == [{"__typename": "JournalEntry", "number": "JE-0000001"}]


async def test_a_reference_of_the_wrong_type_is_null(gql, world):
    entry = await post(gql, key="x")
    result = await gql(ENTITIES, {"reps": [{"__typename": "Account", "id": entry["id"]}]})
    assert result["data"]["_entities"] == [None]


import pytest  # noqa: E402


@pytest.mark.parametrize("representation", [
    {"__typename": "JournalEntry"},                       # no id
    {"__typename": "JournalEntry", "id": 5},              # an integer id
    {"__typename": "HrEmployee", "id": "EMP-1"},          # a source record type
    {"__typename": "Period", "id": "x"},                  # a type that is no entity
    {"__typename": "Nope", "id": "x"},                    # no such type
])
async def test_a_malformed_representation_is_bad_user_input(gql, world, representation, caplog):
    result = await gql(ENTITIES, {"reps": [representation]})
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["message"].startswith("representations[0]: ")
    assert result["data"] == {"_entities": [None]}
    assert "TypeError" not in caplog.text and "Traceback" not in caplog.text
