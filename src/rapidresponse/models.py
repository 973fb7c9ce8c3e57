"""Imports every domain's tables so ``Base.metadata`` is complete (migrations, tests)."""

from rapidresponse.audit.model import AuditEntry, AuditHead
from rapidresponse.auth.model import ApiToken
from rapidresponse.db import Base
from rapidresponse.incidents.model import (
    Incident,
    IncidentKeyCounter,
    Participant,
    Task,
    TimelineEntry,
)
from rapidresponse.outbox.model import OutboxMessage

metadata = Base.metadata

__all__ = [
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Incident",
    "IncidentKeyCounter",
    "OutboxMessage",
    "Participant",
    "Task",
    "TimelineEntry",
    "metadata",
]
