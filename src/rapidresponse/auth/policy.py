"""Roles and the need-to-know rule, as plain functions.

Roles are ordered: viewer < responder < incident_manager < admin; each can do everything the
ones below it can.

- viewer: read incidents, timelines, tasks, participants, the taxonomy.
- responder: also declare incidents, add notes and decisions, create and update tasks.
- incident_manager: also edit incidents, move them through the lifecycle, override severity,
  manage participants.
- admin: also manage API tokens and read and verify the audit log; sees every restricted
  incident.

Restricted incidents (child safety, by default) are visible only to their current
participants, the person who declared them, and admins; everyone else is told they do not
exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from rapidresponse.errors import Forbidden


class Role(StrEnum):
    VIEWER = "viewer"
    RESPONDER = "responder"
    INCIDENT_MANAGER = "incident_manager"
    ADMIN = "admin"

    @property
    def level(self) -> int:
        return _ORDER.index(self)


_ORDER = [Role.VIEWER, Role.RESPONDER, Role.INCIDENT_MANAGER, Role.ADMIN]


@dataclass(frozen=True)
class Principal:
    """Who is acting: a person (or service) authenticated by a token, or the local CLI."""

    subject: str
    role: Role
    token_id: int | None = None

    def has(self, needed: Role) -> bool:
        return self.role.level >= needed.level


def can_see(principal: Principal, restricted: bool, members: Iterable[str]) -> bool:
    if not restricted or principal.role is Role.ADMIN:
        return True
    return principal.subject in set(members)


def require(principal: Principal, role: Role, action: str) -> None:
    if not principal.has(role):
        raise Forbidden(f"{action} needs the {role.value} role; you are {principal.role.value}")
