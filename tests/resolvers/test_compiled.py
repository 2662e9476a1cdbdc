"""The compiled execution path (`resolvers.compiled`) against graphql-core's own.

Two apps on one ledger_data, one with `[execution] compiled = true`, one with false, answer the
same request from the same caller (one token, valid for both: they share the signing
keys). Every response must be the same, byte for byte: data, errors (messages, paths,
locations, codes) and their order. And the compiled app must actually have used its
builders (its plan cache counts what they served), or the comparison proves nothing.
"""

from __future__ import annotations

import pytest

from tests.resolvers.compiled_support import POST_SCOPE, READ, STAT, break_lines, plans_of

PAGE = """query Page($code: String!, $first: Int!) {
  account(code: $code) { lines(first: $first) { edges { cursor node {
    id lineNo date debit credit currency quantity memo } } pageInfo { hasNextPage endCursor } } } }"""

CASES = {
    "big page": (PAGE, {"code": "1100", "first": 50}),
    "aliases": ("""{ a: account(code: "1100") { c: code n: name t: type
        l: lines(first: 5) { e: edges { c: cursor n: node { x: debit y: credit d: date } } } } }""", None),
    "fragments with type conditions": ("""
        query { journalEntries(first: 10) { ...Conn } }
        fragment Conn on JournalEntryConnection { edges { node { number ... on JournalEntry {
          date state lines { ...L ... on JournalLine { memo } } } } } pageInfo { ...P } }
        fragment L on JournalLine { lineNo debit ...L2 }
        fragment L2 on JournalLine { credit currency __typename }
        fragment P on PageInfo { hasNextPage endCursor __typename }""", None),
    "the same field twice, merged": ("""{ account(code: "1100") { lines(first: 3) {
        edges { node { debit } } edges { node { credit debit } cursor } } } }""", None),
    "__typename everywhere": ("""{ __typename account(code: "1100") { __typename lines(first: 3) {
        __typename edges { __typename node { __typename id } } pageInfo { __typename } } } }""", None),
    "Decimal, Date and enums": ("""{ trialBalance(from: "2026-01-01", to: "2026-12-31", groupBy: [DEPARTMENT]) {
        from to totalDebit totalCredit rows { currency debit credit net quantity dimensions { kind code } } }
        accounts(first: 20) { edges { node { code type unit } } } periods { name start end closed }
        dimensionValues(kind: DEPARTMENT) { kind code name } entity { code name baseCurrency } }""", None),
    "nested connections": ("""{ accounts(first: 5) { edges { node { code lines(first: 4) {
        edges { cursor node { lineNo debit entry { number lines { lineNo credit account { code } } } } }
        pageInfo { hasNextPage } } } } } }""", None),
    "a node": ("""{ journalEntries(first: 2) { edges { node { lines { id } } } } }""", None),
    "an empty page": ("""{ account(code: "3000") { lines(first: 10) { edges { node { id } }
        pageInfo { hasNextPage endCursor } } } }""", None),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_hand_written_queries_answer_the_same(both, ledger_data, name):
    query, variables = CASES[name]
    result = await both(query, variables)
    assert "errors" not in result, result


DIRECTIVES = """query D($a: Boolean!, $b: Boolean!) {
  account(code: "1100") { lines(first: 5) { edges { node {
    debit @include(if: $a) credit @skip(if: $b)
    ... on JournalLine @include(if: $b) { memo lineNo }
    ...F @skip(if: $a) } } } } }
fragment F on JournalLine { currency date @include(if: $b) }"""


async def test_skip_and_include_with_variables_get_a_plan_per_value(both, ledger_data):
    plans = plans_of(both.compiled.app)
    seen = {}
    for a in (True, False):
        for b in (True, False):
            data = (await both(DIRECTIVES, {"a": a, "b": b}))["data"]
            node = data["account"]["lines"]["edges"][0]["node"]
            seen[(a, b)] = set(node)
    assert seen[(True, True)] == {"debit", "memo", "lineNo"}
    assert seen[(True, False)] == {"debit", "credit"}
    assert seen[(False, True)] == {"memo", "lineNo", "currency", "date"}
    assert seen[(False, False)] == {"credit", "currency"}
    # The same document again: served from the plans made above, none built.
    built = plans.built
    await both(DIRECTIVES, {"a": False, "b": True})
    assert plans.built == built


async def test_a_variable_the_selection_does_not_read_shares_the_plan(both, ledger_data):
    plans = plans_of(both.compiled.app)
    await both(PAGE, {"code": "1100", "first": 5})
    built = plans.built
    await both(PAGE, {"code": "1000", "first": 7})
    assert plans.built == built


@pytest.fixture
def broken_lines(monkeypatch):
    """Some lines come out with a null debit (non-null in the schema), one with an Int out
    of range, one with a memo that is no string: graphql-core must report each."""

    def alter(row, line):
        if row.id % 7 == 3:
            line.debit = None
        elif row.id % 11 == 5:
            line.line_no = 2**40
        elif row.id % 13 == 6:
            line.memo = 12

    break_lines(monkeypatch, alter)


NULLS = {
    "a non-null field nulls its parent, up the non-null chain": PAGE,
    "in a list of lines, under a list of entries": """{ journalEntries(first: 30) { edges { node { number
        lines { lineNo debit memo } } } } }""",
    "aliased and in fragments": """query { account(code: "1100") { lines(first: 40) {
        edges { node { ...N } } } } } fragment N on JournalLine { d: debit l: lineNo m: memo }""",
}


@pytest.mark.parametrize("name", list(NULLS))
async def test_nulls_in_non_null_fields_are_graphql_cores_errors(both, ledger_data, broken_lines, name):
    variables = {"code": "1100", "first": 50} if "$code" in NULLS[name] else None
    plans = plans_of(both.compiled.app)
    handed_back = plans.handed_back
    result = await both(NULLS[name], variables)
    assert result["errors"], result
    messages = {e["message"] for e in both.last_errors}
    assert messages and messages <= {
        "Cannot return null for non-nullable field JournalLine.debit.",
        "Int cannot represent non 32-bit signed integer value: 1099511627776",
        "String cannot represent value: 12",
    }, messages
    assert all(e["locations"] and e["path"] for e in both.last_errors)
    assert plans.handed_back > handed_back


SCOPED = [
    """{ journalEntries(first: 10) { edges { node { number date lines { debit credit quantity memo } } } } }""",
    """{ trialBalance(from: "2026-01-01", to: "2026-12-31") { totalDebit rows { debit quantity } } }""",
    """{ account(code: "9000") { code balance lines(first: 5) { edges { node { lineNo quantity } } } } }""",
]


@pytest.mark.parametrize("scopes", [{READ}, {READ, STAT}, {POST_SCOPE}, {READ, POST_SCOPE}, None],
                         ids=["read", "read+statistical", "post", "read+post", "every scope"])
async def test_each_scope_set_gets_the_same_response(both, ledger_data, scopes):
    """Tokens with fewer scopes: refused fields are nulled with FORBIDDEN by the middleware
    on both paths. (One root field per request: the order of errors from root fields
    resolved concurrently depends on I/O timing, on either path.)"""
    for query in SCOPED:
        # A plan reading a refused field is not used; the levels below may be.
        may_compile = scopes is None or STAT in scopes
        result = await both(query, scopes=scopes, compiled=may_compile)
        codes = {e["extensions"]["code"] for e in result.get("errors", [])}
        assert codes == (set() if scopes is None or STAT in scopes else {"FORBIDDEN"})


async def test_what_a_caller_may_read_stays_compiled(both, ledger_data):
    plans = plans_of(both.compiled.app)
    for query in ("{ journalEntries(first: 10) { edges { node { lines { debit memo } } } } }",
                  "{ trialBalance(from: \"2026-01-01\", to: \"2026-12-31\") { rows { debit net } } }"):
        served = plans.served
        result = await both(query, scopes={READ})
        assert "errors" not in result and plans.served > served


async def test_one_document_for_callers_with_different_scopes_never_shares_a_decision(both, ledger_data):
    query = "{ account(code: \"1100\") { lines(first: 20) { edges { node { debit quantity } } } } }"
    full = await both(query, scopes={READ, STAT})
    refused = await both(query, scopes={READ}, compiled=False)
    again = await both(query, scopes={READ, STAT})
    assert "errors" not in full and full == again
    assert {e["extensions"]["code"] for e in refused["errors"]} == {"FORBIDDEN"}
    assert all(edge["node"]["quantity"] is None for edge in refused["data"]["account"]["lines"]["edges"])


async def test_the_plan_cache_is_bounded(both, ledger_data):
    plans = plans_of(both.compiled.app)
    plans.size = 3
    for n in range(6):  # six documents, each with its own plans
        await both(f"{{ a{n}: entity {{ code }} periods {{ name }} }}")
    assert len(plans) == 3
    # An evicted plan is made again, the same.
    built = plans.built
    await both("{ a0: entity { code } periods { name } }")
    assert plans.built > built
