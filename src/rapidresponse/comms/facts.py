"""The facts a status update is written from (pure): read models in, template context out.

Two contexts, on purpose:

- :func:`internal_facts` is everything the response team knows (title, summary, impact,
  people, tasks, decisions): for internal stakeholder updates and executive summaries.
- :func:`public_facts` is a short allow-list (a public wording of the harm, regions, surfaces,
  a public status, dates) for external statements. It never includes the title, summary,
  notes, decisions, people, numbers or the incident key, so a template cannot leak what it
  was never given.

Times are timezone-aware UTC; templates format them with the ``utc`` filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pycountry

from rapidresponse.incidents.schemas import (
    IncidentOut,
    ParticipantOut,
    ParticipantRole,
    TaskOut,
    TaskStatus,
    TimelineOut,
)
from rapidresponse.incidents.taxonomy import HarmType, harm_type_info

STATUS_LABELS = {
    "detected": "Detected, not yet triaged",
    "triaged": "Triaged",
    "active": "Active response",
    "contained": "Contained",
    "resolved": "Resolved",
    "closed": "Closed",
    "declined": "Declined (not an incident)",
    "merged": "Merged into another incident",
}

# How a statement names the harm: plain, non-graphic, no detail that helps anyone find or
# copy the content (safe-messaging practice for self-harm; GIFCT practice for attack footage).
PUBLIC_HARM = {
    HarmType.VIOLENT_EXTREMISM: "violent extremist content",
    HarmType.CHILD_SEXUAL_EXPLOITATION: "content that sexually exploits children",
    HarmType.SUICIDE_SELF_HARM: "content related to suicide and self-harm",
    HarmType.DANGEROUS_CHALLENGES: "a dangerous challenge",
    HarmType.HATE_SPEECH: "hateful content",
    HarmType.BULLYING_HARASSMENT: "coordinated harassment",
    HarmType.VIOLENT_GRAPHIC: "graphic violent content",
    HarmType.ANIMAL_ABUSE: "content depicting cruelty to animals",
    HarmType.CRISIS_MISINFORMATION: "misleading content about an unfolding crisis",
    HarmType.PRIVACY_DOXXING: "content exposing people's private information",
}
# Harm types whose statements point people to support (safe-messaging guidance).
SUPPORT_RESOURCES = frozenset({HarmType.SUICIDE_SELF_HARM, HarmType.DANGEROUS_CHALLENGES})
PUBLIC_SURFACES = {
    "feed": "video feeds",
    "live": "live streams",
    "search": "search",
    "comments": "comments",
    "dms": "direct messages",
}
PUBLIC_STATUS = {
    "detected": "investigating",
    "triaged": "investigating",
    "active": "investigating",
    "contained": "contained",
    "resolved": "resolved",
    "closed": "resolved",
    "declined": "investigating",
    "merged": "investigating",
}


def region_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


def _holders(people: Sequence[ParticipantOut], role: ParticipantRole) -> list[str]:
    return [p.user for p in people if p.role is role and p.removed_at is None]


def internal_facts(
    incident: IncidentOut,
    people: Sequence[ParticipantOut],
    tasks: Sequence[TaskOut],
    decisions: Sequence[TimelineOut],
    *,
    now: datetime,
    update_number: int,
    next_update_due_at: datetime | None,
    link: str,
) -> dict[str, Any]:
    """Everything an internal update or executive summary may say."""
    closed = {TaskStatus.DONE, TaskStatus.CANCELLED}
    open_tasks = [t for t in tasks if t.status not in closed]
    overdue = [t for t in open_tasks if t.overdue]
    info = harm_type_info(incident.harm_type)
    return {
        "now": now,
        "update_number": update_number,
        "next_update_due_at": next_update_due_at,
        "link": link,
        "incident": {
            "key": incident.key,
            "title": incident.title,
            "summary": incident.summary,
            "harm_type": incident.harm_type.value,
            "harm_label": info.label,
            "dsa_category": incident.dsa_category,
            "severity": incident.severity.level.value,
            "severity_explanation": incident.severity.explanation,
            "status": incident.status.value,
            "status_label": STATUS_LABELS[incident.status.value],
            "regions": list(incident.regions),
            "region_names": [region_name(r) for r in incident.regions],
            "languages": list(incident.languages),
            "surfaces": list(incident.surfaces),
            "restricted": incident.restricted,
            "impact": {
                "views": int(incident.impact.get("views", 0)),
                "views_per_hour": int(incident.impact.get("views_per_hour", 0)),
                "minors_involved": bool(incident.impact.get("minors_involved", False)),
                "regulatory_exposure": str(incident.impact.get("regulatory_exposure", "none")),
                "press_attention": str(incident.impact.get("press_attention", "none")),
            },
            "times": incident.times.model_dump(),
        },
        "people": {
            "commander": _holders(people, ParticipantRole.INCIDENT_COMMANDER),
            "deputy": _holders(people, ParticipantRole.DEPUTY),
            "communications": _holders(people, ParticipantRole.COMMUNICATIONS),
            "legal": _holders(people, ParticipantRole.LEGAL),
            "all": [{"user": p.user, "role": p.role.value} for p in people if not p.removed_at],
        },
        "tasks": {
            "total": len(tasks),
            "open": len(open_tasks),
            "overdue": len(overdue),
            "done": sum(1 for t in tasks if t.status is TaskStatus.DONE),
            "blocked": sum(1 for t in open_tasks if t.status is TaskStatus.BLOCKED),
            "overdue_items": [
                {"id": t.id, "title": t.title, "owner": t.owner, "due_at": t.due_at}
                for t in overdue
            ],
            "open_items": [
                {"id": t.id, "title": t.title, "owner": t.owner, "due_at": t.due_at}
                for t in open_tasks
            ],
        },
        "decisions": [{"at": d.at, "by": d.actor, "text": d.text} for d in decisions],
    }


def public_facts(incident: IncidentOut, *, now: datetime) -> dict[str, Any]:
    """The allow-list an external statement is written from (see the module docstring)."""
    return {
        "now": now,
        "harm": PUBLIC_HARM[incident.harm_type],
        "support_resources": incident.harm_type in SUPPORT_RESOURCES,
        "regions": [region_name(r) for r in incident.regions],
        "surfaces": [PUBLIC_SURFACES.get(s, s) for s in incident.surfaces],
        "status": PUBLIC_STATUS[incident.status.value],
        "first_detected_at": incident.times.detected_at,
        "contained_at": incident.times.contained_at,
        "resolved_at": incident.times.resolved_at,
    }
