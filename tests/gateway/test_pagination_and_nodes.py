"""Keyset pagination walks every item once; node(id) and entity confinement."""

import base64

import pytest

from tests.support import post, post_random_entries

ACCOUNTS = "query($first: Int, $after: String) { accounts(first: $first, after: $after) { edges { cursor node { code } } pageInfo { hasNextPage endCursor } } }"
ENTRIES = "query($first: Int, $after: String) { journalEntries(first: $first, after: $after) { edges { node { number id } } pageInfo { hasNextPage endCursor } } }"
LINES = 'query($first: Int, $after: String) { account(code: "1000") { lines(first: $first, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }'


async def walk(gql, query, first, pick, entity="ACME"):
    seen, after, pages = [], None, 0
    while True:
        result = await gql(query, {"first": first, "after": after}, entity=entity)
        assert "errors" not in result, result
        connection = pick(result["data"])
        seen += [e["node"] for e in connection["edges"]]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            return seen, pages
        after = connection["pageInfo"]["endCursor"]


@pytest.mark.parametrize("first", [1, 3, 7, 50])
async def test_walking_every_page_returns_each_item_exactly_once(gql, world, first):
    await post_random_entries(world.db, world.acme, 40, 3, ["1000", "4000"], [])
    entries, _ = await walk(gql, ENTRIES, first, lambda d: d["journalEntries"])
    assert len(entries) == 40 and len({e["number"] for e in entries}) == 40
    lines, _ = await walk(gql, LINES, first, lambda d: d["account"]["lines"])
    async with world.db.engine.connect() as conn:
        from sqlalchemy import text
        expected = (await conn.execute(text(
            "SELECT count(*) FROM journal_lines l JOIN accounts a ON a.id = l.account_id "
            "WHERE a.code = '1000' AND l.entity_id = :e"), {"e": world.acme})).scalar()
    assert len(lines) == expected and len({l["id"] for l in lines}) == expected
    accounts, _ = await walk(gql, ACCOUNTS, first, lambda d: d["accounts"])
    assert [a["code"] for a in accounts] == ["1000", "1100", "2000", "3000", "4000", "5000", "5100", "9000", "9100"]


async def test_an_empty_page_has_no_cursor(gql, world):
    result = await gql(ENTRIES, {"first": 5})
    assert result["data"]["journalEntries"] == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}


@pytest.mark.parametrize("first,after,fragment", [
    (0, None, "first must be between 1 and 10000"),
    (-1, None, "first must be between"),
    (5, "not-a-cursor", "not a valid cursor"),
    (5, base64.urlsafe_b64encode(b'["x", "y"]').decode(), "not a valid cursor"),
])
async def test_bad_page_arguments_are_bad_user_input(gql, world, first, after, fragment):
    result = await gql(ENTRIES, {"first": first, "after": after})
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and fragment in error["message"], error


NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on Account { code } ... on JournalEntry { number } ... on JournalLine { lineNo } } }"""


async def test_node_finds_every_kind_of_object_by_its_id(gql, world):
    entry = await post(gql, key="n")
    full = await gql('{ journalEntry(number: "JE-0000001") { id lines { id account { id code } } } }')
    je = full["data"]["journalEntry"]
    for node_id, expected in [
        (je["id"], {"__typename": "JournalEntry", "number": entry["number"]}),
        (je["lines"][0]["id"], {"__typename": "JournalLine", "lineNo": 1}),
        (je["lines"][0]["account"]["id"], {"__typename": "Account", "code": "1100"}),
    ]:
        result = await gql(NODE, {"id": node_id})
        assert result["data"]["node"] == {"id": node_id, **expected}


async def test_nothing_of_another_entity_is_reachable(gql, world):
    await post(gql, key="a")
    acme = (await gql('{ journalEntry(number: "JE-0000001") { id lines { id account { id } } } }'))["data"]["journalEntry"]
    ids = [acme["id"], acme["lines"][0]["id"], acme["lines"][0]["account"]["id"]]
    for node_id in ids:
        assert (await gql(NODE, {"id": node_id}, entity="BETA"))["data"]["node"] is None
    beta = await gql("""{ journalEntry(number: "JE-0000001") { number } account(code: "1100") { code }
        journalEntries { edges { node { number } } } accounts { edges { node { code } } }
        trialBalance(from: "2026-01-01", to: "2026-12-31") { rows { account { code } } }
        dimensionValues(kind: CUSTOMER) { code } entity { code baseCurrency } }""", entity="BETA")
    assert beta["data"] == {
        "journalEntry": None, "account": None, "journalEntries": {"edges": []},
        "accounts": {"edges": [{"node": {"code": c}} for c in ["1000", "4000", "7777", "9200"]]},
        "trialBalance": {"rows": []}, "dimensionValues": [{"code": "C1"}],
        "entity": {"code": "BETA", "baseCurrency": "EUR"},
    }
    # An id that does not exist at all behaves exactly the same.
    missing = base64.urlsafe_b64encode(b"JournalEntry:999999").decode().rstrip("=")
    assert (await gql(NODE, {"id": missing}, entity="BETA"))["data"]["node"] is None


@pytest.mark.parametrize("bad", ["%%%", "QWNjb3VudA", base64.urlsafe_b64encode(b"Account:x").decode(), ""])
async def test_malformed_ids_are_bad_user_input(gql, world, bad):
    result = await gql(NODE, {"id": bad})
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert result["data"] == {"node": None}


async def test_periods_and_dimension_values(gql, world):
    result = await gql("{ periods { name start end closed } dimensionValues(kind: DEPARTMENT) { code name } }")
    periods = result["data"]["periods"]
    assert len(periods) == 24
    assert periods[0] == {"name": "2025-01", "start": "2025-01-01", "end": "2025-01-31", "closed": True}
    assert periods[-1] == {"name": "2026-12", "start": "2026-12-01", "end": "2026-12-31", "closed": False}
    assert [d["code"] for d in result["data"]["dimensionValues"]] == ["ENG", "OLD", "SALES"]
