"""Permissions the affairs module declares (checked on fields before resolvers run)."""

from gateway.auth import Role
from gateway.registry import Permission

ITEM_WRITE = Permission(
    "affairs.item.write",
    "Create service items and change or suspend/cancel them (staff: own department only).",
    roles=(Role.STAFF.value, Role.ADMIN.value),
)

PERMISSIONS = (ITEM_WRITE,)
