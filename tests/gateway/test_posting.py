"""Posting through the real app: every ledger rule, accepted and rejected."""

import pytest

from tests.support import POST, counts, sale


async def test_a_balanced_entry_posts_with_lines_dimensions_and_sources(gql, world):
    result = await gql(POST, {"input": sale("1234.5"), "key": "k1"})
    assert "errors" not in result, result
    entry = result["data"]["postJournalEntry"]["entry"]
    assert entry["number"] == "JE-0000001"
    assert entry["state"] == "POSTED" and len(entry["hash"]) == 64
    assert entry["source"] == {"system": "crm", "recordType": "SalesOrder", "recordId": "SO-1", "url": None}
    debit, credit = entry["lines"]
    assert (debit["debit"], debit["credit"], debit["currency"]) == ("1234.50", "0.00", "USD")
    assert (credit["debit"], credit["credit"], credit["memo"]) == ("0.00", "1234.50", "subscription")
    assert debit["dimensions"] == [{"kind": "CUSTOMER", "code": "C1", "name": "First customer"}]
    assert {d["code"] for d in credit["dimensions"]} == {"SALES", "NYC"}
    assert debit["sources"][0]["url"] == "http://127.0.0.1:8101/crm/sales-orders/SO-1"
    assert credit["sources"] == []
    assert await counts(world.db, world.acme) == (1, 2, 2, 1)


async def test_a_statistical_entry_needs_no_balance(gql, world):
    entry = {
        "journal": "GJ",
        "date": "2026-01-31",
        "lines": [
            {"account": "9000", "quantity": "12", "dimensions": [{"kind": "DEPARTMENT", "code": "ENG"}]},
            {"account": "9100", "quantity": "1.125"},
        ],
    }
    result = await gql(POST, {"input": entry, "key": "stat-1"})
    assert "errors" not in result, result
    lines = result["data"]["postJournalEntry"]["entry"]["lines"]
    assert [(l["quantity"], l["debit"], l["account"]["unit"]) for l in lines] == [
        ("12", "0.00", "people"),
        ("1.125", "0.00", "GB"),
    ]


REJECTIONS = [
    ("unknown account", {"lines": [{"account": "0000", "debit": "1"}, {"account": "4000", "credit": "1"}]}, "lines[0].account", "unknown account '0000'"),
    ("inactive account", {"lines": [{"account": "5100", "debit": "1"}, {"account": "4000", "credit": "1"}]}, "lines[0].account", "inactive"),
    ("another entity's account", {"lines": [{"account": "7777", "debit": "1"}, {"account": "4000", "credit": "1"}]}, "lines[0].account", "unknown account '7777'"),
    ("closed period", {"date": "2025-06-30"}, "date", "period 2025-06 is closed"),
    ("missing period", {"date": "2027-01-01"}, "date", "no fiscal period covers 2027-01-01"),
    ("unbalanced", {"lines": [{"account": "1100", "debit": "10.00"}, {"account": "4000", "credit": "9.99"}]}, "lines", "differ by 0.01 USD"),
    ("mixed statistical and financial", {"lines": [{"account": "1100", "debit": "1"}, {"account": "4000", "credit": "1"}, {"account": "9000", "quantity": "1"}]}, "lines", "cannot be mixed"),
    ("too many decimals", {"lines": [{"account": "1100", "debit": "1.005"}, {"account": "4000", "credit": "1.005"}]}, "lines[0].debit", "more decimals than USD allows (2)"),
    ("negative amount", {"lines": [{"account": "1100", "debit": "-5"}, {"account": "4000", "credit": "-5"}]}, "lines[0].debit", "greater than zero"),
    ("zero amount", {"lines": [{"account": "1100", "debit": "0"}, {"account": "4000", "credit": "0"}]}, "lines[0].debit", "greater than zero"),
    ("empty lines", {"lines": []}, "lines", "at least one line"),
    ("debit and credit on one line", {"lines": [{"account": "1100", "debit": "1", "credit": "1"}]}, "lines[0]", "exactly one of debit or credit"),
    ("quantity on a money account", {"lines": [{"account": "1100", "debit": "1", "quantity": "2"}, {"account": "4000", "credit": "1"}]}, "lines[0].quantity", "statistical"),
    ("money on a statistical account", {"lines": [{"account": "9000", "debit": "1"}]}, "lines[0]", "takes a quantity"),
    ("zero quantity", {"lines": [{"account": "9000", "quantity": "0"}]}, "lines[0].quantity", "must not be zero"),
    ("quantity decimals", {"lines": [{"account": "9000", "quantity": "1.5"}]}, "lines[0].quantity", "more decimals than people allows (0)"),
    ("unknown journal", {"journal": "NOPE"}, "journal", "unknown journal 'NOPE'"),
    ("unknown dimension value", {"lines": [{"account": "1100", "debit": "1", "dimensions": [{"kind": "DEPARTMENT", "code": "NOPE"}]}, {"account": "4000", "credit": "1"}]}, "lines[0].dimensions[0]", "unknown DEPARTMENT 'NOPE'"),
    ("inactive dimension value", {"lines": [{"account": "1100", "debit": "1", "dimensions": [{"kind": "DEPARTMENT", "code": "OLD"}]}, {"account": "4000", "credit": "1"}]}, "lines[0].dimensions[0]", "inactive"),
    ("another entity's dimension value", {"lines": [{"account": "1100", "debit": "1", "dimensions": [{"kind": "PROJECT", "code": "BONLY"}]}, {"account": "4000", "credit": "1"}]}, "lines[0].dimensions[0]", "unknown PROJECT 'BONLY'"),
    ("a dimension kind twice", {"lines": [{"account": "1100", "debit": "1", "dimensions": [{"kind": "DEPARTMENT", "code": "SALES"}, {"kind": "DEPARTMENT", "code": "ENG"}]}, {"account": "4000", "credit": "1"}]}, "lines[0].dimensions[1]", "more than once"),
    ("empty source id", {"source": {"system": "crm", "recordType": "SalesOrder", "recordId": " "}}, "source.recordId", "must not be empty"),
    ("javascript deep link", {"source": {"system": "crm", "recordType": "SalesOrder", "recordId": "SO-1", "url": "javascript:alert(document.cookie)"}}, "source.url", "must be an absolute http or https URL"),
    ("data deep link", {"lines": [{"account": "1100", "debit": "1", "sources": [{"system": "crm", "recordType": "SalesOrder", "recordId": "SO-1", "url": "data:text/html,<script>x</script>"}]}, {"account": "4000", "credit": "1"}]}, "lines[0].sources[0].url", "must be an absolute http or https URL"),
    ("relative deep link", {"source": {"system": "crm", "recordType": "SalesOrder", "recordId": "SO-1", "url": "//evil.example/x"}}, "source.url", "must be an absolute http or https URL"),
    ("unconfigured source system", {"source": {"system": "erp", "recordType": "Thing", "recordId": "T-1"}}, "source.system", "no source system 'erp' is configured"),
    ("amount too large", {"lines": [{"account": "1100", "debit": "10000000000000"}, {"account": "4000", "credit": "10000000000000"}]}, "lines[0].debit", "exceeds"),
]


@pytest.mark.parametrize("case,overrides,path,message", REJECTIONS, ids=[r[0] for r in REJECTIONS])
async def test_rule_breaking_entries_are_rejected_with_nothing_written(gql, world, case, overrides, path, message):
    result = await gql(POST, {"input": sale(**overrides), "key": f"bad-{case}"})
    assert result["data"] is None
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["path"] == ["postJournalEntry"]
    violations = error["extensions"]["violations"]
    assert any(v["path"] == path and message in v["message"] for v in violations), violations
    assert await counts(world.db, world.acme) == (0, 0, 0, 0)


async def test_every_violation_is_reported_at_once(gql, world):
    bad = sale(journal="NOPE", date="2025-01-10", lines=[{"account": "0000", "debit": "1.001"}])
    result = await gql(POST, {"input": bad, "key": "many"})
    paths = {v["path"] for v in result["errors"][0]["extensions"]["violations"]}
    assert {"journal", "date", "lines[0].account", "lines[0].debit"} <= paths


@pytest.mark.parametrize(
    "variables,fragment",
    [
        ({"input": sale(date="2026-02-30"), "key": "d"}, "Date must be a calendar date"),
        ({"input": sale(date="15/03/2026"), "key": "d"}, "Date must be a calendar date"),
        ({"input": sale(lines=[{"account": "1100", "debit": 1.5}, {"account": "4000", "credit": "1.5"}]), "key": "f"}, "not floating point"),
        ({"input": sale(lines=[{"account": "1100", "debit": "12abc"}, {"account": "4000", "credit": "1"}]), "key": "x"}, "not a decimal number"),
        ({"input": sale(lines=[{"account": "1100", "debit": "NaN"}, {"account": "4000", "credit": "1"}]), "key": "x"}, "not a decimal number written as"),
        ({"input": sale(), "key": ""}, "idempotencyKey"),
    ],
)
async def test_malformed_values_are_bad_user_input(gql, world, variables, fragment):
    result = await gql(POST, variables)
    [error] = result["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert fragment in str(error), error
    assert await counts(world.db, world.acme) == (0, 0, 0, 0)
