"""GraphiQL, served whole by the gateway (dev): the page at ``GET /graphql`` and every file
it loads, so that it works where no CDN can be reached (a government intranet).

The browser builds are vendored in ``static/graphiql/`` (``scripts/vendor_graphiql.py``);
the page and its start script are ours, in ``static/ide/``. Each file is served at
``/graphiql/<digest>/<name>``, the digest taken from its content: a URL never changes
meaning, so browsers keep the files for a year without asking again, and a new build is a
new URL. Nothing here exists when GraphiQL is off (prod): those paths are unknown there.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

__all__ = ["ASSET_PREFIX", "CONTENT_SECURITY_POLICY", "GraphiQLPage"]

STATIC = Path(__file__).parent / "static"
ASSET_PREFIX = "/graphiql/"
# In load order: each UMD build reads the globals the one before it defines (React →
# ReactDOM → GraphiQL), and our start script uses all three.
STYLESHEETS = ("graphiql/graphiql.min.css", "ide/page.css")
# Ours: starts GraphiQL, and reads the page's nonce from its own tag.
START_SCRIPT = "ide/start.js"
SCRIPTS = (
    "graphiql/react.production.min.js",
    "graphiql/react-dom.production.min.js",
    "graphiql/graphiql.min.js",
    START_SCRIPT,
)
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Versioned URLs: the content can never change under one, so keep it for a year.
IMMUTABLE = "public, max-age=31536000, immutable"

# The page's policy: everything from the gateway itself, nothing inline, nothing elsewhere.
# Beyond 'self' it allows only what GraphiQL's build really uses, each found by running the
# page in Chromium (tests/e2e/test_graphiql_browser.py fails on any violation):
#   img-src/font-src data: — graphiql.min.css embeds its fonts and icons as data: URIs;
#   style-src 'nonce-…' — a dialog (settings, short keys) locks the page's scrolling with a
#   <style> element it creates (react-remove-scroll, inside graphiql.min.js). It marks that
#   element with the global `__webpack_nonce__`, which start.js sets from its own script
#   tag: a fresh nonce per page instead of 'unsafe-inline' (and not a hash: the element's
#   text carries the scrollbar's width, which differs between browsers).
# connect-src 'self' is the only place operations can go (/graphql); frame-ancestors
# 'none' keeps the page (and a token typed into it) out of other sites' frames.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'nonce-$nonce'",
        "img-src 'self' data:",
        "font-src data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Each page carries its own nonce, and the current builds' URLs: never kept.
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Asset:
    """One file the page loads, as served."""

    url: str
    body: bytes
    media_type: str
    integrity: str

    @classmethod
    def load(cls, relative: str) -> Asset:
        path = STATIC / relative
        body = path.read_bytes()
        digest = hashlib.sha256(body)
        return cls(
            url=f"{ASSET_PREFIX}{digest.hexdigest()[:16]}/{path.name}",
            body=body,
            media_type=MEDIA_TYPES[path.suffix],
            # Same origin needs no subresource integrity; it is free here (the digest is at
            # hand) and a browser then refuses a file changed between the gateway and it.
            integrity="sha256-" + base64.b64encode(digest.digest()).decode(),
        )


class GraphiQLPage:
    """The page and its files, read once at start (about 1.7 MB, kept in memory)."""

    def __init__(
        self, stylesheets: Sequence[str] = STYLESHEETS, scripts: Sequence[str] = SCRIPTS
    ) -> None:
        styles = [Asset.load(name) for name in stylesheets]
        code = [Asset.load(name) for name in scripts]
        self.assets = {asset.url: asset for asset in (*styles, *code)}
        indent = "    "
        # Two passes: the files now, the nonce ($nonce, left in place) for each page.
        self._page = Template(
            Template((STATIC / "ide" / "index.html").read_text()).substitute(
                styles="\n".join(
                    f'{indent}<link rel="stylesheet" href="{a.url}" integrity="{a.integrity}" />'
                    for a in styles
                ),
                scripts="\n".join(
                    f'{indent}<script src="{a.url}" integrity="{a.integrity}"'
                    + (' nonce="$nonce"' if name == START_SCRIPT else "")
                    + "></script>"
                    for name, a in zip(scripts, code, strict=True)
                ),
            )
        )
        self._policy = Template(CONTENT_SECURITY_POLICY)

    def response(self) -> Response:
        nonce = secrets.token_urlsafe(16)
        return HTMLResponse(
            self._page.substitute(nonce=nonce),
            headers={
                **PAGE_HEADERS,
                "Content-Security-Policy": self._policy.substitute(nonce=nonce),
            },
        )

    async def asset(self, request: Request) -> Response:
        found = self.assets.get(request.url.path)
        if found is None:
            raise HTTPException(404)  # as for any unknown path
        return Response(
            found.body,
            media_type=found.media_type,
            headers={
                "Cache-Control": IMMUTABLE,
                "X-Content-Type-Options": "nosniff",
                # Only the gateway's own pages may load these.
                "Cross-Origin-Resource-Policy": "same-origin",
            },
        )

    def routes(self) -> list[Route]:
        return [Route(ASSET_PREFIX + "{digest}/{name}", self.asset, methods=["GET"])]
