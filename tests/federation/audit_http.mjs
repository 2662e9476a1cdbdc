// Runs graphql-http's GraphQL-over-HTTP conformance audit against a live server.
// usage: LEDGERGATE_TOKEN=<bearer token> node audit_http.mjs <graphql url>
//   → prints JSON {counts: {ok, warn, error}, results: [{id, name, status, reason}]}
// The token comes from the environment, not the command line, so no process list shows it.
import { auditServer } from "graphql-http";

const url = process.argv[2];
const token = process.env.LEDGERGATE_TOKEN;
if (!url || !token) {
  console.error("usage: LEDGERGATE_TOKEN=<token> node audit_http.mjs <graphql url>");
  process.exit(2);
}

// Every audit request as an authenticated client would send it.
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
const out = [];
for (const result of results) {
  counts[result.status] = (counts[result.status] ?? 0) + 1;
  out.push({ id: result.id, name: result.name, status: result.status,
             reason: result.status === "ok" ? undefined : result.reason });
}
console.log(JSON.stringify({ counts, results: out }));
