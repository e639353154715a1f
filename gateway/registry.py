"""The module contract, discovery through entry points, and schema composition.

A module is a value, not a subclass::

    # my_package/module.py
    module = Module(
        name="weather",
        version="1.0.0",
        description="Weather notices for service halls",
        query=WeatherQuery,
        indexes=[IndexSpec("weather_notices", (("hall_code", 1),))],
    )

and is announced in the package's ``pyproject.toml``::

    [project.entry-points."onestop.modules"]
    weather = "my_package.module:module"

The gateway has no list of modules: built-in ones are declared the same way in
OneStop's own ``pyproject.toml``. Composition refuses any duplicate root field,
type name, permission, collection, interface or event topic and names both
modules, because strawberry's ``merge_types`` would only warn and let the last
definition silently win.

Modules talk to each other only through what they publish: interfaces (an
:class:`Interface` — a name, the ``Protocol`` it promises and its factory, checked
at start) and event topics (a :class:`~gateway.bus.Topic` with its payload type).
A module's private per-process state is its own (``Module(state=…)``), reached
with ``ctx.state(Kind)``, never through the interface registry.

Modules make their entity types refetchable by global id (Relay ``Node``, see
``gateway/kit/nodes.py``) with ``Module(nodes={"TypeName": resolver})``; composition
refuses a type resolved by two modules, one outside the declaring module's schema or
not implementing ``Node``, and a ``Node`` type that no module resolves.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLNamedType
from strawberry.tools import merge_types

from gateway.bus import Topic
from gateway.kit.nodes import Node

if TYPE_CHECKING:
    from pymongo.asynchronous.database import AsyncDatabase

    from gateway.bus import Event
    from gateway.context import Context
    from gateway.runtime import Runtime

__all__ = [
    "ENTRY_POINT_GROUP",
    "CacheHint",
    "CacheScope",
    "Composition",
    "CompositionError",
    "CostHint",
    "IndexSpec",
    "Interface",
    "InterfaceUse",
    "Module",
    "ModuleInfo",
    "NodeResolver",
    "Permission",
    "SeedContext",
    "check_interfaces",
    "compose",
    "discover",
]

ENTRY_POINT_GROUP = "onestop.modules"
log = logging.getLogger("onestop.registry")

InterfaceFactory = Callable[["Runtime"], object]
StateFactory = Callable[["Runtime"], object]
EventHandler = Callable[["Event", "Runtime"], Awaitable[None]]
StartupHook = Callable[["Runtime"], Awaitable[None]]


@dataclass(frozen=True)
class Interface:
    """A published interface: what other modules may call, and what it promises.

    Attributes:
        name: ``<module>.<thing>``, e.g. ``affairs.catalog``.
        protocol: a ``typing.Protocol`` (``@runtime_checkable``) listing the methods;
            the built implementation is checked against it at start.
        factory: builds the implementation once per process from the runtime.
        description: what it offers, for module teams.
    """

    name: str
    protocol: type
    factory: InterfaceFactory
    description: str


@dataclass(frozen=True)
class InterfaceUse:
    """An interface a module calls, with the protocol the caller relies on.

    Checked at start against the provider's implementation when the provider is
    loaded, so a provider that drops or renames a method stops the start-up instead
    of failing a citizen's request later. Without the provider, the caller's fields
    answer ``UNAVAILABLE`` (``ctx.interface`` raises ``LookupError``).
    """

    name: str
    protocol: type


@dataclass(frozen=True)
class IndexSpec:
    """A MongoDB index a module needs; applied (idempotently) at every start."""

    collection: str
    keys: tuple[tuple[str, int | str], ...]
    name: str | None = None
    unique: bool = False
    sparse: bool = False
    expire_after_seconds: int | None = None
    partial_filter: Mapping[str, Any] | None = None

    @property
    def index_name(self) -> str:
        return self.name or "_".join(f"{key}_{direction}" for key, direction in self.keys)


class CacheScope(StrEnum):
    """Whether a field's value is the same for everyone (PUBLIC) or depends on who asks."""

    PUBLIC = "public"
    PRIVATE = "private"


DataVersion = Callable[["Runtime"], Awaitable[str]]


@dataclass(frozen=True)
class CacheHint:
    """How long a field's value may be reused, and for whom (the response cache).

    A root field without a hint is never cached; a nested field without one inherits its
    parent's. An operation is cached for the shortest ``max_age`` among its fields, and
    only when every field is PUBLIC (fields that require a permission are PRIVATE).

    Attributes:
        max_age: seconds the value stays right; 0 never caches it.
        scope: PUBLIC (the same for every caller) or PRIVATE.
        version: ``await version(runtime)`` names the version of the data the field reads
            (e.g. the catalog generation every write bumps); it is part of the cache key,
            so a write makes every cached response that read the old data unreachable at
            once — an edit is visible on the next request.

    Example:
        cache_hints={"Query.affairItem": CacheHint(300, version=catalog_version),
                     "AffairItemVersionSummary.changedBy": CacheHint(scope=CacheScope.PRIVATE)}
    """

    max_age: int | None = None  # None: inherit (a scope-only hint)
    scope: CacheScope = CacheScope.PUBLIC
    version: DataVersion | None = None


@dataclass(frozen=True)
class CostHint:
    """What one field costs, for the per-operation cost limit (README "Query cost").

    Attributes:
        cost: the field's own cost each time it resolves (default: 1 for an
            object, 0 for a scalar); give database-backed root fields more.
        list_size: for a list field without ``first``/``last``, how many
            elements it typically returns (default: the gateway's default).
        argument_costs: extra cost when an argument is given, e.g.
            ``{"search": 150}`` for a full-text search.
        size_argument: for a list field with one element per element of a list
            argument (``nodes(ids:)``), that argument's name: the list is as long
            as the argument the request gives (at most the page-size maximum).

    Example:
        cost_hints={"Query.affairItems": CostHint(10, argument_costs={"search": 200})}
    """

    cost: int = 1
    list_size: int | None = None
    argument_costs: Mapping[str, int] = field(default_factory=dict)
    size_argument: str | None = None


@dataclass(frozen=True)
class Permission:
    """A named capability checked on fields, granted to roles by default.

    Names are ``<module>.<resource>.<action>`` so ownership is obvious.
    """

    name: str
    description: str
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedContext:
    """What a seed loader gets: the database and the folder holding its JSON."""

    db: AsyncDatabase[Any]
    seeds_dir: Path
    runtime: Runtime


SeedLoader = Callable[[SeedContext], Awaitable[int]]

NodeResolver = Callable[["Context", Sequence[str]], Awaitable[Sequence[object | None]]]
"""``async def resolve(ctx, keys) -> [node | None]``: one Node type's objects by key.

Given the keys (unique, in no meaningful order) of one request's ``node``/``nodes``
ids of the type, it returns one result per key in the same order: the object (an
instance of the declared type) or ``None`` when it does not exist *or the caller may
not see it* — Relay's contract is null, never an error, for both. Load all keys at
once (one ``$in`` query, or ``ctx.loader(...).load_many(keys)``).
"""


@dataclass(frozen=True)
class Module:
    """A pluggable slice of the API.

    Attributes:
        name: unique module name (also the entry point name).
        version: the module's own version, shown in the ``modules`` ops query.
        description: one line for ops and the schema docs.
        query / mutation / subscription: strawberry types whose fields are
            merged into the root types.
        types: extra types reachable only through interfaces or unions.
        indexes: MongoDB indexes, ensured at start. A collection belongs to the
            module declaring its indexes; no other module may declare it.
        collections: further collections the module owns that need no index.
        seeds: async loaders run by ``onestop seed`` (and on an empty database);
            they must be idempotent (upserts).
        permissions: the permissions its fields require, with descriptions.
        nodes: ``{"TypeName": resolver}`` for each of its types implementing ``Node``
            (:mod:`gateway.kit.nodes`): a batched :data:`NodeResolver` that
            ``node(id:)`` and ``nodes(ids:)`` dispatch to.
        cost_hints: ``{"Type.field": CostHint(...)}`` (or a plain int cost) for the
            per-operation cost limit; see :class:`CostHint`.
        cache_hints: ``{"Type.field": CacheHint(...)}`` for the response cache and the
            ``Cache-Control`` header; see :class:`CacheHint`.
        interfaces: published interfaces other modules may call (:class:`Interface`),
            built once per process from the runtime.
        uses: interfaces of other modules this one calls (:class:`InterfaceUse`).
        events: the event topics this module publishes (:class:`~gateway.bus.Topic`).
        event_handlers: ``{topic name: [handler]}`` for events on the bus.
        state: the module's own per-process state, built once from the runtime and
            reached with ``ctx.state(type)`` (e.g. reference data held in memory).
        on_startup: hooks run after indexes are ensured.

    Per-request DataLoaders need no declaration: ``info.context.loader(factory)``
    creates one lazily per request from any factory ``(Context) -> DataLoader``.
    """

    name: str
    version: str
    description: str
    query: type | None = None
    mutation: type | None = None
    subscription: type | None = None
    types: Sequence[type] = ()
    indexes: Sequence[IndexSpec] = ()
    collections: Sequence[str] = ()
    seeds: Sequence[SeedLoader] = ()
    permissions: Sequence[Permission] = ()
    nodes: Mapping[str, NodeResolver] = field(default_factory=dict)
    cost_hints: Mapping[str, CostHint | int] = field(default_factory=dict)
    cache_hints: Mapping[str, CacheHint] = field(default_factory=dict)
    interfaces: Sequence[Interface] = ()
    uses: Sequence[InterfaceUse] = ()
    events: Sequence[Topic[Any]] = ()
    event_handlers: Mapping[str, Sequence[EventHandler]] = field(default_factory=dict)
    state: StateFactory | None = None
    on_startup: Sequence[StartupHook] = ()


class CompositionError(Exception):
    """Modules cannot be composed (clash, bad entry point, unknown module)."""


@dataclass(frozen=True)
class ModuleInfo:
    """What one module contributes, for ops and the ``modules`` query."""

    module: Module
    query_fields: tuple[str, ...]
    mutation_fields: tuple[str, ...]
    subscription_fields: tuple[str, ...]
    type_names: tuple[str, ...]
    collections: tuple[str, ...]


@dataclass(frozen=True)
class Composition:
    """The result of composing modules: root types and the merged declarations."""

    modules: tuple[ModuleInfo, ...]
    query: type
    mutation: type | None
    subscription: type | None
    types: tuple[type, ...]
    permissions: Mapping[str, Permission]
    indexes: tuple[IndexSpec, ...]
    cost_hints: Mapping[str, CostHint] = field(default_factory=dict)
    cache_hints: Mapping[str, CacheHint] = field(default_factory=dict)
    topics: Mapping[str, Topic[Any]] = field(default_factory=dict)
    # Node type name -> its module's resolver, for node(id:) and nodes(ids:).
    nodes: Mapping[str, NodeResolver] = field(default_factory=dict)

    def module_names(self) -> list[str]:
        return [info.module.name for info in self.modules]

    def root_field_modules(self) -> dict[tuple[str, str], str]:
        """``(operation type, root field) -> module``: whose field an operation starts with."""
        return {
            (kind, name): info.module.name
            for info in self.modules
            for kind, names in (
                ("query", info.query_fields),
                ("mutation", info.mutation_fields),
                ("subscription", info.subscription_fields),
            )
            for name in names
        }

    def grants(self, roles: Iterable[str]) -> frozenset[str]:
        """Permissions granted by default to any of ``roles``."""
        wanted = set(roles)
        return frozenset(
            name for name, permission in self.permissions.items() if wanted & set(permission.roles)
        )


def discover(
    names: Sequence[str] = (), *, points: Iterable[EntryPoint] | None = None
) -> list[Module]:
    """Load modules announced in the ``onestop.modules`` entry-point group.

    Args:
        names: keep only these modules (``ONESTOP_MODULES``); empty keeps all.
        points: entry points to use instead of the installed ones (tests).
    """
    found: dict[str, tuple[Module, str]] = {}
    for point in points if points is not None else entry_points(group=ENTRY_POINT_GROUP):
        if names and point.name not in names:
            continue
        try:
            loaded = point.load()
        except Exception as exc:
            raise CompositionError(
                f"module entry point {point.name!r} ({point.value}) failed to import: {exc}"
            ) from exc
        if not isinstance(loaded, Module):
            raise CompositionError(
                f"entry point {point.name!r} ({point.value}) is a {type(loaded).__name__}, "
                "not a gateway.registry.Module"
            )
        if loaded.name != point.name:
            raise CompositionError(
                f"entry point {point.name!r} ({point.value}) names its module {loaded.name!r}; "
                "they must match"
            )
        if loaded.name in found and found[loaded.name][1] != point.value:
            raise CompositionError(
                f"two packages provide a module named {loaded.name!r}: "
                f"{found[loaded.name][1]} and {point.value}"
            )
        found[loaded.name] = (loaded, point.value)
    unknown = [name for name in names if name not in found]
    if unknown:
        raise CompositionError(
            f"ONESTOP_MODULES names modules that are not installed: {', '.join(unknown)}"
        )
    return [found[name][0] for name in sorted(found)]


@strawberry.type(description="Placeholder root for a module that contributes no query fields.")
class _NoQuery:
    _placeholder: strawberry.Private[None] = None

    @strawberry.field
    def module_placeholder(self) -> bool:  # pragma: no cover - never exposed
        return True


_BUILTIN_NAMES = {"String", "Int", "Float", "Boolean", "ID"}


def _module_schema_view(module: Module) -> tuple[dict[str, object], dict[str, list[str]]]:
    """Build a schema of one module alone to learn its type names and root fields."""
    schema = strawberry.Schema(
        query=module.query or _NoQuery,
        mutation=module.mutation,
        subscription=module.subscription,
        types=list(module.types),
    )
    roots: dict[str, list[str]] = {"Query": [], "Mutation": [], "Subscription": []}
    graphql_schema = schema._schema
    for root_name, root_type, part in (
        ("Query", graphql_schema.query_type, module.query),
        ("Mutation", graphql_schema.mutation_type, module.mutation),
        ("Subscription", graphql_schema.subscription_type, module.subscription),
    ):
        if root_type is not None and part is not None:
            roots[root_name] = list(root_type.fields)
    root_type_names = {
        t.name
        for t in (
            graphql_schema.query_type,
            graphql_schema.mutation_type,
            graphql_schema.subscription_type,
        )
        if t is not None
    }
    types: dict[str, object] = {}
    for name, graphql_type in graphql_schema.type_map.items():
        if name.startswith("__") or name in _BUILTIN_NAMES or name in root_type_names:
            continue
        types[name] = _origin(schema, name, graphql_type)
    return types, roots


def _origin(schema: strawberry.Schema, name: str, graphql_type: GraphQLNamedType) -> object:
    definition = schema.get_type_by_name(name)
    origin = getattr(definition, "origin", None) if definition is not None else None
    if origin is None:
        # Scalars and directives defined by strawberry itself: shared by every module.
        return ("strawberry", name)
    return origin


def _implements_node(origin: object) -> bool:
    """Whether a type (its class, as strawberry keeps it) implements our ``Node``."""
    return isinstance(origin, type) and issubclass(origin, Node) and origin is not Node


def compose(modules: Sequence[Module]) -> Composition:
    """Merge modules' parts into root types, refusing any clash."""
    field_owner: dict[tuple[str, str], str] = {}
    type_owner: dict[str, tuple[str, object]] = {}
    permission_owner: dict[str, str] = {}
    collection_owner: dict[str, str] = {}
    interface_owner: dict[str, str] = {}
    topics: dict[str, Topic[Any]] = {}
    topic_owner: dict[str, str] = {}
    hint_owner: dict[str, str] = {}
    cost_hints: dict[str, CostHint] = {}
    cache_hints: dict[str, CacheHint] = {}
    cache_hint_owner: dict[str, str] = {}
    node_owner: dict[str, str] = {}
    nodes: dict[str, NodeResolver] = {}
    node_types: dict[str, str] = {}  # every type implementing Node -> a module defining it
    module_owner: dict[str, str] = {}
    infos: list[ModuleInfo] = []
    permissions: dict[str, Permission] = {}
    indexes: list[IndexSpec] = []

    def clash(kind: str, name: str, first: str, second: str) -> CompositionError:
        return CompositionError(
            f"{kind} {name!r} is defined by both module {first!r} and module {second!r}"
        )

    for module in modules:
        if module.name in module_owner:
            raise clash("module name", module.name, module.name, module.name)
        module_owner[module.name] = module.name
        types, roots = _module_schema_view(module)
        for root, names in roots.items():
            for field_name in names:
                key = (root, field_name)
                if key in field_owner:
                    raise clash(f"{root} field", field_name, field_owner[key], module.name)
                field_owner[key] = module.name
        for type_name, origin in types.items():
            if type_name in type_owner:
                owner, first_origin = type_owner[type_name]
                if first_origin is not origin and first_origin != origin:
                    raise clash("type", type_name, owner, module.name)
            else:
                type_owner[type_name] = (module.name, origin)
        for permission in module.permissions:
            if permission.name in permission_owner:
                raise clash(
                    "permission", permission.name, permission_owner[permission.name], module.name
                )
            permission_owner[permission.name] = module.name
            permissions[permission.name] = permission
        collections = sorted({spec.collection for spec in module.indexes} | set(module.collections))
        for collection in collections:
            if collection in collection_owner:
                raise clash("collection", collection, collection_owner[collection], module.name)
            collection_owner[collection] = module.name
        for interface in module.interfaces:
            if interface.name in interface_owner:
                raise clash(
                    "interface", interface.name, interface_owner[interface.name], module.name
                )
            interface_owner[interface.name] = module.name
        for topic in module.events:
            if topic.name in topic_owner:
                raise clash("event topic", topic.name, topic_owner[topic.name], module.name)
            if topic.module != module.name:
                raise CompositionError(
                    f"module {module.name!r} declares the event topic {topic.name!r}; "
                    f"a module's topics start with its own name ({module.name}.…)"
                )
            topic_owner[topic.name] = module.name
            topics[topic.name] = topic
        for coordinate, hint in module.cost_hints.items():
            if coordinate in hint_owner:
                raise clash("cost hint", coordinate, hint_owner[coordinate], module.name)
            hint_owner[coordinate] = module.name
            cost_hints[coordinate] = hint if isinstance(hint, CostHint) else CostHint(hint)
        for coordinate, cache_hint in module.cache_hints.items():
            if coordinate in cache_hint_owner:
                raise clash("cache hint", coordinate, cache_hint_owner[coordinate], module.name)
            cache_hint_owner[coordinate] = module.name
            cache_hints[coordinate] = cache_hint
        for type_name, origin in types.items():
            if _implements_node(origin):
                node_types.setdefault(type_name, module.name)
        for type_name, resolver in module.nodes.items():
            if type_name not in types:
                raise CompositionError(
                    f"module {module.name!r} resolves node type {type_name!r}, which is not "
                    "in its schema (a type reachable only through Node belongs in types=)"
                )
            if not _implements_node(types[type_name]):
                raise CompositionError(
                    f"module {module.name!r} resolves node type {type_name!r}, which does "
                    "not implement Node (subclass gateway.kit.nodes.Node)"
                )
            if type_name in node_owner:
                raise clash("node type", type_name, node_owner[type_name], module.name)
            node_owner[type_name] = module.name
            nodes[type_name] = resolver
        indexes.extend(module.indexes)
        infos.append(
            ModuleInfo(
                module=module,
                query_fields=tuple(roots["Query"]),
                mutation_fields=tuple(roots["Mutation"]),
                subscription_fields=tuple(roots["Subscription"]),
                type_names=tuple(
                    sorted(n for n, (owner, _) in type_owner.items() if owner == module.name)
                ),
                collections=tuple(collections),
            )
        )

    def merged(name: str, parts: list[type]) -> type | None:
        return merge_types(name, tuple(parts)) if parts else None

    _check_event_handlers(modules, topics)
    unresolved = [
        f"{name!r} (module {owner!r})" for name, owner in node_types.items() if name not in nodes
    ]
    if unresolved:
        # node(id:) would have to refuse the ids the schema hands out for these types.
        raise CompositionError(
            "types implement Node but no module resolves them (Module(nodes=...)): "
            + ", ".join(unresolved)
        )
    query = merged("Query", [m.query for m in modules if m.query is not None])
    if query is None:
        raise CompositionError("no module contributes a Query field")
    return Composition(
        modules=tuple(infos),
        query=query,
        mutation=merged("Mutation", [m.mutation for m in modules if m.mutation is not None]),
        subscription=merged(
            "Subscription", [m.subscription for m in modules if m.subscription is not None]
        ),
        types=tuple(t for m in modules for t in m.types),
        permissions=permissions,
        indexes=tuple(indexes),
        cost_hints=cost_hints,
        cache_hints=cache_hints,
        topics=topics,
        nodes=nodes,
    )


def _check_event_handlers(modules: Sequence[Module], topics: Mapping[str, Topic[Any]]) -> None:
    """A handler must name a declared topic; a typo would otherwise never fire.

    A topic of a module that is not loaded (narrowed by ``ONESTOP_MODULES``) is only
    logged: the handler is fine, there is just nobody to publish it here.
    """
    loaded = {module.name for module in modules}
    for module in modules:
        for name in module.event_handlers:
            if name in topics:
                continue
            owner = name.split(".", 1)[0]
            if owner in loaded:
                raise CompositionError(
                    f"module {module.name!r} handles the event topic {name!r}, "
                    f"which module {owner!r} does not declare"
                )
            log.warning(
                "module %s handles %s, but no loaded module publishes it", module.name, name
            )


def check_interfaces(modules: Sequence[Module], built: Mapping[str, object]) -> None:
    """Check built interfaces against their protocols, and callers' expectations.

    Raises:
        CompositionError: an implementation lacks a method of its own protocol, or
            of the protocol a calling module relies on (or one is async where the
            other is not) — naming the modules and the method.
    """
    providers = {i.name: (m.name, i) for m in modules for i in m.interfaces}
    for provider, interface in providers.values():
        _conforms(built[interface.name], interface.protocol, interface.name, provider, provider)
    for module in modules:
        for use in module.uses:
            if use.name not in providers:
                log.warning(
                    "module %s uses %s, which no loaded module publishes", module.name, use.name
                )
                continue
            provider, _ = providers[use.name]
            _conforms(built[use.name], use.protocol, use.name, provider, module.name)


def _conforms(
    implementation: object, protocol: type, name: str, provider: str, expected_by: str
) -> None:
    for method in _protocol_methods(protocol):
        promised = getattr(protocol, method)
        given = getattr(implementation, method, None)
        problem = None
        if given is None or not callable(given):
            problem = "is missing"
        elif inspect.iscoroutinefunction(promised) != inspect.iscoroutinefunction(given):
            problem = "is async in one and not in the other"
        elif not _parameters_fit(promised, given):
            problem = "takes other parameters"
        if problem:
            raise CompositionError(
                f"interface {name!r} of module {provider!r}: method {method!r} {problem} "
                f"(expected by module {expected_by!r} through {protocol.__name__})"
            )


def _protocol_methods(protocol: type) -> list[str]:
    return sorted(
        name
        for name, value in vars(protocol).items()
        if callable(value) and not name.startswith("_")
    )


def _parameters_fit(promised: Callable[..., Any], given: Callable[..., Any]) -> bool:
    """Every parameter the protocol names is accepted by the implementation, by name."""
    wanted = [p for p in inspect.signature(promised).parameters.values() if p.name != "self"]
    accepted = inspect.signature(given).parameters
    if any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        return True
    return all(p.name in accepted for p in wanted)
