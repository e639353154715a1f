"""GraphiQL served whole by the dev gateway (gateway/ide.py), over HTTP: the page names only
its own origin, under a strict policy; its files are versioned, typed and kept a year; a
production gateway has none of it. The page running in a real browser, offline:
tests/e2e/test_graphiql_browser.py."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from harness import GatewayProcess, prod_env

HTML = {"Accept": "text/html"}


class PageReferences(HTMLParser):
    """Every URL-valued attribute of a page, with its tag."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href", "action", "poster", "data"):
            if found.get(name) is not None:
                self.urls.append((tag, found))


def references(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = PageReferences()
    parser.feed(page)
    return parser.urls


def asset_urls(page: str) -> list[str]:
    return [
        str(attrs.get("src") or attrs.get("href"))
        for tag, attrs in references(page)
        if tag in ("script", "link") and attrs.get("rel") != "icon"
    ]


def directives(policy: str) -> dict[str, list[str]]:
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


@pytest.fixture(scope="module")
def page(gateway: GatewayProcess) -> httpx.Response:
    response = gateway.client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    return response


@pytest.fixture(scope="module")
def prod_gateway(start_gateway, external_module_path: Path) -> GatewayProcess:
    return start_gateway(prod_env(external_module_path))


def test_page_names_no_other_origin(page: httpx.Response) -> None:
    assert "GraphiQL" in page.text
    # No absolute or protocol-relative URL anywhere in the page, not only in attributes.
    assert not re.search(r"(https?:)?//[a-z0-9]", page.text, re.I), page.text
    urls = references(page.text)
    assert {tag for tag, _ in urls} == {"link", "script"}
    for _, attrs in urls:
        url = str(attrs.get("src") or attrs.get("href"))
        assert url.startswith("/graphiql/") or url == "data:,", url


def test_page_policy_allows_only_the_gateway(page: httpx.Response) -> None:
    policy = directives(page.headers["content-security-policy"])
    nonce = re.search(r'<script [^>]*nonce="([^"]+)"', page.text)
    assert nonce is not None
    assert policy == {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", f"'nonce-{nonce.group(1)}'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["data:"],
        "connect-src": ["'self'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
    assert "unsafe" not in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text and "<style" not in page.text  # nothing inline


def test_each_page_has_a_fresh_nonce(gateway: GatewayProcess, page: httpx.Response) -> None:
    again = gateway.client.get("/graphql", headers=HTML)
    assert again.headers["content-security-policy"] != page.headers["content-security-policy"]
    assert asset_urls(again.text) == asset_urls(page.text)  # the files stay the same


def test_assets_are_versioned_typed_and_immutable(
    gateway: GatewayProcess, page: httpx.Response
) -> None:
    urls = asset_urls(page.text)
    names = [url.rsplit("/", 1)[1] for url in urls]
    assert names == [
        "graphiql.min.css",
        "page.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "start.js",
    ]
    integrity = {
        str(attrs.get("src") or attrs.get("href")): attrs.get("integrity")
        for _, attrs in references(page.text)
    }
    total = 0
    for url in urls:
        asset = gateway.client.get(url)
        assert asset.status_code == 200, url
        suffix = url.rsplit(".", 1)[1]
        expected = {"js": "text/javascript", "css": "text/css"}[suffix]
        assert asset.headers["content-type"] == f"{expected}; charset=utf-8"
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert asset.headers["cross-origin-resource-policy"] == "same-origin"
        digest = hashlib.sha256(asset.content)
        # The path's version is the content's own digest: a new build is a new URL.
        assert url.split("/")[2] == digest.hexdigest()[:16]
        assert integrity[url] == "sha256-" + base64.b64encode(digest.digest()).decode()
        assert b"sourceMappingURL" not in asset.content[-200:]
        total += len(asset.content)
    assert total < 2_000_000  # minified builds only


def test_unknown_asset_versions_are_404(gateway: GatewayProcess, page: httpx.Response) -> None:
    url = asset_urls(page.text)[-1]
    version = url.split("/")[2]
    for wrong in (
        url.replace(version, "0" * 16),
        url.replace("start.js", "graphiql.min.js"),
        "/graphiql/",
        f"{url}/more",
    ):
        assert gateway.client.get(wrong).status_code == 404, wrong


def test_the_page_still_answers_operations_by_get(gateway: GatewayProcess) -> None:
    answer = gateway.client.get("/graphql", params={"query": "{ __typename }"}, headers=HTML)
    assert answer.json() == {"data": {"__typename": "Query"}}


def test_production_serves_no_graphiql(prod_gateway: GatewayProcess, page: httpx.Response) -> None:
    answer = prod_gateway.client.get("/graphql", headers=HTML)
    assert "graphiql" not in answer.text.lower()
    unknown = prod_gateway.client.get("/no-such-path")
    for url in asset_urls(page.text):
        refused = prod_gateway.client.get(url)
        assert (refused.status_code, refused.text) == (unknown.status_code, unknown.text)
        assert refused.status_code == 404
