"""Pydantic shapes of comms requests and responses; all validation of user input is here."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

from rapidresponse.comms.approvals import ApprovalFunction, Decision, UpdateStatus
from rapidresponse.comms.channels import Channel, DeliveryStatus, normalise_target
from rapidresponse.comms.templates import MAX_TITLE, UpdateKind
from rapidresponse.inputs import Input

MAX_BODY = 50_000
MAX_RECIPIENTS = 50

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)]
Audience = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2_000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2_000)]


class Strict(Input):
    """Comms inputs: unknown fields and NUL characters are refused (see inputs.Input)."""


class Recipient(Strict):
    """Where a message goes: an e-mail address, a signed-webhook URL or a Slack webhook URL."""

    channel: Channel
    target: str = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _valid_target(self) -> Recipient:
        self.target = normalise_target(self.channel, self.target)
        return self


Recipients = Annotated[list[Recipient], Field(max_length=MAX_RECIPIENTS)]


class ComposeIn(Strict):
    kind: UpdateKind
    audience: Audience = Field(default="", description="Who it is for, in words")
    recipients: Recipients = Field(
        default_factory=list, description="Delivered to when sent (or published)"
    )


class UpdatePatch(Strict):
    title: Title | None = None
    body: str | None = Field(default=None, min_length=1, max_length=MAX_BODY)
    audience: Audience | None = None
    recipients: Recipients | None = None
    version: int | None = Field(
        default=None, ge=1, description="Expected version (alternative to If-Match)"
    )


class ApprovalIn(Strict):
    function: ApprovalFunction = Field(description="Approve as PR or as Legal")
    comment: Comment = ""
    version: int | None = Field(
        default=None, ge=1, description="The version you read and approve (or If-Match)"
    )


class RejectionIn(Strict):
    function: ApprovalFunction = Field(description="Reject as PR or as Legal")
    comment: Reason = Field(description="What must change")
    version: int | None = Field(default=None, ge=1)


class CadenceIn(Strict):
    every_minutes: int = Field(ge=1, le=7 * 24 * 60, description="Minutes between updates")


class ApprovalOut(BaseModel):
    id: int
    function: ApprovalFunction
    decision: Decision
    decided_by: str
    on_behalf: bool
    comment: str
    decided_at: datetime
    update_version: int
    valid: bool
    voided_at: datetime | None
    void_reason: str | None


class DeliveryOut(BaseModel):
    id: int
    channel: Channel
    target: str = Field(description="E-mail addresses in full; webhook URLs masked")
    subject: str
    incident_key: str | None
    idempotency_key: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None


class StatusUpdateOut(BaseModel):
    id: int
    incident: str
    kind: UpdateKind
    title: str
    body: str
    audience: str
    recipients: list[Recipient]
    template: str | None
    status: UpdateStatus
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    submitted_at: datetime | None
    approved_at: datetime | None
    released_at: datetime | None
    released_by: str | None
    rejection: str | None
    missing_approvals: list[ApprovalFunction]
    approvals: list[ApprovalOut]
    deliveries: list[DeliveryOut]
    version: int


class CadenceOut(BaseModel):
    incident: str
    every_minutes: int
    active: bool
    started_at: datetime
    last_update_at: datetime | None
    last_reminder_at: datetime | None
    reminders_sent: int
    next_update_due_at: datetime | None = Field(
        description="When the next internal update is due (null when reminders are stopped)"
    )
    overdue: bool
