from pathlib import Path

from resolvers.schema import print_sdl


def test_schema_graphql_matches_the_served_schema():
    committed = (Path(__file__).parent.parent / "schema.graphql").read_text()
    assert committed == print_sdl(), "schema.graphql is stale: run `ledgergate schema > schema.graphql`"


def test_the_core_contract_is_in_the_schema():
    sdl = print_sdl()
    for fragment in [
        "trialBalance(from: Date!, to: Date!, groupBy: [DimensionKind!] = null, accountType: AccountType = null): TrialBalance!",
        "postJournalEntry(input: JournalEntryInput!, idempotencyKey: String!): PostJournalEntryPayload!",
        "reverseJournalEntry(number: String!, date: Date!, idempotencyKey: String!): PostJournalEntryPayload!",
        "node(id: ID!): Node",
        "verifyLedger: LedgerVerification!",
        "type JournalLine implements Node",
        "scalar Decimal",
    ]:
        assert fragment in sdl
