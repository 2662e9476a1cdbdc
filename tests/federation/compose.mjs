// Composes Federation 2 subgraphs into a supergraph, as Apollo's router would.
// usage: node compose.mjs name=file.graphql[@url] ...  → prints JSON {ok, errors, hints}
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const services = process.argv.slice(2).map((arg) => {
  const [name, file] = arg.split("=");
  return { name, url: `http://${name}.invalid/graphql`, typeDefs: parse(readFileSync(file, "utf8")) };
});
const result = composeServices(services);
const out = {
  ok: !result.errors,
  errors: (result.errors ?? []).map((e) => e.message),
  hints: (result.hints ?? []).map((h) => h.toString()),
};
if (result.supergraphSdl) out.supergraph_bytes = result.supergraphSdl.length;
console.log(JSON.stringify(out));
process.exit(out.ok ? 0 : 1);
