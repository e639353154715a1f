"""Permissions the cases module declares."""

from gateway.auth import Role
from gateway.registry import Permission

APPOINTMENT_MANAGE = Permission(
    "cases.appointment.manage",
    "Record what happened to bookings (no-shows) of the own department's items.",
    roles=(Role.STAFF.value, Role.ADMIN.value),
)


QUEUE_OPERATE = Permission(
    "cases.queue.operate",
    "Run a hall's queue: call the next ticket to a window, finish it, issue green-channel "
    "(绿色通道) tickets.",
    roles=(Role.STAFF.value, Role.ADMIN.value),
)
PERMISSIONS = (APPOINTMENT_MANAGE, QUEUE_OPERATE)
