"""The life of a status update and the PR + Legal approval rule (pure).

Internal updates and executive summaries go draft -> sent. External statements go
draft -> pending_approval -> approved -> published, and need two approvals of the same text:
one by PR (the incident's ``communications`` participant) and one by Legal (its ``legal``
participant). An admin may decide "as" either function without holding the role; the
approval then says so. One person never counts for both: the two-person rule is the point.

Editing the title or body voids the approvals given so far (they approved other words), and
an approved statement goes back to pending approval. A rejection, with a comment, voids
them too and sends the statement back to draft.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from rapidresponse.comms.templates import UpdateKind


class UpdateStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    PUBLISHED = "published"  # external statements
    SENT = "sent"  # internal updates and executive summaries


class ApprovalFunction(StrEnum):
    PR = "pr"
    LEGAL = "legal"


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


# The incident role (incidents.schemas.ParticipantRole value) that holds each function.
FUNCTION_ROLE = {ApprovalFunction.PR: "communications", ApprovalFunction.LEGAL: "legal"}
REQUIRED = (ApprovalFunction.PR, ApprovalFunction.LEGAL)
FINAL = frozenset({UpdateStatus.PUBLISHED, UpdateStatus.SENT})
LABELS = {
    UpdateKind.INTERNAL_UPDATE: "Internal update",
    UpdateKind.EXECUTIVE_SUMMARY: "Executive summary",
    UpdateKind.EXTERNAL_STATEMENT: "External statement",
}


class NotAllowed(ValueError):
    """The step is not possible in the update's current state (a conflict, not a permission)."""


def needs_approval(kind: UpdateKind | str) -> bool:
    return UpdateKind(kind) is UpdateKind.EXTERNAL_STATEMENT


def check_editable(kind: UpdateKind | str, status: UpdateStatus | str) -> None:
    status = UpdateStatus(status)
    if status in FINAL:
        raise NotAllowed(f"a {status.value} update is a record of what was said; draft a new one")
    if not needs_approval(kind) and status is not UpdateStatus.DRAFT:
        raise NotAllowed(f"only drafts can be edited (this one is {status.value})")


def check_submit(kind: UpdateKind | str, status: UpdateStatus | str) -> None:
    if not needs_approval(kind):
        raise NotAllowed(f"{LABELS[UpdateKind(kind)].lower()}s need no approval; send them")
    if UpdateStatus(status) is not UpdateStatus.DRAFT:
        raise NotAllowed(f"only a draft can be submitted for approval (this one is {status})")


def check_decide(kind: UpdateKind | str, status: UpdateStatus | str) -> None:
    if not needs_approval(kind):
        raise NotAllowed(f"{LABELS[UpdateKind(kind)].lower()}s need no approval")
    if UpdateStatus(status) not in (UpdateStatus.PENDING_APPROVAL, UpdateStatus.APPROVED):
        raise NotAllowed(
            f"only a statement pending approval can be approved or rejected (this one is "
            f"{status}); submit it first"
        )


def check_send(kind: UpdateKind | str, status: UpdateStatus | str) -> None:
    if needs_approval(kind):
        raise NotAllowed("external statements are published after approval, not sent")
    if UpdateStatus(status) is not UpdateStatus.DRAFT:
        raise NotAllowed(f"this update was already {status}")


def check_publish(
    kind: UpdateKind | str, status: UpdateStatus | str, missing: list[ApprovalFunction]
) -> None:
    if not needs_approval(kind):
        raise NotAllowed(f"{LABELS[UpdateKind(kind)].lower()}s are sent, not published")
    status = UpdateStatus(status)
    if status is UpdateStatus.PUBLISHED:
        raise NotAllowed("this statement was already published")
    if missing or status is not UpdateStatus.APPROVED:
        names = ", ".join(f.value.upper() if f is ApprovalFunction.PR else "Legal" for f in missing)
        raise NotAllowed(
            "an external statement needs approval by PR and Legal before it can be published"
            + (f"; missing: {names}" if missing else "")
        )


@dataclass(frozen=True)
class Standing:
    """Whether someone may decide for a function, and whether as an admin acting for it."""

    allowed: bool
    on_behalf: bool
    reason: str = ""


def standing(function: ApprovalFunction, *, is_admin: bool, held_roles: Iterable[str]) -> Standing:
    role = FUNCTION_ROLE[function]
    if role in set(held_roles):
        return Standing(True, False)
    if is_admin:
        return Standing(True, True)
    return Standing(
        False,
        False,
        f"deciding as {function.value} needs the incident's {role} role (or an admin acting "
        f"as {function.value})",
    )


def missing_approvals(valid: Iterable[tuple[ApprovalFunction, str]]) -> list[ApprovalFunction]:
    given = {function for function, _ in valid}
    return [f for f in REQUIRED if f not in given]


def second_hat(
    function: ApprovalFunction, subject: str, valid: Iterable[tuple[ApprovalFunction, str]]
) -> ApprovalFunction | None:
    """The other function this person already approved for, if any (then they may not)."""
    for other, who in valid:
        if who == subject and other is not function:
            return other
    return None
