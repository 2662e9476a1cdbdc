"""No N+1: nested queries cost a constant number of SQL statements, whatever the count."""


from tests.support import post_random_entries

NESTED = """
query($first: Int) {
  journalEntries(first: $first) {
    edges { node { number reversedBy { number } source { system }
      lines { debit memo account { code name type balance } dimensions { code }
              sources { recordId } entry { number } } } }
  }
}
"""

DRILL = """
{ trialBalance(from: "2026-01-01", to: "2026-12-31", groupBy: [DEPARTMENT]) {
    rows { account { code } dimensions { code }
      lines(first: 5) { edges { node { debit entry { number lines { lineNo } } } } } } } }
"""


async def test_entries_lines_accounts_cost_the_same_at_10_100_and_1000(gql, world, statements):
    await post_random_entries(world.db, world.acme, 1000, 5, ["1000", "1100", "4000", "5000"],
                              [("DEPARTMENT", "SALES"), ("DEPARTMENT", "ENG")])
    await gql("{ entity { code } }")  # the principal's entity list is cached after this
    counts = {}
    for n in (10, 100, 1000):
        statements.reset()
        result = await gql(NESTED, {"first": n})
        assert "errors" not in result
        assert len(result["data"]["journalEntries"]["edges"]) == n
        counts[n] = statements.count
    assert counts[10] == counts[100] == counts[1000], counts
    # entries, lines, accounts, balances, dimensions, line sources, entry sources, entries by id
    assert counts[1000] <= 8, statements.statements


async def test_trial_balance_drill_down_is_one_query_for_all_rows(gql, world, statements):
    await post_random_entries(world.db, world.acme, 200, 6, ["1000", "1100", "4000", "5000"],
                              [("DEPARTMENT", "SALES"), ("DEPARTMENT", "ENG")])
    await gql("{ entity { code } }")
    statements.reset()
    result = await gql(DRILL)
    rows = result["data"]["trialBalance"]["rows"]
    assert len(rows) >= 8
    # the entity's settings (fiscal year, retained earnings), the aggregate, the STOCK
    # levels, accounts, dimension values, line pages, entries, entry lines
    assert statements.count <= 8, statements.statements
