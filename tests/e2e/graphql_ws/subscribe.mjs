// The reference graphql-ws client against two OneStop gateways: subscribe on the first,
// raise the event through the second, then send a bad subscription. Prints one JSON report.
// usage: node subscribe.mjs WS_URL_A HTTP_URL_B TOKEN_STAFF ITEM_CODE KEYWORD
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [wsUrl, httpUrlB, staffToken, code, keyword] = process.argv.slice(2);
const report = { acknowledged: false, event: null, badSubscription: null, unknownField: null };
const timeout = (ms, what) =>
  new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms));

const client = createClient({
  url: wsUrl,
  webSocketImpl: WebSocket,
  lazy: false,
  retryAttempts: 0,
  connectionParams: () => ({ Authorization: `Bearer ${staffToken}` }),
  on: { connected: () => { report.acknowledged = true; } },
});

function first(payload) {
  // The first `next` payload, or the error the client reports.
  return new Promise((resolve) => {
    const dispose = client.subscribe(payload, {
      next: (value) => { resolve({ next: value }); dispose(); },
      error: (error) => resolve({ error: Array.isArray(error) ? error : String(error) }),
      complete: () => resolve({ complete: true }),
    });
  });
}

try {
  const heard = first({
    query: "subscription($c: [String!]) { catalogItemChanged(codes: $c) { code version change item { keywords } } }",
    variables: { c: [code] },
  });
  await new Promise((r) => setTimeout(r, 700)); // the subscription is registered
  const edit = await fetch(`${httpUrlB}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${staffToken}` },
    body: JSON.stringify({
      query: "mutation($c: String!, $k: [String!]) { updateAffairItem(code: $c, patch: {keywords: $k}) { item { version } } }",
      variables: { c: code, k: [keyword] },
    }),
  });
  report.editStatus = edit.status;
  report.event = await Promise.race([heard, timeout(10000, "event")]);
  report.badSubscription = await Promise.race([
    first({ query: "subscription { catalogItemChanged(codes: []) { code } }" }),
    timeout(10000, "bad subscription"),
  ]);
  report.unknownField = await Promise.race([
    first({ query: "subscription { noSuchField }" }),
    timeout(10000, "unknown field"),
  ]);
} catch (error) {
  report.failure = String(error);
} finally {
  await client.dispose();
}
process.stdout.write(JSON.stringify(report));
