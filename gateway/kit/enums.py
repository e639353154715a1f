"""GraphQL enums from a module's plain Python code lists, every value described.

A module keeps its closed value sets as plain ``enum.Enum`` classes (stored codes as
values, Chinese labels beside them) so its domain code does not depend on strawberry;
its GraphQL layer exposes them with :func:`graphql_enum`, which also gives every value
its description — the schema promises that every enum value is described, and the
labels are the natural description (``LICENSING`` — "01 行政许可").

Example::

    class ItemStatus(Enum):  # vocabulary.py
        ACTIVE = "active"
        SUSPENDED = "suspended"

    STATUS_LABELS = {"active": "在用", "suspended": "暂停"}

    graphql_enum(ItemStatus, "事项状态.", {m: STATUS_LABELS[m.value] for m in ItemStatus})
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

import strawberry

__all__ = ["graphql_enum"]

E = TypeVar("E", bound=type[Enum])


def graphql_enum(cls: E, description: str, values: Mapping[Enum, str], *, name: str = "") -> E:
    """Register ``cls`` as a GraphQL enum with a description for every value.

    Args:
        cls: the plain enum (its member names become the GraphQL values).
        description: the enum's description.
        values: a description per member; every member must have one.
        name: the GraphQL name, if not the class name.

    Raises:
        ValueError: a member has no (or an empty) description.
    """
    missing = [member.name for member in cls if not values.get(member)]
    if missing:
        raise ValueError(f"{cls.__name__}: no description for {', '.join(missing)}")
    strawberry.enum(cls, name=name or None, description=description)
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    by_name = {member.name: values[member] for member in cls}
    # strawberry reads value descriptions only from strawberry.enum_value() members,
    # which would tie the domain's enum to strawberry: fill them in afterwards instead.
    definition.values = [
        dataclasses.replace(value, description=by_name[value.name]) for value in definition.values
    ]
    return cls
