"""Global object identification (Relay ``Node``) for the entity types of every module.

Apollo Client and Relay keep one normalised cache keyed by a global ``id``, and Relay
refetches any object through ``node(id:)``. An entity type becomes a Node in two steps:

1. its class subclasses :class:`Node` and says which of its own fields is its key, by
   overriding :meth:`Node.node_key` (the ``id`` field itself is inherited);
2. its module declares a batched resolver for the type, ``Module(nodes={"TypeName":
   resolver})``, that loads objects by those keys — the gateway's ``node(id:)`` and
   ``nodes(ids:)`` dispatch to it, one call per type per request.

Example::

    @strawberry.type(description="A government service item (政务服务事项).")
    class AffairItem(Node):
        code: str = strawberry.field(description="Item code.")

        def node_key(self) -> str:
            return self.code


    async def affair_items_by_code(ctx: Context, codes: Sequence[str]) -> list[AffairItem | None]:
        docs = await ctx.loader(item_by_code).load_many(codes)
        return [AffairItem.from_doc(doc) if doc else None for doc in docs]


    module = Module(..., nodes={"AffairItem": affair_items_by_code})

A global id is the unpadded base64url of ``"<TypeName>:<key>"`` (the key may contain
``:``; type names never do). Clients must treat it as opaque. Decoding is strict, like
cursors: only the exact spelling :func:`global_id` makes, for a type some loaded module
resolves, with a non-empty key, is accepted; anything else is ``BAD_USER_INPUT``
"invalid id".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import NamedTuple, TypeVar

import strawberry
from strawberry.types.base import get_object_definition

from gateway.errors import BadUserInput, FieldError
from gateway.kit.opaque import decode_opaque, encode_opaque

__all__ = [
    "MAX_GLOBAL_ID_CHARS",
    "GlobalId",
    "Node",
    "global_id",
    "node_type_name",
    "parse_global_id",
    "resolve_nodes",
]

# Longest global id accepted (characters): about 370 bytes of "<TypeName>:<key>".
MAX_GLOBAL_ID_CHARS = 500

C = TypeVar("C")


@strawberry.interface(
    name="Node",
    description=(
        "An object with a globally unique id: refetch any Node with `node(id:)` or "
        "`nodes(ids:)` (Relay global object identification)."
    ),
)
class Node:
    """Base of every entity type with a global id.

    Subclass it and override :meth:`node_key`; the inherited ``id`` field turns the
    key into the global id under the type's GraphQL name. A type whose global id
    cannot come from one of its fields may instead define its own ``id`` resolver
    returning :func:`global_id` of its GraphQL name.
    """

    @strawberry.field(
        description=(
            "Globally unique, opaque id: a stable cache key; `node(id:)` refetches the "
            "object. Do not parse it."
        )
    )
    def id(self) -> strawberry.ID:
        return global_id(node_type_name(type(self)), self.node_key())

    def node_key(self) -> str:
        """This object's key among objects of its type (e.g. an item's code)."""
        raise NotImplementedError(f"{type(self).__name__} must override Node.node_key()")


class GlobalId(NamedTuple):
    """A decoded global id: the GraphQL type name and the key within that type."""

    type_name: str
    key: str


def node_type_name(node_type: type) -> str:
    """The GraphQL name of a strawberry type (what a global id and ``nodes=`` use)."""
    return get_object_definition(node_type, strict=True).name


def global_id(type_name: str, key: str) -> strawberry.ID:
    """The global id of the object of type ``type_name`` with key ``key``.

    Raises:
        ValueError: for a type name with ``:`` (GraphQL names never have one), an
            empty key, or an id longer than :data:`MAX_GLOBAL_ID_CHARS` — an id that
            :func:`parse_global_id` would refuse must never be handed out.

    Example:
        global_id("AffairItem", "11440303MB2D07321K3442111817000")
    """
    if not type_name or ":" in type_name or not key:
        raise ValueError(f"no global id for type {type_name!r} and key {key!r}")
    encoded = encode_opaque(f"{type_name}:{key}")
    if len(encoded) > MAX_GLOBAL_ID_CHARS:
        raise ValueError(f"{type_name} key too long for a global id ({len(key)} characters)")
    return strawberry.ID(encoded)


def _invalid_id(field: str) -> BadUserInput:
    return BadUserInput("对象标识无效 (invalid id)", [FieldError(field, "invalid id")])


def parse_global_id(value: str, type_names: Collection[str], *, field: str = "id") -> GlobalId:
    """The type name and key a global id carries.

    Args:
        value: the id as the client sent it.
        type_names: the Node types that can be resolved (the composition's).
        field: the input path named in the field error (``id``, ``ids.3``).

    Raises:
        BadUserInput: "invalid id" on ``field`` unless ``value`` is exactly what
            :func:`global_id` makes for one of ``type_names`` and a non-empty key.
    """
    try:
        text = decode_opaque(value, max_chars=MAX_GLOBAL_ID_CHARS)
    except ValueError:
        raise _invalid_id(field) from None
    type_name, colon, key = text.partition(":")  # the first ':'; keys may hold more
    if not colon or not key or type_name not in type_names:
        raise _invalid_id(field)
    return GlobalId(type_name, key)


NodeLookup = Callable[[C, Sequence[str]], Awaitable[Sequence[object | None]]]


async def resolve_nodes(
    context: C, ids: Sequence[GlobalId], resolvers: Mapping[str, NodeLookup[C]]
) -> list[Node | None]:
    """The objects for ``ids``, in their order, ``None`` where a resolver found none.

    Keys are grouped per type and deduplicated, so each type's resolver runs once
    however many ids name it; the types' resolvers run concurrently.

    Raises:
        TypeError: a resolver broke the contract (not one result per key, or an
            object that is not a Node of the type asked for) — a bug in that module,
            reported as INTERNAL rather than shown to the client as someone else's data.
    """
    keys_by_type: dict[str, dict[str, None]] = {}  # dicts: unique keys in first-seen order
    for type_name, key in ids:
        keys_by_type.setdefault(type_name, {})[key] = None
    type_names = list(keys_by_type)
    # return_exceptions: every call finishes before the first error is raised, so no
    # resolver is left running unobserved after this field has failed.
    outcomes = await asyncio.gather(
        *(resolvers[name](context, list(keys_by_type[name])) for name in type_names),
        return_exceptions=True,
    )
    found: dict[GlobalId, Node] = {}
    for type_name, outcome in zip(type_names, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            raise outcome
        keys = list(keys_by_type[type_name])
        if len(outcome) != len(keys):
            raise TypeError(
                f"the {type_name} node resolver returned {len(outcome)} results "
                f"for {len(keys)} keys"
            )
        for key, node in zip(keys, outcome, strict=True):
            if node is None:
                continue
            if not isinstance(node, Node) or node_type_name(type(node)) != type_name:
                raise TypeError(
                    f"the {type_name} node resolver returned a {type(node).__name__}, "
                    f"not a {type_name}"
                )
            found[GlobalId(type_name, key)] = node
    return [found.get(one) for one in ids]
