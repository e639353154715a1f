"""Permissions the cases module declares."""

from gateway.auth import Role
from gateway.registry import Permission

APPOINTMENT_MANAGE = Permission(
    "cases.appointment.manage",
    "Record what happened to bookings (no-shows) of the own department's items.",
    roles=(Role.STAFF.value, Role.ADMIN.value),
)

PERMISSIONS = (APPOINTMENT_MANAGE,)
