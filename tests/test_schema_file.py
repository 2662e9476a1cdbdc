from pathlib import Path

from gateway.demo.sources import demo_sdl
from resolvers.schema import print_sdl


async def test_schema_graphql_is_what_the_gateway_serves_with_the_demo_sources():
    committed = (Path(__file__).parent.parent / "schema.graphql").read_text()
    served = await demo_sdl()
    assert committed == served, "schema.graphql is stale: run `ledgergate schema > schema.graphql`"
    for record_type in ("CrmSalesOrder", "PosReceipt", "HrEmployee", "UsageRecord", "ApBill"):
        assert f"type {record_type} implements SourceRecord" in served


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
