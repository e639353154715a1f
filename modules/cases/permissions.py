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

CASE_INTAKE = Permission(
    "cases.case.intake",
    "综合窗口: accept or refuse any department's applications, deliver results, close cases.",
    roles=(Role.STAFF.value, Role.ADMIN.value),
)
CASE_REVIEW = Permission(
    "cases.case.review",
    "后台审批: review the own department's cases — supplements, special procedures, approve, "
    "deny, issue results.",
    roles=(Role.STAFF.value, Role.ADMIN.value),
)
PERMISSIONS = (APPOINTMENT_MANAGE, QUEUE_OPERATE, CASE_INTAKE, CASE_REVIEW)
