"""schema.graphql composes as a Federation 2 subgraph, checked by Apollo's own composition
library (`@apollo/composition`, installed by `npm ci --prefix tests/federation`), with the
demo HR subgraph and with a subgraph that extends ledgergate's entities."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from sources.demo.services.hr_schema import schema as hr_schema

HERE = Path(__file__).parent / "federation"
ROOT = Path(__file__).parent.parent

# Another team's subgraph that adds fields to ledgergate's entities, as a supergraph would.
REVIEWS = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])

type JournalLine @key(fields: "id") {
  id: ID!
  reviewedBy: String
}

type Account @key(fields: "id") {
  id: ID!
  owner: String
}

type Query {
  reviewQueue: [JournalLine!]!
}
"""


def compose(tmp_path: Path, **subgraphs: str) -> dict:
    node = shutil.which("node")
    assert node, "Node.js is needed to check composition (it is on every machine of this kind)"
    assert (HERE / "node_modules" / "@apollo" / "composition").is_dir(), (
        "run `npm ci --prefix tests/federation` first (the README's test command does)"
    )
    args = []
    for name, sdl in subgraphs.items():
        path = tmp_path / f"{name}.graphql"
        path.write_text(sdl)
        args.append(f"{name}={path}")
    done = subprocess.run(
        [node, str(HERE / "compose.mjs"), *args], capture_output=True, text=True, timeout=120
    )
    assert done.stdout, done.stderr
    return json.loads(done.stdout)


def test_schema_graphql_composes_with_the_hr_subgraph_and_an_extension(tmp_path):
    result = compose(
        tmp_path,
        ledgergate=(ROOT / "schema.graphql").read_text(),
        hr=hr_schema.as_str(),
        reviews=REVIEWS,
    )
    assert result["ok"], result["errors"]
    assert result["errors"] == []


def test_the_check_fails_when_subgraphs_conflict(tmp_path):
    # A subgraph redefining a ledgergate entity's field with another type must not compose:
    # proof that the check above can fail.
    conflicting = REVIEWS.replace("reviewedBy: String", "debit: Int")
    result = compose(tmp_path, ledgergate=(ROOT / "schema.graphql").read_text(), reviews=conflicting)
    assert not result["ok"]
    assert any("debit" in message for message in result["errors"]), result["errors"]
