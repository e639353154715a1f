"""GraphiQL in a real browser with no internet: headless Chromium that can reach nothing but
127.0.0.1 opens the dev gateway's /graphql, GraphiQL's editor renders, a query runs from the
page, the headers editor carries a bearer token, and the page's Content-Security-Policy is
never violated (a dialog included)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from browser import DevToolsPage, chromium_binary, offline_chromium
from harness import GatewayProcess

# Set before any script of the page runs; records what the page's policy refused.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""
QUERY_EDITOR = "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
HEADERS_EDITOR = (
    "document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror')"
    ".CodeMirror"
)
RESULT = "document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"


def button(label: str) -> str:
    """A button of GraphiQL's by its accessible label or its text."""
    return (
        "Array.from(document.querySelectorAll('button')).find(b => "
        f"b.getAttribute('aria-label') === {label!r} || b.innerText === {label!r})"
    )


def run(page: DevToolsPage, operation: str, name: str) -> object:
    """Type ``operation`` (named ``name``) into the editor, press run, and return the
    JSON the result pane shows once it changes."""
    before = page.evaluate(RESULT)
    page.evaluate(f"{QUERY_EDITOR}.setValue({json.dumps(operation)})")
    # GraphiQL learns the operation's name from the editor a moment later; running
    # before that would send the old name.
    page.wait_for(f"document.querySelector('.graphiql-tab-button')?.innerText === {name!r}")
    page.evaluate(f"{button('Execute query (Ctrl-Enter)')}.click()")
    shown = page.wait_for(f"(v => v !== {json.dumps(before)} && v)({RESULT})")
    return json.loads(shown)


def test_chromium_missing_fails_saying_make_test_installs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match="`make test`"):
        chromium_binary()


def test_graphiql_runs_offline_in_chromium(gateway: GatewayProcess, tmp_path: Path) -> None:
    with offline_chromium(tmp_path) as page:
        for domain in ("Page", "Network", "Runtime", "Log"):
            page.send(f"{domain}.enable")
        # The browser really is offline: the CDN strawberry's own page loads from is out of reach.
        cdn = "fetch('https://unpkg.com/react@18.3.1/umd/react.production.min.js')"
        assert page.evaluate(f"{cdn}.then(() => 'reached', () => 'unreachable')") == "unreachable"
        page.events.clear()  # that attempt is not the page's
        page.send("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
        page.send("Page.navigate", {"url": f"{gateway.url}/graphql"})

        page.wait_for("document.querySelector('.graphiql-query-editor .CodeMirror') !== null")
        assert page.evaluate("document.querySelector('#graphiql .graphiql-container') !== null")
        assert not page.evaluate("document.body.innerText.includes('Loading…')")
        assert page.evaluate("typeof GraphiQL") == "function"  # the vendored build, not a CDN's

        assert run(page, "query Who { me { subjectId } }", "Who") == {"data": {"me": None}}

        token = gateway.token("graphiql-user")
        page.evaluate(f"{button('Headers')}.click()")
        page.wait_for(f"{HEADERS_EDITOR} !== undefined")
        headers = json.dumps({"Authorization": f"Bearer {token}"})
        page.evaluate(f"{HEADERS_EDITOR}.setValue({json.dumps(headers)})")
        signed_in = run(page, "query SignedIn { me { subjectId } }", "SignedIn")
        assert signed_in == {"data": {"me": {"subjectId": "graphiql-user"}}}

        # A dialog adds the page's only inline <style> (scroll lock): allowed by its nonce.
        page.evaluate(f"{button('Open settings dialog')}.click()")
        page.wait_for("document.querySelector('[role=dialog]') !== null")
        page.wait_for("!!document.querySelector('style[nonce]') || window.__violations.length > 0")
        assert page.evaluate("window.__violations") == []
        requested = page.requested_urls()
        assert f"{gateway.url}/graphql" in requested
        assert any(url.endswith("/graphiql.min.js") for url in requested)
        elsewhere = [
            url
            for url in requested
            if not url.startswith(f"{gateway.url}/") and not url.startswith("data:")
        ]
        assert elsewhere == []
        problems = [
            event["params"]
            for event in page.events
            if event["method"] == "Runtime.exceptionThrown"
            or (
                event["method"] == "Log.entryAdded"
                and event["params"]["entry"]["source"] == "security"
            )
        ]
        assert problems == []
