"""Shared request builders and checks for tests that drive the real app."""

from sqlalchemy import func, select

from ledger.model import IdempotencyKey, JournalEntry, JournalLine, SourceLink

POST = """
mutation Post($input: JournalEntryInput!, $key: String!) {
  postJournalEntry(input: $input, idempotencyKey: $key) {
    entry { id number journal date description state hash
      source { system recordType recordId url }
      lines { lineNo debit credit currency quantity memo
        account { code type unit }
        dimensions { kind code name }
        sources { system recordType recordId url } } }
  }
}
"""


def sale(amount="100.00", **overrides):
    entry = {
        "journal": "SALES",
        "date": "2026-03-15",
        "description": "March subscription",
        "source": {"system": "crm", "recordType": "SalesOrder", "recordId": "SO-1"},
        "lines": [
            {
                "account": "1100",
                "debit": amount,
                "dimensions": [{"kind": "CUSTOMER", "code": "C1"}],
                "sources": [{"system": "crm", "recordType": "SalesOrder", "recordId": "SO-1",
                             "url": "http://127.0.0.1:8101/crm/sales-orders/SO-1"}],
            },
            {
                "account": "4000",
                "credit": amount,
                "memo": "subscription",
                "dimensions": [{"kind": "DEPARTMENT", "code": "SALES"}, {"kind": "LOCATION", "code": "NYC"}],
            },
        ],
    }
    entry.update(overrides)
    return entry


async def counts(db, entity_id):
    async with db.session(entity_id) as s:
        return tuple(
            [await s.scalar(select(func.count()).select_from(model)) for model in
             (JournalEntry, JournalLine, SourceLink, IdempotencyKey)]
        )


async def post(gql, key="k", amount="100.00", entity="ACME", **overrides):
    result = await gql(POST, {"input": sale(amount, **overrides), "key": key}, entity=entity)
    assert "errors" not in result, result
    return result["data"]["postJournalEntry"]["entry"]


async def post_random_entries(db, entity_id, count, seed, accounts, dims):
    """Post `count` balanced entries with odd cents and random dimensions, in bulk."""
    import datetime as dt
    import random
    from decimal import Decimal

    from ledger.drafts import EntryDraft, LineDraft
    from ledger.posting import post_entries
    from ledger.posting_plan import Posting

    rng = random.Random(seed)
    postings = []
    for n in range(count):
        amounts = [Decimal(rng.randint(1, 99_999)) / 100 for _ in range(rng.randint(1, 3))]
        day = dt.date(2026, rng.randint(1, 12), rng.randint(1, 28))
        lines = [
            LineDraft(account=rng.choice(accounts), debit=a,
                      dimensions=tuple(d for d in [rng.choice(dims + [None])] if d))
            for a in amounts
        ]
        lines.append(LineDraft(account=rng.choice(accounts), credit=sum(amounts),
                               dimensions=tuple(d for d in [rng.choice(dims + [None])] if d)))
        postings.append(Posting(EntryDraft(journal="GJ", date=day, lines=tuple(lines)), f"r{seed}-{n}"))
    async with db.session(entity_id) as session:
        await post_entries(session, postings)
