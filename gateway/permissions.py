"""Field permissions, declared on the field and checked before its resolver runs.

Example:
    @strawberry.mutation(
        description="Create a service item.",
        extensions=[requires("affairs.item.write")],
    )
    async def create_affair_item(self, info: Info, input: AffairItemInput) -> ...

The requirement is also printed into ``schema.graphql`` as ``@requires(...)`` so
frontend developers can see what a field needs without reading the code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.schema_directive import Location
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

__all__ = ["RequirePermission", "Requires", "requires", "signed_in"]


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requires",
    description=(
        "The caller must be signed in and, when given, hold `permission` and reach "
        "`identityLevel` (0 none, 1 phone, 2 real name, 3 real person)."
    ),
)
class Requires:
    permission: str | None = None
    identity_level: int = 0


class RequirePermission(FieldExtension):
    """Check the caller before the resolver; raise UNAUTHENTICATED or FORBIDDEN."""

    def __init__(self, permission: str | None = None, identity_level: int = 0) -> None:
        self.permission = permission
        self.identity_level = identity_level

    def apply(self, field: StrawberryField) -> None:
        # apply() runs once per schema built from this field (composition builds several).
        if not any(isinstance(d, Requires) for d in field.directives):
            field.directives.append(
                Requires(permission=self.permission, identity_level=self.identity_level)
            )

    def _check(self, info: Info[Any, Any]) -> None:
        info.context.require(self.permission, identity_level=self.identity_level)

    def resolve(
        self, next_: Callable[..., Any], source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        self._check(info)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: Info[Any, Any],
        **kwargs: Any,
    ) -> Any:
        self._check(info)
        result = next_(source, info, **kwargs)
        if hasattr(result, "__aiter__"):  # subscriptions return an async generator
            return result
        return await result


def requires(permission: str, *, identity_level: int = 0) -> RequirePermission:
    """The caller must hold ``permission`` (declared by some module)."""
    return RequirePermission(permission, identity_level)


def signed_in(*, identity_level: int = 0) -> RequirePermission:
    """The caller must be signed in (and reach ``identity_level``)."""
    return RequirePermission(None, identity_level)


def declared_requirements(schema: strawberry.Schema) -> Iterator[tuple[str, str]]:
    """Yield ``(field coordinate, permission)`` for every guarded field of a schema."""
    for graphql_type in schema._schema.type_map.values():
        definition = getattr(graphql_type, "extensions", {}).get("strawberry-definition")
        for field in getattr(definition, "fields", ()):
            for extension in field.extensions:
                if isinstance(extension, RequirePermission) and extension.permission:
                    yield f"{graphql_type.name}.{field.python_name}", extension.permission
