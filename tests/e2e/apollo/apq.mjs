// Apollo Client's persisted-query link, unmodified, against a OneStop gateway.
//
//   node apq.mjs <graphql url> <nonce>
//
// Three clients, each with its own link and cache, run queries whose documents
// are new to the server (the nonce is in an alias: Apollo Client prints documents
// without comments). The only thing added is a `fetch` that records each HTTP
// exchange; the result, printed as JSON, is checked by test_apollo_client_e2e.py.
import { createHash } from "node:crypto";

import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries";

const [uri, nonce] = process.argv.slice(2);
if (!uri || !nonce) {
  console.error("usage: node apq.mjs <graphql url> <nonce>");
  process.exit(2);
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

function client(exchanges, useGETForHashedQueries) {
  const recordingFetch = async (url, options) => {
    const method = options.method ?? "GET";
    const params = new URL(url).searchParams;
    const sent =
      method === "GET"
        ? { query: params.get("query"), extensions: JSON.parse(params.get("extensions") ?? "{}") }
        : JSON.parse(options.body);
    const response = await fetch(url, options);
    const answer = await response.clone().json();
    exchanges.push({
      method,
      query: sent.query ?? null,
      hash: sent.extensions?.persistedQuery?.sha256Hash ?? null,
      status: response.status,
      codes: (answer.errors ?? []).map((error) => error.extensions?.code ?? null),
    });
    return response;
  };
  const link = createPersistedQueryLink({ sha256, useGETForHashedQueries }).concat(
    new HttpLink({ uri, fetch: recordingFetch }),
  );
  return new ApolloClient({ link, cache: new InMemoryCache() });
}

const STATS = gql(`query Stats { stats_${nonce}: affairsCatalogStats { totalItems } }`);
const PAGE = gql(
  `query Page($n: Int) { page_${nonce}: affairItems(first: $n) { edges { node { code } } } }`,
);

async function scenario(useGETForHashedQueries, query, variables) {
  const exchanges = [];
  const apollo = client(exchanges, useGETForHashedQueries);
  const results = [];
  for (let i = 0; i < 2; i += 1) {
    const { data } = await apollo.query({ query, variables, fetchPolicy: "network-only" });
    results.push(data);
  }
  return { exchanges, results };
}

const report = {
  post: await scenario(false, STATS, {}),
  get: await scenario(true, PAGE, { n: 2 }),
  // A new client (another device): the server already knows the document.
  again: await scenario(false, STATS, {}),
};
console.log(JSON.stringify(report));
