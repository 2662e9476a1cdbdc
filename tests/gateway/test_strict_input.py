"""Input a finance system must refuse: amounts outside the one decimal grammar, and
idempotency keys that are not plain printable ASCII; keys belong to their client."""

import pytest

from gateway.auth import identities
from gateway.auth.scopes import format_scope, known_scopes
from tests.callers import TESTER, GraphQLClient, cheap_client, provision_tester
from tests.support import POST, counts, post, sale

# Each of these was once posted as a real entry: Python's Decimal() reads them all.
NOT_DECIMALS = [
    "1_000.00", "١٠٠.٠٠", "１００.００", " 100.00", "100.00 ", "100.00\n", "+100.00", ".5",
    "100.", "1E+2", "1e2", "NaN", "Infinity", "-", "", "1.2.3", "0x10", "١٠٠", "--1", "1,000.00",
]


def _first_error(result: dict) -> dict:
    assert result.get("data") is None, result
    return result["errors"][0]


@pytest.mark.parametrize("amount", NOT_DECIMALS)
async def test_an_amount_outside_the_grammar_is_refused_and_nothing_is_written(gql, world, amount):
    result = await gql(POST, {"input": sale(amount), "key": "k1"})
    error = _first_error(result)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "-?[0-9]+(\\.[0-9]+)?" in error["message"]
    assert await counts(world.db, world.acme) == (0, 0, 0, 0)


@pytest.mark.parametrize("literal", ['"1E+2"', '"+5"', "1.5", '".5"'])
async def test_an_inline_literal_amount_goes_through_the_same_grammar(gql, world, literal):
    document = """mutation { postJournalEntry(idempotencyKey: "lit", input: {
        journal: "SALES", date: "2026-03-15",
        lines: [{account: "1100", debit: %s}, {account: "4000", credit: "5"}]}) {
        entry { number } } }""" % literal
    error = _first_error(await gql(document))
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert await counts(world.db, world.acme) == (0, 0, 0, 0)


@pytest.mark.parametrize("quantity", ["1E+2", "+3", "٣"])
async def test_a_statistical_quantity_outside_the_grammar_is_refused(gql, world, quantity):
    entry = sale(lines=[{"account": "9100", "quantity": quantity}])
    entry.pop("source")
    error = _first_error(await gql(POST, {"input": entry, "key": "q"}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert await counts(world.db, world.acme) == (0, 0, 0, 0)


async def test_amounts_in_the_grammar_and_integers_post(gql, world):
    entry = await post(gql, key="ok-1", lines=[
        {"account": "1100", "debit": "0.50"}, {"account": "1100", "debit": 3},
        {"account": "4000", "credit": "3.5"},
    ])
    assert [line["debit"] for line in entry["lines"]] == ["0.50", "3.00", "0.00"]
    assert entry["lines"][2]["credit"] == "3.50"


BAD_KEYS = ["\u200b", " ", "   ", " lead", "trail ", "k\n", "\x00", "ключ", "x" * 201, "", "tab\tkey", "é"]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_an_idempotency_key_outside_printable_ascii_is_refused(gql, world, key):
    error = _first_error(await gql(POST, {"input": sale(), "key": key}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "printable ASCII" in error["message"]
    assert await counts(world.db, world.acme) == (0, 0, 0, 0)


async def test_the_longest_key_and_every_printable_character_are_accepted(gql, world):
    await post(gql, key="x" * 200)
    await post(gql, key="".join(chr(c) for c in range(0x21, 0x7F)), amount="1.00")
    await post(gql, key="order 42 / retry", amount="2.00")
    await post(gql, key="k", amount="3.00")
    assert (await counts(world.db, world.acme))[0] == 4


async def _second_client(http, db) -> GraphQLClient:
    """Another integration client of ACME, acting as the same web-services user."""
    await provision_tester(db)
    scopes = format_scope(known_scopes([]))
    other = await cheap_client(db, "Second client", scopes)
    await identities.allow(db, other.client_id, "ACME", TESTER)
    return GraphQLClient(http, other)


async def test_a_second_client_replaying_the_first_ones_key_gets_its_own_entry(gql, http, world):
    first = await post(gql, key="order-42")
    other = await _second_client(http, world.db)
    replayed = await post(other, key="order-42")
    assert replayed["number"] != first["number"]
    assert await counts(world.db, world.acme) == (2, 4, 4, 2)
    # Each client still replays its own key to its own entry.
    assert (await post(gql, key="order-42"))["number"] == first["number"]
    assert (await post(other, key="order-42"))["number"] == replayed["number"]
    assert await counts(world.db, world.acme) == (2, 4, 4, 2)


async def test_a_second_client_cannot_learn_of_the_first_ones_key_by_a_conflict(gql, http, world):
    await post(gql, key="secret-order")
    other = await _second_client(http, world.db)
    result = await other(POST, {"input": sale("7.00"), "key": "secret-order"})
    assert "errors" not in result, result
    result = await gql(POST, {"input": sale("7.00"), "key": "secret-order"})
    assert result["errors"][0]["extensions"]["code"] == "CONFLICT"


async def test_reversal_keys_are_per_client_and_checked_too(gql, http, world):
    from tests.gateway.test_idempotency_reversal import REVERSE

    original = await post(gql, key="o")
    error = _first_error(await gql(REVERSE, {"number": original["number"], "date": "2026-04-01",
                                             "key": "\u200b"}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    first = await gql(REVERSE, {"number": original["number"], "date": "2026-04-01", "key": "rev"})
    assert "errors" not in first, first
    other = await _second_client(http, world.db)
    again = await other(REVERSE, {"number": original["number"], "date": "2026-04-01", "key": "rev"})
    # Not the first client's reversal handed back: the entry is reversed already.
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT", again
    assert "already reversed" in again["errors"][0]["message"]


async def test_the_line_cap_is_a_setting(world):
    import httpx

    from gateway.app import create_app
    from tests.callers import tester_client
    from tests.conftest import make_settings
    from tests.record_types import linkable_catalog

    app = create_app(make_settings(max_entry_lines=3), db=world.db, sources=linkable_catalog())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        gql = await tester_client(http, world.db)
        lines = [{"account": "1100", "debit": "1"}] * 3 + [{"account": "4000", "credit": "3"}]
        error = _first_error(await gql(POST, {"input": sale(lines=lines), "key": "cap"}))
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert {"path": "lines", "message": "4 lines; at most 3 per entry"} in (
            error["extensions"]["violations"])
        assert await counts(world.db, world.acme) == (0, 0, 0, 0)
        await post(gql, key="cap-ok", lines=[*lines[:2], {"account": "4000", "credit": "2"}])
