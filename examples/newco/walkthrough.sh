#!/usr/bin/env bash
# From an empty database to posting and reporting, with the command line only (README:
# "Your own company"). Run from this folder:  bash walkthrough.sh
# LEDGERGATE (default: ledgergate) is the command; PORT (default 8000) where it serves.
set -euo pipefail
LEDGERGATE=${LEDGERGATE:-ledgergate}
PORT=${PORT:-8000}
WORK=${WORK:-$(mktemp -d)}
export LEDGERGATE_DATABASE_URL=${LEDGERGATE_DATABASE_URL:-sqlite:///$WORK/books.db}

# 1. A database and the secrets key (it encrypts the OAuth signing keys).
$LEDGERGATE secrets keygen --out "$WORK/secrets.key"
export LEDGERGATE_SECRETS_KEY=$(cat "$WORK/secrets.key")
$LEDGERGATE db upgrade

# 2. The company, its chart of accounts, dimensions, journals and fiscal year.
$LEDGERGATE entities create NEWCO --name "New Co Ltd" --currency EUR --fiscal-year-start 1
$LEDGERGATE setup import groups.csv --entity NEWCO
$LEDGERGATE setup import chart.csv --entity NEWCO
$LEDGERGATE setup import dimensions.csv --entity NEWCO
$LEDGERGATE journals add NEWCO GJ --name "General journal"
$LEDGERGATE journals add NEWCO SALES --name "Sales journal"
$LEDGERGATE periods generate NEWCO 2026
$LEDGERGATE entities set-retained-earnings NEWCO 3900
$LEDGERGATE setup import opening.csv --entity NEWCO --date 2026-01-01 --journal GJ
$LEDGERGATE setup import opening.csv --entity NEWCO --date 2026-01-01 --journal GJ  # again: a no-op
$LEDGERGATE rates import NEWCO rates.csv    # what a US dollar was worth in euros

# 3. Who may call it: a role, a user of NEWCO with it, an integration client acting as them.
$LEDGERGATE roles add accountant --scopes "ledger:read ledger:post statistical:read admin:write"
$LEDGERGATE users add NEWCO books --role accountant
credentials=$($LEDGERGATE clients add "Books integration" --scopes "ledger:read ledger:post statistical:read admin:write")
client_id=$(echo "$credentials" | sed -n 's/.*client_id=\([^ ]*\).*/\1/p')
client_secret=$(echo "$credentials" | sed -n 's/.*client_secret=\([^ ]*\).*/\1/p')
$LEDGERGATE allow "$client_id" NEWCO --as books

# 4. Serve it, take a token, post an invoice and read the trial balance.
$LEDGERGATE serve --port "$PORT" > "$WORK/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
token=$(curl -sf -u "$client_id:$client_secret" -d grant_type=client_credentials -d entity=NEWCO \
  "http://127.0.0.1:$PORT/oauth/token" | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')
graphql() {
  curl -sf -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    --data "$1" "http://127.0.0.1:$PORT/graphql"
  echo
}
graphql '{"query": "mutation { postJournalEntry(idempotencyKey: \"INV-1\", input: {journal: \"SALES\", date: \"2026-01-20\", description: \"Invoice INV-1\", lines: [{account: \"1100\", debit: \"1200.00\", dimensions: [{kind: CUSTOMER, code: \"ACME\"}]}, {account: \"4000\", credit: \"1200.00\", dimensions: [{kind: DEPARTMENT, code: \"CONSULT\"}]}]}) { entry { number } } }"}'
graphql '{"query": "mutation { postJournalEntry(idempotencyKey: \"HC-1\", input: {journal: \"GJ\", date: \"2026-01-31\", lines: [{account: \"9000\", quantity: \"3\", dimensions: [{kind: DEPARTMENT, code: \"CONSULT\"}]}, {account: \"9000\", quantity: \"1\", dimensions: [{kind: DEPARTMENT, code: \"ADMIN\"}]}]}) { entry { number } } }"}'
graphql '{"query": "mutation { postJournalEntry(idempotencyKey: \"BILL-7\", input: {journal: \"GJ\", date: \"2026-01-22\", description: \"US hosting bill, USD 500\", lines: [{account: \"6100\", debit: \"500.00\", currency: \"USD\"}, {account: \"2000\", credit: \"500.00\", currency: \"USD\"}]}) { entry { number lines { debit credit transaction { currency debit credit rate } } } } }"}'
graphql '{"query": "{ trialBalance(from: \"2026-01-01\", to: \"2026-01-31\") { totalDebit totalCredit rows { account { code name } debit credit net quantity } } }"}'
# Many entries in one call, one transaction and one key (all or nothing): January's accruals.
graphql '{"query": "mutation { postJournalEntries(idempotencyKey: \"ACCRUALS-2026-01\", inputs: [{journal: \"GJ\", date: \"2026-01-31\", description: \"Accrued office rent\", lines: [{account: \"6100\", debit: \"300.00\"}, {account: \"2000\", credit: \"300.00\"}]}, {journal: \"GJ\", date: \"2026-01-31\", description: \"Accrued storage rent\", lines: [{account: \"6100\", debit: \"150.00\"}, {account: \"2000\", credit: \"150.00\"}]}]) { entries { number description } } }"}'
kill $server

# 5. Close January: it refuses postings from now on.
$LEDGERGATE periods close NEWCO 2026-01
$LEDGERGATE periods list NEWCO
