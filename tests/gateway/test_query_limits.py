"""Query limits (issue 4, item 7): checked before anything executes, each refusal a
LIMIT_EXCEEDED error stating the measured value and the limit, with nothing executed."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import httpx
import pytest
from graphql import build_schema as schema_from_sdl
from graphql import get_introspection_query
from graphql.language import Lexer, Source, TokenKind
from graphql.language.parser import Parser

from gateway.app import create_app
from gateway.config import ConfigError, load_settings
from gateway.graphiql import DEFAULT_QUERY
from resolvers import limits as query_limits
from resolvers.context import Limits, RequestContext
from resolvers.errors import CodedError
from resolvers.limits import check_limits, count_tokens
from resolvers.sources.catalog import SourceCatalog
from sources.base import FetchRequest, FetchResult, collect
from sources.base import Source as RecordSource
from tests.callers import GraphQLClient, pin_actor_cache, provision_tester
from tests.conftest import make_settings
from tests.record_types import sales_order

ROOT = Path(__file__).parents[2]


class CountingCrm(RecordSource):
    """A source system that records every call."""

    def __init__(self):
        self.name = "crm"
        self.calls: list[FetchRequest] = []

    async def fetch(self, request: FetchRequest) -> FetchResult:
        self.calls.append(request)
        return collect(request, [{"id": i, "amount": "1.00", "customer_id": "C1"} for i in request.ids])


@pytest.fixture
def crm() -> CountingCrm:
    return CountingCrm()


@pytest.fixture
async def app_with(world, crm):
    """`await app_with(**limits)`: a client of the real app with those limits and a crm."""
    party = []
    async with contextlib.AsyncExitStack() as stack:

        async def make(**limits) -> GraphQLClient:
            catalog = SourceCatalog.of({"crm": crm}, [sales_order()])
            app = create_app(make_settings(**limits), db=world.db, sources=catalog)
            pin_actor_cache(app)
            http = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
            )
            if not party:
                party.append(await provision_tester(world.db, ["crm"]))
            client = GraphQLClient(http, party[0])
            assert await client("{ entity { code } }") == {"data": {"entity": {"code": "ACME"}}}
            return client  # the principal's entities are cached now: no SQL before a query

        yield make


def refused(name: str, measured: int, maximum: int, message: str) -> dict:
    return {
        "message": message,
        "extensions": {"code": "LIMIT_EXCEEDED", "limit": {"name": name, "measured": measured, "maximum": maximum}},
    }


async def assert_refused(client, statements, crm, query, variables=None, *errors):
    statements.reset()
    body = await client(query, variables)
    assert body == {"errors": list(errors)}, body
    assert statements.count == 0, statements.statements
    assert crm.calls == []


async def assert_runs(client, query, variables=None) -> dict:
    body = await client(query, variables)
    assert "errors" not in body and body["data"], body
    return body["data"]


# --------------------------------------------------------------------------- depth


def nested(levels: int) -> str:
    """A query exactly `levels` fields deep (journalEntry → reverses … → number)."""
    return '{ journalEntry(number: "none") { ' + "reverses { " * (levels - 2) + "number" + " }" * (levels - 1) + " }"


async def test_depth_up_to_the_limit_runs_and_one_more_is_refused(app_with, statements, crm):
    client = await app_with(max_depth=6)
    assert await assert_runs(client, nested(6)) == {"journalEntry": None}
    await assert_refused(client, statements, crm, nested(7), None,
                         refused("depth", 7, 6, "The query is 7 fields deep; the limit is 6"))


DEPTH_THROUGH_FRAGMENTS = """
query { ...Root }
fragment Root on Query { journalEntry(number: "none") { ...Chain } }
fragment Chain on JournalEntry { reverses { ... on JournalEntry { reversedBy { ...Leaf } } } }
fragment Leaf on JournalEntry { reverses { number } }
"""


async def test_depth_counts_through_fragments_and_inline_fragments(app_with, statements, crm):
    # journalEntry 1 → reverses 2 → (inline) reversedBy 3 → (Leaf) reverses 4 → number 5
    assert await assert_runs(await app_with(max_depth=5), DEPTH_THROUGH_FRAGMENTS) == {"journalEntry": None}
    await assert_refused(await app_with(max_depth=4), statements, crm, DEPTH_THROUGH_FRAGMENTS, None,
                         refused("depth", 5, 4, "The query is 5 fields deep; the limit is 4"))


async def test_introspection_counts_for_depth(app_with, statements, crm):
    query = "{ __schema { types { fields { type { ofType { name } } } } } }"
    assert (await assert_runs(await app_with(max_depth=6), query))["__schema"]["types"]
    await assert_refused(await app_with(max_depth=5), statements, crm, query, None,
                         refused("depth", 6, 5, "The query is 6 fields deep; the limit is 5"))


# --------------------------------------------------------------------------- aliases


def aliased(n: int) -> str:
    return "{ " + " ".join(f'a{i}: account(code: "1000") {{ code }}' for i in range(n)) + " }"


async def test_aliases_up_to_the_limit_run_and_one_more_is_refused(app_with, statements, crm):
    client = await app_with(max_aliases=4)
    assert await assert_runs(client, aliased(4)) == {f"a{i}": {"code": "1000"} for i in range(4)}
    await assert_refused(client, statements, crm, aliased(5), None,
                         refused("aliases", 5, 4, "The query has 5 aliases; the limit is 4"))


ALIASES_IN_FRAGMENTS = """
{ x: account(code: "1000") { code } ...Twice ... on Query { y: entity { n: name } } }
fragment Twice on Query { ...Two ...Two }
fragment Two on Query { z: account(code: "1100") { c: code } }
"""


async def test_aliases_are_counted_in_nested_fields_and_wherever_a_fragment_is_spread(app_with, statements, crm):
    # x 1, inline y and n 2, Two (z and c) spread twice 4: 7
    data = await assert_runs(await app_with(max_aliases=7), ALIASES_IN_FRAGMENTS)
    assert data == {"x": {"code": "1000"}, "z": {"c": "1100"}, "y": {"n": "Acme Software Inc."}}
    await assert_refused(await app_with(max_aliases=6), statements, crm, ALIASES_IN_FRAGMENTS, None,
                         refused("aliases", 7, 6, "The query has 7 aliases; the limit is 6"))


async def test_a_refused_query_calls_no_source_system(app_with, statements, crm):
    query = ('{ sourceRecord(system: "crm", recordType: "SalesOrder", recordId: "SO-1") '
             "{ ... on CrmSalesOrder { a: amount b: amount c: amount } } }")
    client = await app_with(max_aliases=2)
    await assert_refused(client, statements, crm, query, None,
                         refused("aliases", 3, 2, "The query has 3 aliases; the limit is 2"))
    assert await assert_runs(await app_with(max_aliases=3), query) == {
        "sourceRecord": {"a": "1.00", "b": "1.00", "c": "1.00"}}
    assert len(crm.calls) == 1


# --------------------------------------------------------------------------- tokens


async def test_tokens_up_to_the_limit_run_and_one_more_is_refused(app_with, statements, crm):
    query = '{ account(code: "1000") { code name } }'  # { account ( code : "1000" ) { code name } }
    assert count_tokens(query) == (12, 0)
    assert await assert_runs(await app_with(max_tokens=12), query) == {"account": {"code": "1000", "name": "Cash"}}
    await assert_refused(await app_with(max_tokens=11), statements, crm, query, None,
                         refused("tokens", 12, 11, "The query has 12 tokens; the limit is 11"))


async def test_a_token_bomb_is_refused_without_parsing_it(app_with, statements, crm, monkeypatch):
    bomb = "{ " + 'a: account(code: "1000") { code } ' * 18_000 + "}"  # 630 kB: under the body limit
    assert len(bomb) < 1_000_000 and count_tokens(bomb) == (198_002, 0)
    client = await app_with()  # the default, 5000
    fields = 0
    parse_field = Parser.parse_field

    def counting(self):
        nonlocal fields
        fields += 1
        return parse_field(self)

    monkeypatch.setattr(Parser, "parse_field", counting)
    await assert_refused(client, statements, crm, bomb, None,
                         refused("tokens", 198_002, 5000, "The query has 198002 tokens; the limit is 5000"))
    assert fields <= 2 * (5000 // 11 + 1)  # the parser stopped at the limit: 11 tokens, 2 fields a repeat


@pytest.mark.skipif(not query_limits._SEPARATE_COMMENTS, reason="this graphql-core does not count comments")
async def test_comments_are_limited_like_tokens(app_with, statements, crm):
    query = '{ account(code: "1000") { code } }' + "\n# padding" * 11  # 11 tokens, 11 comments
    assert await assert_runs(await app_with(max_tokens=11), query)
    await assert_refused(await app_with(max_tokens=11), statements, crm, query + "\n#", None,
                         refused("comments", 12, 11, "The query has 12 comments; the limit is 11"))


@pytest.mark.parametrize("text", [
    DEFAULT_QUERY,
    get_introspection_query(descriptions=True, specified_by_url=True, directive_is_repeatable=True,
                            schema_description=True, input_value_deprecation=True),
    '{ a(s: "x\\"y # no comment", b: """block "" \\""" x""", n: -1.5e+3, m: 0, f: 1.0) # one\n'
    " # two\n { ...F ... on T { x } } } fragment F on T { y @d(v: [1, 2, {a: $v}]) }",
    "\ufeff{a,b,,c}",
])
def test_tokens_are_counted_as_graphql_cores_lexer_counts_them(text):
    lexer, tokens = Lexer(Source(text)), 0
    while lexer.advance().kind is not TokenKind.EOF:
        tokens += 1
    token, comments = lexer.token, 0
    while token is not None:
        comments += token.kind is TokenKind.COMMENT
        token = token.prev
    assert count_tokens(text) == (tokens, comments)


# --------------------------------------------------------------------------- page size

PAGE = "query($n: Int) { journalEntries(first: $n) { edges { cursor } } }"


async def test_page_size_over_the_maximum_is_refused_before_execution(app_with, statements, crm):
    client = await app_with(max_page_size=50, default_page_size=10)
    over = "The query asks for a page of {} items (first); the limit is 50"
    assert await assert_runs(client, PAGE, {"n": 50}) == {"journalEntries": {"edges": []}}
    assert await assert_runs(client, '{ accounts(first: 50) { edges { cursor } } }')
    await assert_refused(client, statements, crm, PAGE, {"n": 51}, refused("page_size", 51, 50, over.format(51)))
    await assert_refused(client, statements, crm, '{ accounts(first: 51) { edges { cursor } } }', None,
                         refused("page_size", 51, 50, over.format(51)))
    await assert_refused(client, statements, crm, "query($n: Int = 60) { accounts(first: $n) { edges { cursor } } }",
                         None, refused("page_size", 60, 50, over.format(60)))
    in_fragment = '{ account(code: "1000") { ...L } } fragment L on Account { lines(first: 70) { edges { cursor } } }'
    await assert_refused(client, statements, crm, in_fragment, None, refused("page_size", 70, 50, over.format(70)))


def test_the_resolvers_refuse_the_same_pages():
    context = RequestContext(None, None, Limits(default_page_size=10, max_page_size=50))
    assert (context.page_size(None), context.page_size(50)) == (10, 50)
    with pytest.raises(CodedError) as over:
        context.page_size(51)
    assert str(over.value) == "The query asks for a page of 51 items (first); the limit is 50"
    assert over.value.extensions == {"code": "LIMIT_EXCEEDED", "limit": {"name": "page_size", "measured": 51, "maximum": 50}}
    with pytest.raises(CodedError) as under:
        context.page_size(0)
    assert under.value.extensions == {"code": "BAD_USER_INPUT", "argument": "first"}


# --------------------------------------------------------------------------- cost

ACCOUNTS = "query($n: Int) { accounts(first: $n) { edges { node { code name } } } }"


def cost_over(measured: int, maximum: int) -> dict:
    return refused("cost", measured, maximum, f"The query's estimated cost is {measured}; the limit is {maximum}")


async def test_cost_with_a_literal_first(app_with, statements, crm):
    client = await app_with(max_cost=23)
    # accounts 1 + edges 1 + 7 × (node 1 + code 1 + name 1) = 23
    data = await assert_runs(client, "{ accounts(first: 7) { edges { node { code name } } } }")
    assert len(data["accounts"]["edges"]) == 7
    await assert_refused(client, statements, crm, "{ accounts(first: 8) { edges { node { code name } } } }", None,
                         cost_over(26, 23))
    # A first below 1 is refused where it is resolved; it must not lower the estimate meanwhile.
    await assert_refused(client, statements, crm, "{ a: accounts(first: -100) { edges { node { code } } } "
                         "b: accounts(first: 8) { edges { node { code name } } } }", None, cost_over(2 + 26, 23))


async def test_cost_with_first_from_a_variable_is_worked_out_per_request(app_with, statements, crm):
    client = await app_with(max_cost=23)
    assert await assert_runs(client, ACCOUNTS, {"n": 7})
    await assert_refused(client, statements, crm, ACCOUNTS, {"n": 8}, cost_over(26, 23))
    assert await assert_runs(client, ACCOUNTS, {"n": 7})  # the cached document keeps no variable's value
    await assert_refused(client, statements, crm, "query($n: Int = 8) { accounts(first: $n) { edges { node { code name } } } }",
                         None, cost_over(26, 23))


async def test_cost_without_first_counts_the_default_page_and_list_sizes(app_with, statements, crm):
    client = await app_with(max_cost=23, default_page_size=8, default_list_size=4)
    await assert_refused(client, statements, crm, ACCOUNTS, None, cost_over(26, 23))
    await assert_refused(client, statements, crm, ACCOUNTS, {"n": None}, cost_over(26, 23))
    await assert_refused(client, statements, crm, "{ accounts { edges { node { code name } } } }", None, cost_over(26, 23))
    # periods 1 + 4 × 4 = 17, dimensionValues 1 + 4 × 1 = 5: 22
    assert await assert_runs(client, "{ periods { name start end closed } dimensionValues(kind: DEPARTMENT) { code } }")
    await assert_refused(client, statements, crm,
                         "{ periods { name start end closed } dimensionValues(kind: DEPARTMENT) { code name } }", None,
                         cost_over(26, 23))


NESTED = """query($a: Int, $b: Int) { accounts(first: $a) { edges { node {
  lines(first: $b) { edges { node { debit entry { number lines { debit account { code } } } } } } } } } }"""


async def test_cost_multiplies_through_nesting(app_with, statements, crm):
    # per line: node 1 + debit 1 + entry (1 + number 1 + lines (1 + 2 × (debit 1 + account 2))) = 11
    # per account: node 1 + lines (1 + edges 1 + b × 11); in all: 2 + a × (3 + 11 b)
    client = await app_with(max_cost=2 + 3 * (3 + 11 * 4), default_list_size=2)  # 143
    assert await assert_runs(client, NESTED, {"a": 3, "b": 4})
    await assert_refused(client, statements, crm, NESTED, {"a": 3, "b": 5}, cost_over(2 + 3 * 58, 143))
    await assert_refused(client, statements, crm, NESTED, {"a": 4, "b": 3}, cost_over(2 + 4 * 36, 143))


async def test_cost_through_fragments_on_connections_and_entities(app_with, statements, crm):
    client = await app_with(max_cost=20)
    # journalEntries 1 + edges 1 + pageInfo 2 + 3 × (node 1 + number 1) = 10
    query = ("query($n: Int) { journalEntries(first: $n) { ...Page } } "
             "fragment Page on JournalEntryConnection { edges { node { ... on JournalEntry { number } } } "
             "pageInfo { hasNextPage } }")
    assert await assert_runs(client, query, {"n": 3})
    await assert_refused(client, statements, crm, query, {"n": 9}, cost_over(4 + 9 * 2, 20))
    # _entities: 1 + one per representation
    entities = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Account { code } } }"
    await assert_refused(client, statements, crm, entities,
                         {"r": [{"__typename": "Account", "id": "x"}] * 20}, cost_over(21, 20))


# --------------------------------------------------------------------------- together, defaults


async def test_every_limit_exceeded_is_reported(app_with, statements, crm):
    client = await app_with(max_depth=3, max_aliases=1, max_cost=5)
    query = '{ a: account(code: "1000") { b: lines(first: 2) { edges { node { id } } } } }'
    await assert_refused(client, statements, crm, query, None,
                         refused("depth", 5, 3, "The query is 5 fields deep; the limit is 3"),
                         refused("aliases", 2, 1, "The query has 2 aliases; the limit is 1"),
                         cost_over(7, 5))  # account 1 + lines 1 + edges 1 + 2 × (node 1 + id 1)


async def test_limits_apply_over_get_too(app_with, statements):
    client = await app_with(max_depth=3)
    headers = await client.headers()
    statements.reset()
    response = await client.http.get("/graphql", params={"query": nested(4)}, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"errors": [refused("depth", 4, 3, "The query is 4 fields deep; the limit is 3")]}
    assert statements.count == 0


async def test_a_body_over_the_limit_says_its_size_and_the_limit(http):
    response = await http.post("/graphql", content=b"x" * 1_000_001, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"errors": [refused(
        "body_bytes", 1_000_001, 1_000_000, "The request body has 1000001 bytes; the limit is 1000000")]}


def graphiql_introspection_query() -> str:
    """The introspection query the vendored GraphiQL sends, every option on."""
    bundle = (ROOT / "gateway/static/graphiql/graphiql.min.js").read_text()
    start = bundle.index("query IntrospectionQuery {")
    template = bundle[start:bundle.index("`}", start)].encode().decode("unicode_escape")
    options = {"n": "description", "r": "specifiedByURL", "i": "isRepeatable", "o": "description", "s": "isOneOf"}
    text = re.sub(r'\$\{a\("([^"]*)"\)\}', r"\1", template)
    text = re.sub(r"\$\{(\w)\}", lambda m: options[m[1]], text)
    assert "${" not in text and "ofType" in text
    return text


async def test_graphiqls_introspection_runs_with_the_default_limits(gql):
    body = await gql(graphiql_introspection_query())
    assert "errors" not in body and len(body["data"]["__schema"]["types"]) > 30


def test_the_defaults_leave_room_for_every_query_we_ship():
    """README and GraphiQL examples, both introspection queries and the benchmarks' queries
    at their sizes, measured on the demo's schema: within the defaults, with room to spare."""
    from bench.lineage import lineage_query
    from bench.run import NESTED_QUERY, PAGE_QUERY, SMALL_QUERY, TB_QUERY

    schema = schema_from_sdl((ROOT / "schema.graphql").read_text(), assume_valid_sdl=True)
    readme = re.findall(r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    queries = [
        (graphiql_introspection_query(), {}), (get_introspection_query(descriptions=True), {}),
        (DEFAULT_QUERY, {}), *((q, {}) for q in readme), (PAGE_QUERY, {"code": "1000", "first": 10_000}),
        (NESTED_QUERY, {"first": 1000}), (SMALL_QUERY, {"code": "1000"}), (TB_QUERY, {}), (lineage_query(), {}),
    ]
    defaults = Limits()
    measured = []
    for text, variables in queries:
        assert check_limits(schema, text, variables) == [], text
        prepared = query_limits.PreparedDocument(query_limits.parse_limited(text, defaults.max_tokens))
        found = prepared.operation_limits(schema, None, defaults)
        measured.append((found.depth, found.aliases, count_tokens(text)[0], found.estimate(variables)))
    depth, aliases, tokens, cost = (max(column) for column in zip(*measured))
    assert depth == 15  # GraphiQL's introspection query: TypeRef nests ofType 9 times
    assert aliases <= 3 and tokens <= 200
    assert 190_000 < cost <= defaults.max_cost // 5  # the lineage benchmark
    page_cost = measured[len(readme) + 3][3]
    assert page_cost == 100_006  # account 1 + lines 1 + edges 1 + 10,000 × 10 + pageInfo 3


# --------------------------------------------------------------------------- configuration


def test_the_limits_are_read_from_the_config_file(tmp_path):
    config = tmp_path / "lg.toml"
    config.write_text("[limits]\ndefault_page_size = 50\nmax_page_size = 500\nmax_depth = 12\nmax_aliases = 0\n"
                      "max_tokens = 800\nmax_cost = 25000\ndefault_list_size = 3\n")
    assert load_settings(config).limits == Limits(50, 500, max_depth=12, max_aliases=0, max_tokens=800,
                                                  max_cost=25_000, default_list_size=3)
    partial = tmp_path / "partial.toml"
    partial.write_text("[limits]\nmax_depth = 9\n")
    assert load_settings(partial).limits == Limits(max_depth=9)


@pytest.mark.parametrize("text,message", [
    ("max_depth = 'deep'", "limits.max_depth must be an integer, got 'deep'"),
    ("max_tokens = true", "limits.max_tokens must be an integer, got True"),
    ("default_list_size = 1.5", "limits.default_list_size must be an integer, got 1.5"),
    ("max_cost = 0", "limits.max_cost must be at least 1, got 0"),
    ("max_depth = 0", "limits.max_depth must be at least 1, got 0"),
    ("max_aliases = -1", "limits.max_aliases must be at least 0, got -1"),
    ("max_page_size = 0", "limits.max_page_size must be at least 1, got 0"),
    ("max_depht = 3", "unknown key(s) limits.['max_depht']; expected default_page_size, max_page_size, "
                      "max_depth, max_aliases, max_tokens, max_cost, default_list_size, max_entry_lines, "
                          "max_batch_entries, max_batch_lines"),
])
def test_bad_limits_name_the_file_and_the_key(tmp_path, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(f"[limits]\n{text}\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert str(raised.value) == f"{config}: {message}"


def test_field_costs_are_read_from_the_config_file(tmp_path):
    config = tmp_path / "lg.toml"
    config.write_text('[limits]\nmax_cost = 9\n[limits.field_costs]\n"Query.verifyLedger" = 7\n"Query.trialBalance" = 0\n')
    limits = load_settings(config).limits
    costs = dict(limits.field_costs)
    assert costs["Query.verifyLedger"] == 7 and "Query.trialBalance" not in costs
    schema = schema_from_sdl((ROOT / "schema.graphql").read_text(), assume_valid_sdl=True)
    assert check_limits(schema, "{ verifyLedger { ok } }", limits=limits) == []  # 1 + 7 + 1
    [error] = check_limits(schema, "{ a: verifyLedger { ok } b: verifyLedger { ok } }", limits=limits)
    assert error.extensions["limit"] == {"name": "cost", "measured": 18, "maximum": 9}
    bad = tmp_path / "bad.toml"
    bad.write_text('[limits.field_costs]\n"verifyLedger" = 7\n')
    with pytest.raises(ConfigError, match="must be \"Type.field\""):
        load_settings(bad)
