// Starts GraphiQL on OneStop's dev page (gateway/ide.py). A file of its own, not an inline
// script, so that the page's Content-Security-Policy allows scripts from the gateway only.
// React, ReactDOM and GraphiQL are the globals their UMD builds, loaded before, define.
(function () {
  "use strict";

  // The page's nonce (gateway/ide.py CONTENT_SECURITY_POLICY), under the name GraphiQL's
  // bundled react-remove-scroll reads to mark the <style> element a dialog adds.
  window.__webpack_nonce__ = document.currentScript.nonce;

  // The page is GET /graphql itself: operations go to the same path, same origin.
  var endpoint = window.location.pathname;

  var DEFAULT_QUERY = [
    "# OneStop GraphiQL (dev). Run with Ctrl-Enter or the play button.",
    "#",
    "# Signed in: put the accessToken from `login` in the Headers tab below,",
    '#   { "Authorization": "Bearer <accessToken>" }',
    "# (kept in this browser's local storage until you remove it).",
    "",
    "query Me {",
    "  me {",
    "    id",
    "  }",
    "}",
    "",
  ].join("\n");

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: endpoint }),
      defaultQuery: DEFAULT_QUERY,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      inputValueDeprecation: true,
    }),
  );
})();
