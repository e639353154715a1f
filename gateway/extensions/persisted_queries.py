"""Persisted queries: Apollo's automatic persisted queries (APQ) and trusted documents.

A request may name its document by hash instead of (or as well as) sending it, in
the shape Apollo Client's persisted-query link sends::

    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<64 hex digits>"}}}

(over GET, the same object as the JSON ``extensions`` query parameter).
:meth:`PersistedQueries.resolve` turns such a request into an ordinary one carrying
its ``query`` before strawberry sees it, so a persisted document goes through every
limit of :class:`~gateway.extensions.limits.DocumentGuard` and hits the same parse
and validation caches as the same text sent in full.

APQ, answered as Apollo Server and Apollo Router answer it (the link retries with
the full document on ``PERSISTED_QUERY_NOT_FOUND``, matching code or message):

* hash only, known: the stored document runs;
* hash only, unknown: ``PersistedQueryNotFound`` / ``PERSISTED_QUERY_NOT_FOUND``,
  HTTP 200, not cacheable;
* hash and document: the hash must be the document's SHA-256 (else
  ``provided sha does not match query`` / ``PERSISTED_QUERY_HASH_MISMATCH``, HTTP
  400); the document runs, and is stored when it is short enough and within the
  limits for this request (Apollo Server too stores only what passed its checks);
* a version other than 1: ``Unsupported persisted query version`` /
  ``PERSISTED_QUERY_VERSION_NOT_SUPPORTED``, HTTP 400.

Trusted documents are the first-party frontends' operations, from a manifest
loaded and checked at start; their hashes resolve without registration. With
``ONESTOP_TRUSTED_DOCUMENTS_ONLY`` the clients named in ``ONESTOP_TRUSTED_CLIENTS``
run manifest documents only, refused with Apollo Router's safelisting codes: an
unknown hash ``PERSISTED_QUERY_NOT_IN_LIST`` (HTTP 404), any other document
``QUERY_NOT_IN_SAFELIST`` (HTTP 403).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from graphql import ASTValidationRule, DocumentNode, GraphQLError, OperationDefinitionNode
from strawberry.http import GraphQLRequestData

from gateway.cache import Cache
from gateway.config import ConfigError, Settings
from gateway.errors import ErrorCode
from gateway.extensions.errors import dependency_unavailable
from gateway.extensions.limits import BoundedCache, GuardState
from gateway.http_body import RequestRejected
from gateway.observability import Metrics

if TYPE_CHECKING:
    from gateway.schema import OneStopSchema

__all__ = [
    "CLIENT_NAME_HEADER",
    "DocumentStore",
    "ManifestError",
    "MemoryDocumentStore",
    "PersistedQueries",
    "SharedDocumentStore",
    "TrustedDocuments",
    "document_hash",
]

log = logging.getLogger("onestop.persisted_queries")

VERSION = 1
# What Apollo Client sends when ApolloClient({clientAwareness: {name}}) is set.
CLIENT_NAME_HEADER = "apollographql-client-name"
ANY_CLIENT = "*"
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_SHA1 = re.compile(r"[0-9a-fA-F]{40}")
# As Apollo Router sends them: a browser or CDN that kept "not found" for a GET URL
# would hide the document registered a moment later.
_NOT_CACHEABLE = {"Cache-Control": "private, no-cache, must-revalidate"}
_APOLLO_MANIFEST = "apollo-persisted-query-manifest"


def document_hash(document: str) -> str:
    """The lowercase hex SHA-256 of ``document`` as UTF-8: the hash Apollo Client sends.

    ``surrogatepass`` only keeps a lone surrogate (which no client hashes) from
    failing here; the parser refuses such a document.
    """
    return hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()


class ManifestError(ConfigError):
    """The trusted-documents manifest cannot be used; the message names each bad entry."""


class DocumentStore(Protocol):
    """Where automatically persisted documents are kept, by SHA-256."""

    async def get(self, sha256: str) -> str | None: ...
    async def put(self, sha256: str, document: str) -> None: ...


class MemoryDocumentStore:
    """One process's documents, the least recently used dropped beyond ``maxsize``."""

    def __init__(self, maxsize: int) -> None:
        self._documents: BoundedCache[str, str] = BoundedCache(maxsize)

    async def get(self, sha256: str) -> str | None:
        return self._documents.get(sha256)

    async def put(self, sha256: str, document: str) -> None:
        self._documents.put(sha256, document)


class SharedDocumentStore:
    """Documents in the gateway's cache (Redis), so every replica knows each registration.

    An entry expires ``ttl`` seconds after it was last registered; a client sending
    an expired hash gets ``PERSISTED_QUERY_NOT_FOUND`` and registers it again.
    """

    def __init__(self, cache: Cache, ttl: int) -> None:
        self.cache = cache
        self.ttl = ttl

    async def get(self, sha256: str) -> str | None:
        value = await self.cache.get(f"apq:{sha256}")
        return None if value is None else value.decode("utf-8")

    async def put(self, sha256: str, document: str) -> None:
        await self.cache.set(f"apq:{sha256}", document, self.ttl)


@dataclass(frozen=True)
class TrustedDocuments:
    """The manifest of trusted documents: each document's text by its SHA-256.

    Two formats are read: graphql-codegen's ``persisted-documents.json`` (client
    preset with ``persistedDocuments: {hashAlgorithm: 'sha256'}``), a JSON object
    ``{"<sha256>": "<document>"}``; and Apollo's persisted query manifest
    (``{"format": "apollo-persisted-query-manifest", "version": 1, "operations":
    [{"id", "body", …}]}``, from ``@apollo/generate-persisted-query-manifest``).

    Example:
        manifest = TrustedDocuments.load(Path("persisted-documents.json"))
        manifest.check(schema.guard, rules)  # raises ManifestError naming bad entries
    """

    documents: Mapping[str, str]

    @classmethod
    def load(cls, path: Path) -> TrustedDocuments:
        """Read ``path``; every key must be the SHA-256 of its document.

        Raises:
            ManifestError: unreadable, not one of the formats, or bad entries (each named).
        """
        where = f"ONESTOP_TRUSTED_DOCUMENTS_FILE ({path})"
        try:
            manifest = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise ManifestError(f"{where}: cannot read the manifest: {exc}") from None
        documents: dict[str, str] = {}
        problems: list[str] = []
        for key, document in _manifest_entries(manifest, where):
            problem = _entry_problem(key, document)
            if problem is not None:
                problems.append(f"  entry {key!r}: {problem}")
            else:
                documents[key.lower()] = document
        if problems:
            raise ManifestError(f"{where}: bad entries\n" + "\n".join(problems))
        return cls(documents)

    def check(
        self,
        guard: GuardState,
        rules: Sequence[type[ASTValidationRule]],
        max_cost: int | None = None,
    ) -> None:
        """Every document parses, stays within the limits and validates against the schema.

        Limits whose measure depends on variables (page sizes given by a variable)
        are checked with the operation's defaults here, and with the request's
        values at every run. ``max_cost``: the largest cost any client may run a
        manifest document at (its budget), when above the general limit.

        Raises:
            ManifestError: naming each bad entry by hash and operation names.
        """
        problems: list[str] = []
        for sha256, document in self.documents.items():
            label, found = _document_problems(document, guard, rules, max_cost)
            problems.extend(f"  entry {sha256}{label}: {message}" for message in found)
        if problems:
            raise ManifestError(
                "ONESTOP_TRUSTED_DOCUMENTS_FILE: documents the schema or the limits refuse\n"
                + "\n".join(problems)
            )


def _document_problems(
    document: str,
    guard: GuardState,
    rules: Sequence[type[ASTValidationRule]],
    max_cost: int | None,
) -> tuple[str, list[str]]:
    """The operation names (for the message) and what refuses ``document``, in the
    guard's order: parse, the limits of each operation, validation."""
    parsed = guard.parse(document)
    if isinstance(parsed, GraphQLError):
        return "", [parsed.message]
    names = [
        d.name.value if d.name else None
        for d in parsed.definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    label = " (" + ", ".join(name or "anonymous" for name in names) + ")"
    found: list[str] = []
    for name in names:
        refusal = guard.refusal(guard.shape(document, parsed, name, None), max_cost)
        if refusal is not None:
            found.append(refusal.message)
    if not found:
        found = [error.message for error in guard.validate(document, parsed, rules)]
    return label, found


def _manifest_entries(manifest: Any, where: str) -> list[tuple[Any, Any]]:
    if isinstance(manifest, dict) and manifest.get("format") == _APOLLO_MANIFEST:
        operations = manifest.get("operations")
        if manifest.get("version") != 1 or not isinstance(operations, list):
            raise ManifestError(
                f"{where}: an Apollo persisted query manifest must have version 1 and a list "
                "of operations"
            )
        return [
            (op.get("id"), op.get("body")) if isinstance(op, dict) else (repr(op), None)
            for op in operations
        ]
    if isinstance(manifest, dict):
        return list(manifest.items())
    raise ManifestError(
        f"{where}: expected a JSON object {{sha256: document}} (graphql-codegen's "
        "persisted-documents.json) or an Apollo persisted query manifest"
    )


def _entry_problem(key: Any, document: Any) -> str | None:
    if not isinstance(document, str) or not document.strip():
        return "the document must be a non-empty string"
    if not isinstance(key, str) or not _SHA256.fullmatch(key):
        if isinstance(key, str) and _SHA1.fullmatch(key):
            return (
                "a SHA-1 hash: generate the manifest with SHA-256 (graphql-codegen: "
                "persistedDocuments: {hashAlgorithm: 'sha256'})"
            )
        return "the key must be a SHA-256 hash (64 hexadecimal digits)"
    actual = document_hash(document)
    if actual != key.lower():
        return f"the hash does not match its document (the document's SHA-256 is {actual})"
    return None


class PersistedQueries:
    """Resolves ``extensions.persistedQuery`` into a document, by Apollo's protocol.

    One instance per app: trusted documents in memory, APQ documents in a
    :class:`DocumentStore` (in process until :meth:`attach` hands it Redis).

    Example:
        persisted = PersistedQueries.from_settings(settings, schema, metrics)
        persisted.attach(runtime.cache)
        data = await persisted.resolve(data, request.headers)
    """

    def __init__(
        self,
        guard: GuardState,
        *,
        trusted: Mapping[str, str],
        restricted_clients: frozenset[str],
        client_budgets: Mapping[str, int] | None = None,
        store_ttl: int,
        max_document_chars: int,
        memory_size: int,
        metrics: Metrics | None = None,
    ) -> None:
        self.guard = guard
        self.trusted = trusted
        self.restricted_clients = restricted_clients
        # Cost ceilings of manifest documents per client (ONESTOP_TRUSTED_CLIENT_MAX_COST).
        self.client_budgets: Mapping[str, int] = client_budgets or {}
        self.store_ttl = store_ttl
        self.max_document_chars = max_document_chars
        self.metrics = metrics
        self.store: DocumentStore = MemoryDocumentStore(memory_size)

    @classmethod
    def from_settings(
        cls, settings: Settings, schema: OneStopSchema, metrics: Metrics | None = None
    ) -> PersistedQueries:
        """Load and check the manifest (if any) against ``schema`` and its limits.

        Raises:
            ManifestError: the manifest is unreadable or has bad entries (each named).
        """
        trusted: Mapping[str, str] = {}
        if settings.trusted_documents_file is not None:
            manifest = TrustedDocuments.load(settings.trusted_documents_file)
            # The schema's own rule tuple: the validations cached here are hits later.
            # A document may cost up to the largest budget: the client it is for may have it.
            ceiling = max([settings.max_query_cost, *settings.trusted_client_max_cost.values()])
            manifest.check(schema.guard, schema.validation_rules, ceiling)
            trusted = manifest.documents
        return cls(
            schema.guard,
            trusted=trusted,
            restricted_clients=(
                frozenset(settings.trusted_clients)
                if settings.trusted_documents_only
                else frozenset()
            ),
            client_budgets=settings.trusted_client_max_cost,
            store_ttl=settings.apq_ttl,
            max_document_chars=settings.apq_max_document_chars,
            memory_size=settings.apq_cache_size,
            metrics=metrics,
        )

    def trusted_operation_names(self) -> set[str]:
        """The names of the manifest's operations: the known operations of the metrics."""
        names: set[str] = set()
        for document in self.trusted.values():
            parsed = self.guard.parse(document)
            if isinstance(parsed, DocumentNode):
                names.update(
                    d.name.value
                    for d in parsed.definitions
                    if isinstance(d, OperationDefinitionNode) and d.name is not None
                )
        return names

    def attach(self, cache: Cache) -> None:
        """Keep APQ documents in ``cache`` when it is Redis (shared by every replica)."""
        if cache.backend == "redis":
            self.store = SharedDocumentStore(cache, self.store_ttl)

    def restricts(self, headers: Mapping[str, str]) -> bool:
        """Whether the client sending ``headers`` may run manifest documents only."""
        clients = self.restricted_clients
        return bool(clients) and (
            ANY_CLIENT in clients or headers.get(CLIENT_NAME_HEADER, "") in clients
        )

    def budget(self, data: GraphQLRequestData, headers: Mapping[str, str]) -> int | None:
        """The cost ceiling of this request when it is a manifest document from a client
        with a budget; None: the general limit applies.

        The client's name is only a header, but a budget only ever lets a reviewed
        manifest document run, so claiming another client's name gains nothing else.
        """
        if not self.client_budgets or data.query is None:
            return None
        budget = self.client_budgets.get(headers.get(CLIENT_NAME_HEADER, ""))
        if budget is None or document_hash(data.query) not in self.trusted:
            return None
        return budget

    async def resolve(
        self, data: GraphQLRequestData, headers: Mapping[str, str]
    ) -> GraphQLRequestData:
        """``data`` carrying the document its persisted-query extension names.

        Raises:
            RequestRejected: the protocol's refusals (module docstring).
        """
        restricted = self.restricts(headers)
        extension = (data.extensions or {}).get("persistedQuery")
        if extension is None:
            if restricted and data.query is not None:
                # A safelist, as Apollo Router's: the full text of a manifest document
                # is accepted too (a client without the persisted-query link).
                sha256 = document_hash(data.query)
                if sha256 not in self.trusted:
                    raise self._refuse_outside_manifest(headers, sha256)
            return data
        sha256 = self._requested_hash(extension)
        if data.query is None:
            return replace(data, query=await self._document(sha256, restricted, headers))
        if document_hash(data.query) != sha256:
            raise self._refuse(
                400, ErrorCode.PERSISTED_QUERY_HASH_MISMATCH, "provided sha does not match query"
            )
        if sha256 in self.trusted:
            self._count("trusted")
        elif restricted:
            raise self._refuse_outside_manifest(headers, sha256)
        else:
            await self._register(sha256, data)
        return data

    def _requested_hash(self, extension: Any) -> str:
        if not isinstance(extension, dict):
            raise self._refuse(
                400,
                ErrorCode.BAD_REQUEST,
                "请求格式错误 (`extensions.persistedQuery` must be an object)",
            )
        version = extension.get("version")
        if isinstance(version, bool) or version != VERSION:
            raise self._refuse(
                400,
                ErrorCode.PERSISTED_QUERY_VERSION_NOT_SUPPORTED,
                "Unsupported persisted query version",
            )
        sha256 = extension.get("sha256Hash")
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise self._refuse(
                400,
                ErrorCode.BAD_REQUEST,
                "请求格式错误 (`extensions.persistedQuery.sha256Hash` must be 64 hexadecimal "
                "digits)",
            )
        return sha256.lower()

    async def _document(self, sha256: str, restricted: bool, headers: Mapping[str, str]) -> str:
        trusted = self.trusted.get(sha256)
        if trusted is not None:
            self._count("trusted")
            return trusted
        if restricted:
            raise self._refuse(
                404,
                ErrorCode.PERSISTED_QUERY_NOT_IN_LIST,
                f"持久化查询不在清单中 (persisted query '{sha256}' not found in the persisted "
                "query list)",
                client=headers.get(CLIENT_NAME_HEADER),
                sha256=sha256,
            )
        try:
            stored = await self.store.get(sha256)
        except Exception as exc:
            # APQ only saves bytes: without the store the client sends the document
            # again and it runs, so a dead Redis is a miss here, not an outage.
            if dependency_unavailable(exc) is None:
                raise
            log.warning("persisted query lookup failed: cache unavailable")
            stored = None
        if stored is None:
            self._count("miss")
            raise RequestRejected(
                200,
                ErrorCode.PERSISTED_QUERY_NOT_FOUND,
                "PersistedQueryNotFound",
                headers=_NOT_CACHEABLE,
            )
        self._count("hit")
        return stored

    async def _register(self, sha256: str, data: GraphQLRequestData) -> None:
        query = data.query
        assert query is not None
        if len(query) > self.max_document_chars or not self._within_limits(query, data):
            return  # still runs (and the guard answers for it); only not stored
        try:
            await self.store.put(sha256, query)
        except Exception as exc:
            if dependency_unavailable(exc) is None:
                raise
            log.warning("persisted query not stored: cache unavailable")
            return
        self._count("registered")

    def _within_limits(self, query: str, data: GraphQLRequestData) -> bool:
        # The guard's own cached steps: the run that follows reuses both results.
        parsed = self.guard.parse(query)
        if isinstance(parsed, GraphQLError):
            return False
        shape = self.guard.shape(query, parsed, data.operation_name, data.variables)
        return self.guard.refusal(shape) is None

    def _refuse_outside_manifest(self, headers: Mapping[str, str], sha256: str) -> RequestRejected:
        return self._refuse(
            403,
            ErrorCode.QUERY_NOT_IN_SAFELIST,
            "只能执行清单中的查询 (the operation body was not found in the persisted query "
            "safelist)",
            client=headers.get(CLIENT_NAME_HEADER),
            sha256=sha256,
        )

    def _refuse(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        *,
        client: str | None = None,
        sha256: str | None = None,
    ) -> RequestRejected:
        self._count("refused")
        if sha256 is not None:
            # Names what a first-party client sent outside its manifest (never the
            # document itself: literals in it may be personal data).
            log.warning(
                "document outside the trusted manifest refused",
                extra={"client": client, "sha256": sha256, "code": code.value},
            )
        return RequestRejected(status, code, message, headers=_NOT_CACHEABLE)

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.persisted_queries.labels(outcome).inc()
