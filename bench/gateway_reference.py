"""The operations of the gateway benchmark and the two servers OneStop is compared with.

``bench/gateway.py`` measures OneStop against

* **hand-written** — a Starlette endpoint that answers each benchmark operation the way
  a developer would without GraphQL: it looks the document text up in a table, calls
  the very same affairs services, repository and DataLoader queries (so the MongoDB
  commands are the same) and writes the same ``{"data": …}`` with the gateway's own
  encoder, byte for byte. No request ids, logging, metrics, limits or schema: it is the
  physical limit the gateway's overhead is measured against;
* **stock strawberry** — ``strawberry.asgi.GraphQL`` on the composed schema (the same
  types and resolvers) with strawberry's ``ParserCache`` and ``ValidationCache`` and
  nothing of the gateway's own: no middleware, extensions, limits or custom view. It
  tells what strawberry itself costs, apart from what OneStop adds.

Both open the gateway's runtime (``gateway.app.open_runtime``: same database, cache,
token keys and module state) and serve one uvicorn worker with the options of
``onestop serve``. ``bench/gateway.py`` starts them as::

    python bench/gateway_reference.py hand|stock --port PORT
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The checkout first: the virtualenv's editable install may point at another worktree.
sys.path[:0] = [str(ROOT)]

import strawberry  # noqa: E402
import uvicorn  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import BaseRoute, Route  # noqa: E402
from starlette.websockets import WebSocket  # noqa: E402
from strawberry.asgi import GraphQL  # noqa: E402
from strawberry.extensions import ParserCache, ValidationCache  # noqa: E402

import gateway  # noqa: E402
from gateway.accounts import mask_phone  # noqa: E402
from gateway.app import close_runtime, open_runtime  # noqa: E402
from gateway.auth import ANONYMOUS, Principal, Role, TokenError  # noqa: E402
from gateway.config import Settings, load_settings  # noqa: E402
from gateway.context import Context  # noqa: E402
from gateway.http_body import decode_json_object, encode_json, error_body  # noqa: E402
from gateway.kit.nodes import global_id  # noqa: E402
from gateway.mongo import CommandCounter, command_counter  # noqa: E402
from gateway.observability import Metrics, configure_logging  # noqa: E402
from gateway.ops_routes import healthz  # noqa: E402
from gateway.registry import Composition, discover  # noqa: E402
from gateway.runtime import Runtime  # noqa: E402
from gateway.schema import compose_with_core  # noqa: E402
from modules.affairs.repository import DEPARTMENTS  # noqa: E402
from modules.affairs.services import items  # noqa: E402
from modules.affairs.services.items import ItemHit, ItemList  # noqa: E402
from modules.affairs.state import catalog_repository  # noqa: E402
from modules.affairs.vocabulary import ITEM_TYPE_NAMES  # noqa: E402

__all__ = ["OPERATIONS", "PAGE", "Operation", "check_checkout"]

Doc = dict[str, Any]
Data = dict[str, Any]
Handler = Callable[[Context, Mapping[str, Any]], Awaitable[Data]]

PAGE = 20  # the lists' page size (`first: 20`)


def check_checkout() -> None:
    """Refuse to measure code other than this checkout's (see ROOT above)."""
    loaded = Path(gateway.__file__).resolve()
    if not loaded.is_relative_to(ROOT):
        raise SystemExit(f"imported gateway from {loaded}, not from this checkout {ROOT}")


# -- the operations ----------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One benchmark operation: its document, sent unchanged to every server."""

    name: str  # as given to --operations
    title: str  # in the tables
    document: str
    signed_in: bool = False  # sent with the citizen's bearer token


TYPENAME = Operation("typename", "`{ __typename }`", "{ __typename }")
ITEM = Operation(
    "item",
    "item detail",
    "query Item($code: String!) { affairItem(code: $code) { id code name typeName "
    "promisedLimitDays onlineDepth department { name shortName } } }",
)
LIST = Operation(
    "list",
    "20-item list",
    "query List { affairItems(first: 20) { edges { node { code name department { shortName } } } "
    "pageInfo { hasNextPage endCursor } } }",
)
SEARCH = Operation(
    "search",
    "search 营业执照",
    "query Search($q: String!) { affairItems(search: $q, first: 20) { totalCount "
    "edges { node { code name department { shortName } } } } }",
)
ME = Operation(
    "me", "signed-in `me`", "query Me { me { id subjectId roles maskedPhone } }", signed_in=True
)
OPERATIONS: dict[str, Operation] = {op.name: op for op in (TYPENAME, ITEM, LIST, SEARCH, ME)}


# -- hand-written answers ------------------------------------------------------------------
# Each builds exactly the `data` OneStop returns for the operation's document, reading
# the stored documents as the GraphQL types' from_doc() do, through the same services
# and queries (one `$in` per relation, as the DataLoaders batch it).


def _code(doc: Doc) -> str:
    return str(doc.get("code") or doc["_id"])  # as AffairItem.from_doc


def _short_name(department: Doc) -> str:
    return str(department.get("short_name") or department["name"])  # as Department.from_doc


async def _departments(ctx: Context, codes: Iterable[str]) -> dict[str, Doc]:
    """The departments of a page, in one query: what the department DataLoader sends."""
    unique = list(dict.fromkeys(codes))
    found = await catalog_repository(ctx).by_ids(DEPARTMENTS, unique)
    return {doc["_id"]: doc for doc in found}


async def _typename(ctx: Context, variables: Mapping[str, Any]) -> Data:
    return {"__typename": "Query"}


async def _item(ctx: Context, variables: Mapping[str, Any]) -> Data:
    doc = await items.get_item(ctx, variables["code"])
    department = (await _departments(ctx, [doc["department_code"]])).get(doc["department_code"])
    code = _code(doc)
    return {
        "affairItem": {
            "id": global_id("AffairItem", code),
            "code": code,
            "name": doc["name"],
            "typeName": ITEM_TYPE_NAMES[doc["type_code"]],
            "promisedLimitDays": int(doc.get("promised_limit_days", 0)),
            "onlineDepth": int(doc.get("online_depth", 1)),
            "department": None
            if department is None
            else {"name": department["name"], "shortName": _short_name(department)},
        }
    }


async def _page(ctx: Context, found: ItemList) -> tuple[list[ItemHit], bool, dict[str, Doc]]:
    """A first page, its "has next page", and its departments.

    One row more than the page is fetched, as ``keyset_page`` does to learn whether
    another page follows: the same query, the same rows.
    """
    rows = list(await found.listing.fetch(None, PAGE + 1))
    page = rows[:PAGE]
    departments = await _departments(ctx, (hit.doc["department_code"] for hit in page))
    return page, len(rows) > PAGE, departments


def _edges(page: list[ItemHit], departments: Mapping[str, Doc]) -> list[Data]:
    edges = []
    for hit in page:
        department = departments.get(hit.doc["department_code"])
        node = {
            "code": _code(hit.doc),
            "name": hit.doc["name"],
            "department": None if department is None else {"shortName": _short_name(department)},
        }
        edges.append({"node": node})
    return edges


async def _list(ctx: Context, variables: Mapping[str, Any]) -> Data:
    found = await items.list_items(ctx, search_text=None, given=None, sort=None)
    page, has_next, departments = await _page(ctx, found)
    listing = found.listing
    end_cursor = listing.order.encode(listing.key(page[-1])) if page else None
    return {
        "affairItems": {
            "edges": _edges(page, departments),
            "pageInfo": {"hasNextPage": has_next, "endCursor": end_cursor},
        }
    }


async def _search(ctx: Context, variables: Mapping[str, Any]) -> Data:
    found = await items.list_items(ctx, search_text=variables["q"], given=None, sort=None)
    page, _, departments = await _page(ctx, found)
    total = await found.listing.count()
    return {"affairItems": {"totalCount": total, "edges": _edges(page, departments)}}


async def _me(ctx: Context, variables: Mapping[str, Any]) -> Data:
    subject = ctx.principal.subject
    if subject is None:
        return {"me": None}
    user = await ctx.runtime.accounts.get(subject)
    return {
        "me": {
            "id": global_id("Viewer", subject),
            "subjectId": subject,
            "roles": [
                Role(r).name for r in sorted(ctx.principal.roles) if r in Role._value2member_map_
            ],
            "maskedPhone": mask_phone(user.get("phone")) if user else None,
        }
    }


HANDLERS: dict[str, Handler] = {
    TYPENAME.document: _typename,
    ITEM.document: _item,
    LIST.document: _list,
    SEARCH.document: _search,
    ME.document: _me,
}


async def _principal(request: Request | WebSocket, runtime: Runtime) -> Principal:
    """The bearer token checked as OneStop's AuthMiddleware does (same keys, same checks)."""
    authorization = request.headers.get("authorization")
    if not authorization:
        return ANONYMOUS
    _, _, token = authorization.partition(" ")
    return await runtime.tokens.verify_access_token(token.strip())


def _json(status: int, body: bytes) -> Response:
    return Response(body, status_code=status, media_type="application/json")


async def hand_written(request: Request) -> Response:
    """POST /graphql: parse the body, look the document up, answer it."""
    runtime: Runtime = request.app.state.runtime
    payload = decode_json_object(await request.body())
    handler = HANDLERS.get(payload.get("query") or "")
    if handler is None:
        return _json(400, error_body("not a benchmark operation", {"code": "BAD_REQUEST"}))
    try:
        principal = await _principal(request, runtime)
    except TokenError as exc:
        return _json(401, error_body(exc.reason, {"code": "UNAUTHENTICATED"}))
    context = Context(runtime=runtime, principal=principal, request_id="")
    data = await handler(context, payload.get("variables") or {})
    return _json(200, encode_json({"data": data}))


async def hand_written_counted(request: Request) -> Response:
    """The same answer with its MongoDB command count in ``X-DB-Commands``.

    A route of its own, so that the measured route pays nothing for counting.
    """
    counter = CommandCounter()
    token = command_counter.set(counter)
    try:
        response = await hand_written(request)
    finally:
        command_counter.reset(token)
    response.headers["x-db-commands"] = str(counter.count)
    return response


# -- stock strawberry ----------------------------------------------------------------------


class StockGraphQL(GraphQL[Context, None]):
    """strawberry's ASGI view as documented; only the context is ours (resolvers need it)."""

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        runtime: Runtime = request.app.state.runtime
        return Context(
            runtime=runtime,
            principal=await _principal(request, runtime),
            request_id="",
            request=request,
            response=response,
        )


def stock_schema(composition: Composition) -> strawberry.Schema:
    """The composed types and resolvers with strawberry's own document caches only."""
    return strawberry.Schema(
        query=composition.query,
        mutation=composition.mutation,
        subscription=composition.subscription,
        types=list(composition.types),
        extensions=[ParserCache, ValidationCache],  # classes: a fresh pair per request
    )


# -- serving -------------------------------------------------------------------------------


def build_app(kind: str, settings: Settings) -> Starlette:
    """The hand-written or the stock app, with the gateway's runtime opened in its lifespan."""
    composition = compose_with_core(discover(settings.modules))
    routes: list[BaseRoute] = [Route("/healthz", healthz)]
    if kind == "hand":
        routes += [
            Route("/graphql", hand_written, methods=["POST"]),
            Route("/graphql/db-commands", hand_written_counted, methods=["POST"]),
        ]
    else:
        routes.append(Route("/graphql", StockGraphQL(stock_schema(composition))))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = await open_runtime(settings, composition, Metrics())
        app.state.runtime = runtime
        try:
            yield
        finally:
            await close_runtime(runtime)

    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("kind", choices=["hand", "stock"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    check_checkout()
    # OneStop seeded the database; these servers only read it.
    settings = load_settings(port=args.port, seed_on_start=False)
    configure_logging(settings.log_level)
    # One worker, and the uvicorn options of `onestop serve` (gateway/cli.py): the
    # same HTTP parser, event loop, proxy-header handling and no access log.
    uvicorn.run(
        build_app(args.kind, settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
