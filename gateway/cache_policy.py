"""How long an operation's response may be reused, and by whom: the cache policy.

Worked out once per document (and operation name) from the modules' cache hints
(``Module(cache_hints=…)``, :class:`~gateway.registry.CacheHint`): the shortest
``max_age`` among the selected fields (a root field without a hint: 0, never cached; a
nested field without one: its parent's), PRIVATE as soon as one field is private or
requires a permission, and the data versions the fields read (part of the cache key,
so a write invalidates at once). Only queries are ever cacheable.

The policy gives the ``Cache-Control`` header of every ``/graphql`` response and
decides what the response cache (:mod:`gateway.response_cache`) may keep.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)

from gateway.registry import CacheHint, CacheScope, DataVersion

__all__ = ["NO_STORE", "CachePolicies", "CachePolicy"]


@dataclass(frozen=True)
class CachePolicy:
    """What may be done with one operation's response."""

    max_age: int  # seconds; 0: never reuse
    public: bool  # the same for every caller
    versions: tuple[DataVersion, ...] = ()

    @property
    def cacheable(self) -> bool:
        """Whether the shared response cache may keep it (public, and for some time)."""
        return self.public and self.max_age > 0

    @property
    def header(self) -> str:
        """The ``Cache-Control`` value for the response."""
        if self.max_age <= 0:
            return "no-store"
        return f"{'public' if self.public else 'private'}, max-age={self.max_age}"


NO_STORE = CachePolicy(0, public=False)


@dataclass
class _Found:
    """What a walk over selections found: the shortest age, privacy, versions."""

    age: float = math.inf
    private: bool = False
    versions: dict[DataVersion, None] = field(default_factory=dict)

    def add(self, other: _Found) -> None:
        self.age = min(self.age, other.age)
        self.private |= other.private
        self.versions.update(other.versions)


class CachePolicies:
    """The cache policy of documents, against one schema and its modules' hints.

    Args:
        schema: the executable schema.
        hints: ``"Type.field"`` (or ``"Type"``: every field returning it) → hint.
        private: coordinates of fields that require a permission (always private).
    """

    def __init__(
        self, schema: GraphQLSchema, hints: Mapping[str, CacheHint], private: Iterable[str]
    ) -> None:
        self._schema = schema
        self._hints = hints
        self._private = frozenset(private)

    def of(self, document: DocumentNode, operation_name: str | None) -> CachePolicy:
        """The policy of a *valid* document's operation (validate first)."""
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        chosen = [
            o
            for o in operations
            if operation_name is None or (o.name is not None and o.name.value == operation_name)
        ]
        if len(chosen) != 1 or chosen[0].operation != OperationType.QUERY:
            return NO_STORE
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        root = self._schema.query_type
        assert root is not None
        found = _Walk(self, fragments).selections(chosen[0].selection_set, root, inherited=0.0)
        if not math.isfinite(found.age) or found.age <= 0:
            return NO_STORE if found.private else CachePolicy(0, public=True)
        return CachePolicy(int(found.age), not found.private, tuple(found.versions))

    def hint(self, parent: str, name: str, returns: str) -> CacheHint | None:
        return self._hints.get(f"{parent}.{name}") or self._hints.get(returns)

    def is_private(self, parent: str, name: str) -> bool:
        return f"{parent}.{name}" in self._private

    def type_named(self, name: str) -> GraphQLNamedType | None:
        return self._schema.get_type(name)


class _Walk:
    """One walk over an operation; each fragment is walked once (its own shortest age)."""

    def __init__(
        self, policies: CachePolicies, fragments: Mapping[str, FragmentDefinitionNode]
    ) -> None:
        self.policies = policies
        self.fragments = fragments
        self.done: dict[str, _Found] = {}

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, inherited: float
    ) -> _Found:
        found = _Found()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                found.add(self.field(selection, parent, inherited))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = (
                    self.policies.type_named(condition.name.value) if condition else parent
                ) or parent
                found.add(self.selections(selection.selection_set, target, inherited))
            elif isinstance(selection, FragmentSpreadNode):
                found.add(self.spread(selection.name.value, inherited))
        return found

    def spread(self, name: str, inherited: float) -> _Found:
        # A fragment's fields without hints inherit the age where it is spread: walking it
        # once with no limit and taking the minimum with `inherited` is the same result.
        if name not in self.done:
            self.done[name] = _Found()  # a cycle (invalid anyway) ends here
            fragment = self.fragments[name]
            target = self.policies.type_named(fragment.type_condition.name.value)
            if target is not None:
                self.done[name] = self.selections(fragment.selection_set, target, math.inf)
        walked = self.done[name]
        return _Found(min(walked.age, inherited), walked.private, dict(walked.versions))

    def field(self, node: FieldNode, parent: GraphQLNamedType, inherited: float) -> _Found:
        name = node.name.value
        if name == "__typename":
            return _Found()
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return _Found(age=0.0)  # introspection: answered fresh
        definition = parent.fields.get(name)
        if definition is None:
            return _Found(age=0.0)
        returns = get_named_type(definition.type)
        hint = self.policies.hint(parent.name, name, returns.name)
        age = hint.max_age if hint is not None and hint.max_age is not None else inherited
        found = _Found(age=float(age))
        found.private = self.policies.is_private(parent.name, name) or (
            hint is not None and hint.scope is CacheScope.PRIVATE
        )
        if hint is not None and hint.version is not None:
            found.versions[hint.version] = None
        if node.selection_set is not None:
            found.add(self.selections(node.selection_set, returns, float(age)))
        return found
