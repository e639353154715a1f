"""Operation cost, depth and alias counting in one linear walk, before validation.

Why our own walk: strawberry's depth limiter expands fragment spreads every time
they appear, so 40 fragments that each spread the previous one twice cost 2^40
steps; and depth alone does not see fan-out (a list inside a list inside a list
within the depth limit returned 28 MB). This walk visits each fragment once per
distinct page size and memoises its summary, so the time is linear in the size
of the document however the fragments nest, while the *numbers* it computes
(cost, aliases) are those of the fully expanded operation.

The cost model (documented in README "Query cost"):

* a field returning an object costs 1, a scalar or enum field 0, unless the
  module gives a :class:`~gateway.registry.CostHint` for ``Type.field``;
* an argument listed in the hint's ``argument_costs`` adds its cost when given
  (a full-text ``search`` is far dearer than a lookup by key);
* a field with ``first``/``last`` is a page: the lists directly inside it
  (``edges``, ``entries`` …) are that many elements long;
* a list whose hint names a ``size_argument`` (``nodes(ids:)``) is as long as
  that list argument;
* any other list is ``list_size`` elements long (the hint, else a default);
* a list multiplies the cost of everything selected below it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
)
from graphql.type.definition import GraphQLInterfaceType, GraphQLObjectType

from gateway.registry import CostHint

__all__ = ["CostAnalyzer", "OperationShape"]

_PAGE_ARGUMENTS = ("first", "last")


@dataclass(frozen=True)
class OperationShape:
    """What executing one operation would amount to, fully expanded."""

    cost: int
    depth: int
    aliases: int
    # Field selections once fragments are spread in (not multiplied by lists): a
    # measure of the document itself, which fragments can blow up exponentially.
    fields: int = 0
    # Pairs of same-named fields (and of fragment spreads) that share a selection set:
    # graphql-core's OverlappingFieldsCanBeMerged compares each pair, so this is
    # quadratic work that must be bounded before validation runs.
    merge_pairs: int = 0
    # Names of variables whose values changed the cost (page sizes); a cached shape
    # is only valid for the same values of these.
    cost_variables: frozenset[str] = frozenset()


@dataclass
class _Summary:
    cost: int = 0
    depth: int = 0
    aliases: int = 0
    fields: int = 0

    def add(self, other: _Summary) -> None:
        self.cost += other.cost
        self.aliases += other.aliases
        self.fields += other.fields
        self.depth = max(self.depth, other.depth)


@dataclass
class _Walk:
    """State of one analysis: the fragments, the variables, and the memo."""

    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    defaults: Mapping[str, Any]
    memo: dict[tuple[str, int | None], _Summary] = field(default_factory=dict)
    used_variables: set[str] = field(default_factory=set)


class CostAnalyzer:
    """Computes :class:`OperationShape` for operations against one schema.

    Example:
        analyzer = CostAnalyzer(schema._schema, {"Query.affairItems": CostHint(10)})
        shape = analyzer.analyze(parse("{ affairItems(first: 5) { totalCount } }"))
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        hints: Mapping[str, CostHint],
        *,
        default_list_size: int = 10,
        max_page_size: int = 100,
    ) -> None:
        self.schema = schema
        self.hints = dict(hints)
        self.default_list_size = default_list_size
        self.max_page_size = max_page_size

    def analyze(
        self,
        document: DocumentNode,
        operation_name: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> OperationShape:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        operation = _pick(operations, operation_name)
        if operation is None:
            return OperationShape(0, 0, 0)  # validation reports the missing operation
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        defaults = {
            d.variable.name.value: _int_literal(d.default_value)
            for d in operation.variable_definitions or ()
            if d.default_value is not None
        }
        walk = _Walk(fragments, variables or {}, defaults)
        root = self.schema.get_root_type(operation.operation)
        summary = self._selections(walk, operation.selection_set, root, None)
        return OperationShape(
            cost=summary.cost,
            depth=summary.depth,
            aliases=summary.aliases,
            fields=summary.fields,
            merge_pairs=_merge_pairs(document),
            cost_variables=frozenset(walk.used_variables),
        )

    def _selections(
        self,
        walk: _Walk,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        page_size: int | None,
    ) -> _Summary:
        summary = _Summary()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                summary.add(self._field(walk, selection, parent, page_size))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                summary.add(self._selections(walk, selection.selection_set, target, page_size))
            elif isinstance(selection, FragmentSpreadNode):
                summary.add(self._fragment(walk, selection.name.value, page_size))
        return summary

    def _fragment(self, walk: _Walk, name: str, page_size: int | None) -> _Summary:
        key = (name, page_size)
        cached = walk.memo.get(key)
        if cached is not None:
            return cached
        definition = walk.fragments.get(name)
        if definition is None:
            return _Summary()  # unknown fragment: validation reports it
        # Placeholder first: a fragment cycle then counts as nothing here and is
        # reported by validation (NoFragmentCyclesRule) instead of recursing forever.
        walk.memo[key] = _Summary()
        target = self.schema.get_type(definition.type_condition.name.value)
        summary = self._selections(walk, definition.selection_set, target, page_size)
        walk.memo[key] = summary
        return summary

    def _field(
        self,
        walk: _Walk,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        page_size: int | None,
    ) -> _Summary:
        name = node.name.value
        aliases = 1 if node.alias is not None else 0
        if name.startswith("__"):
            # Introspection: bounded by the schema's size (and off in production), so
            # like strawberry's depth limiter it adds no depth or cost; its fields
            # still count, so fragments cannot amplify it.
            inner = (
                self._selections(walk, node.selection_set, None, None)
                if node.selection_set
                else _Summary()
            )
            return _Summary(fields=inner.fields + 1, aliases=inner.aliases + aliases)
        definition = _field_definition(parent, name)
        if definition is None:
            # A field validation will reject: no cost of its own.
            inner = (
                self._selections(walk, node.selection_set, None, None)
                if node.selection_set
                else _Summary()
            )
            return _Summary(inner.cost, inner.depth + 1, inner.aliases + aliases, inner.fields + 1)
        coordinate = f"{parent.name}.{name}" if parent is not None else name
        hint = self.hints.get(coordinate)
        named = get_named_type(definition.type)
        cost = hint.cost if hint is not None else (0 if is_leaf_type(named) else 1)
        if hint is not None:
            given = {argument.name.value for argument in node.arguments or ()}
            cost += sum(c for arg, c in hint.argument_costs.items() if arg in given)
        times = 1
        if isinstance(get_nullable_type(definition.type), GraphQLList):
            if hint is not None and hint.size_argument is not None:
                times = self._argument_length(walk, node, hint.size_argument)
            elif hint is not None and hint.list_size is not None:
                times = hint.list_size
            elif page_size is not None:
                times = page_size
            else:
                times = self.default_list_size
        own_page = self._page_size(walk, node, definition)
        summary = _Summary(cost=cost, depth=1, aliases=aliases, fields=1)
        if node.selection_set is not None:
            inner = self._selections(walk, node.selection_set, named, own_page)
            summary.cost += inner.cost * times
            summary.aliases += inner.aliases
            summary.fields += inner.fields
            summary.depth = inner.depth + 1
        return summary

    def _page_size(self, walk: _Walk, node: FieldNode, definition: GraphQLField) -> int | None:
        """``first``/``last`` of this field, from the literal, a variable or the default."""
        for name in _PAGE_ARGUMENTS:
            if name not in definition.args:
                continue
            value: Any = None
            argument = next((a for a in node.arguments or () if a.name.value == name), None)
            if argument is None:
                value = definition.args[name].default_value
            elif isinstance(argument.value, VariableNode):
                variable = argument.value.name.value
                walk.used_variables.add(variable)
                value = walk.variables.get(variable, walk.defaults.get(variable))
            else:
                value = _int_literal(argument.value)
            if isinstance(value, int) and not isinstance(value, bool):
                # The resolver refuses pages over the maximum; cost them as the maximum.
                return max(0, min(value, self.max_page_size))
        return None

    def _argument_length(self, walk: _Walk, node: FieldNode, name: str) -> int:
        """How many elements the list argument ``name`` holds (literal or variable).

        Capped at the page-size maximum, like a page: a field taking a list of keys
        refuses longer lists. Not known before execution (a variable without a
        value, which then falls back on its default): the maximum.
        """
        argument = next((a for a in node.arguments or () if a.name.value == name), None)
        if argument is None:
            return self.max_page_size
        given = argument.value
        if isinstance(given, VariableNode):
            variable = given.name.value
            walk.used_variables.add(variable)
            if variable not in walk.variables:
                return self.max_page_size
            value = walk.variables[variable]
            # GraphQL coerces a single value into a list of one.
            length = len(value) if isinstance(value, list) else int(value is not None)
        elif isinstance(given, ListValueNode):
            length = len(given.values)
        else:
            length = int(not isinstance(given, NullValueNode))
        return min(length, self.max_page_size)


def _merge_pairs(document: DocumentNode) -> int:
    """Same-named field pairs and fragment-spread pairs per selection set, summed.

    One pass over every selection set in the document (inline fragments merged
    into their parent, as the validation rule does); no fragment is expanded.
    """
    pairs = 0
    pending: list[SelectionSetNode] = [
        definition.selection_set
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while pending:
        names: dict[str, int] = {}
        spreads: set[str] = set()
        flatten = [pending.pop()]
        while flatten:
            for selection in flatten.pop().selections:
                if isinstance(selection, FieldNode):
                    key = (selection.alias or selection.name).value
                    names[key] = names.get(key, 0) + 1
                    if selection.selection_set is not None:
                        pending.append(selection.selection_set)
                elif isinstance(selection, InlineFragmentNode):
                    flatten.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    spreads.add(selection.name.value)
        pairs += sum(n * (n - 1) // 2 for n in names.values())
        pairs += len(spreads) * (len(spreads) - 1) // 2
    return pairs


def _pick(
    operations: list[OperationDefinitionNode], name: str | None
) -> OperationDefinitionNode | None:
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _int_literal(node: Any) -> int | None:
    if isinstance(node, IntValueNode):
        try:
            return int(node.value)
        except ValueError:
            return None
    if isinstance(node, NullValueNode):
        return None
    return None
