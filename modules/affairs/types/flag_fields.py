"""GraphQL fields generated from the one definition of the convenience flags (flags.py)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import strawberry

from modules.affairs.flags import Flag

__all__ = ["with_flag_fields"]

T = TypeVar("T", bound=type)


def with_flag_fields(
    flags: Iterable[Flag], *, annotation: Any, default: Callable[[Flag], bool | None] | None
) -> Callable[[T], T]:
    """Add one field per flag to a class before strawberry turns it into a type or input.

    Args:
        flags: the flags to add, in display order (they follow the class's own fields).
        annotation: the field type (``bool`` for outputs, ``bool | None`` for filters).
        default: each field's default (inputs), or ``None`` for output fields.
    """

    def add(cls: T) -> T:
        annotations = dict(inspect.get_annotations(cls))
        for flag in flags:
            annotations[flag.name] = annotation
            if default is None:
                field = strawberry.field(description=flag.description)
            else:
                field = strawberry.field(default=default(flag), description=flag.description)
            setattr(cls, flag.name, field)
        cls.__annotations__ = annotations
        return cls

    return add
