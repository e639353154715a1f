"""The per-request context every resolver receives as ``info.context``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pymongo.asynchronous.database import AsyncDatabase
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from gateway.auth import Principal
from gateway.bus import Bus
from gateway.cache import Cache
from gateway.config import Settings
from gateway.errors import Forbidden, Unauthenticated
from gateway.kit.connections import Connection, Listing, keyset_page
from gateway.runtime import Runtime
from gateway.uploads.service import Uploads

__all__ = ["Context"]

L = TypeVar("L")
T = TypeVar("T")
CN = TypeVar("CN", bound="Connection[Any]")


@dataclass
class Context:
    """Principal, resources and lazily created DataLoaders for one operation.

    Example:
        department = await info.context.loader(department_by_code).load(code)
    """

    runtime: Runtime
    principal: Principal
    request_id: str
    request: Request | WebSocket | None = None
    response: Response | WebSocket | None = None
    # This operation's cost ceiling when not the schema's (a trusted client's budget).
    max_cost: int | None = None
    _loaders: dict[Callable[..., Any], Any] = field(default_factory=dict)
    _permissions: frozenset[str] | None = None

    @property
    def db(self) -> AsyncDatabase[Any]:
        return self.runtime.db

    @property
    def cache(self) -> Cache:
        return self.runtime.cache

    @property
    def bus(self) -> Bus:
        return self.runtime.bus

    @property
    def uploads(self) -> Uploads:
        """The gateway's file service (uploaded files, download links)."""
        return self.runtime.uploads

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    async def page(
        self,
        connection: type[CN],
        listing: Listing[Any],
        *,
        first: int | None,
        after: str | None,
        node: Callable[[Any], Any],
        default: int = 20,
        **fields: Any,
    ) -> CN:
        """One page of ``listing`` (:func:`~gateway.kit.connections.keyset_page`) at most
        the deployment's largest page (``ONESTOP_MAX_PAGE_SIZE``)."""
        return await keyset_page(
            connection,
            listing,
            first=first,
            after=after,
            default=default,
            maximum=self.settings.max_page_size,
            node=node,
            **fields,
        )

    def loader(self, factory: Callable[[Context], L]) -> L:
        """The request's loader built by ``factory``; created on first use.

        Loaders cache per request only, so a mutation followed by a query in a
        later request never sees stale data.
        """
        existing = self._loaders.get(factory)
        if existing is None:
            existing = self._loaders[factory] = factory(self)
        loader: L = existing
        return loader

    def forget_loaders(self) -> None:
        """Start over with empty loaders: a long-lived context (a subscription's socket)
        calls this before each event, so that nothing read earlier answers for it."""
        self._loaders.clear()

    def sign_in(self, principal: Principal) -> None:
        """Act for ``principal`` from now on (a socket signs in after it opened)."""
        self.principal = principal
        self._permissions = None
        self._loaders.clear()

    def interface(self, name: str, kind: type[T]) -> T:
        """Another module's published interface (see ``Module(interfaces=…)``)."""
        return self.runtime.interface(name, kind)

    def state(self, kind: type[T]) -> T:
        """The calling module's own per-process state (see ``Module(state=…)``)."""
        return self.runtime.state(kind)

    @property
    def permissions(self) -> frozenset[str]:
        """Permissions granted by the principal's roles, narrowed by its token scopes."""
        if self._permissions is None:
            granted = self.runtime.composition.grants(self.principal.roles)
            if self.principal.scopes is not None:
                granted = granted & self.principal.scopes
            self._permissions = granted
        return self._permissions

    def require(self, permission: str | None = None, *, identity_level: int = 0) -> Principal:
        """Raise UNAUTHENTICATED/FORBIDDEN unless the caller may proceed."""
        principal = self.principal
        if not principal.is_authenticated:
            raise Unauthenticated()
        if permission is not None and permission not in self.permissions:
            raise Forbidden(f"需要权限 {permission} (permission {permission} required)")
        if principal.identity_level < identity_level:
            raise Forbidden(
                f"需要实名等级 L{identity_level} (identity level {identity_level} required)",
                extensions={"requiredIdentityLevel": identity_level},
            )
        return principal
