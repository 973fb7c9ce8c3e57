"""Demo incidents, created through the real services (so they are timelined and audited).

The three shapes a rapid-response team meets most: a live-streamed attack spreading through
re-uploads, a dangerous challenge trending among minors, and a child-safety case that is
need-to-know. Times are relative to ``now`` so the demo always looks current.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from rapidresponse.auth.policy import Principal
from rapidresponse.incidents import service
from rapidresponse.incidents.schemas import (
    IncidentCreate,
    NoteIn,
    TaskPatch,
    TaskStatus,
    TransitionIn,
)


def seed_demo_incidents(session: Session, principal: Principal, now: datetime) -> list[str]:
    keys: list[str] = []

    attack = service.declare(
        session,
        principal,
        IncidentCreate.model_validate(
            {
                "title": "Live-streamed attack: re-uploads of the perpetrator's stream",
                "summary": "A shooter live-streamed an attack; the video and edited copies are "
                "being re-uploaded across feed and live. GIFCT CIP activated by a member.",
                "harm_type": "violent_extremism",
                "regions": ["DE", "AT", "FR", "US"],
                "languages": ["de", "en"],
                "surfaces": ["live", "feed", "search"],
                "tags": ["gifct-cip", "reuploads"],
                "impact": {
                    "views": 3_400_000,
                    "views_per_hour": 180_000,
                    "regulatory_exposure": "deadline",
                    "press_attention": "major",
                },
                "started_at": now - timedelta(minutes=95),
                "detected_at": now - timedelta(minutes=80),
                "commander": "amira.ic",
            }
        ),
        now - timedelta(minutes=78),
    )
    keys.append(attack.key)
    service.change_status(
        session,
        principal,
        attack.key,
        TransitionIn(to="triaged"),
        None,
        now - timedelta(minutes=74),
    )
    service.change_status(
        session, principal, attack.key, TransitionIn(to="active"), None, now - timedelta(minutes=70)
    )
    # The playbook staffed the roles from whoever was on call for each function.
    # The playbook planned the work at declaration; the first steps are already done.
    for task in service.tasks(session, principal, attack.key):
        if task.playbook_step in ("stop-live-stream", "preserve-evidence", "exec-briefing"):
            service.update_task(
                session,
                principal,
                attack.key,
                task.id,
                TaskPatch(status=TaskStatus.DONE),
                task.version,
                now - timedelta(minutes=50),
            )
    service.add_note(
        session,
        principal,
        attack.key,
        NoteIn(
            text="Search intervention: attacker's name redirects to news "
            "sources; live uploads with matching audio held for review.",
            decision=True,
        ),
        now - timedelta(minutes=40),
    )

    challenge = service.declare(
        session,
        principal,
        IncidentCreate.model_validate(
            {
                "title": "Blackout challenge trending among minors in BR and MX",
                "summary": "Videos encouraging breath-holding until fainting, mostly from teen "
                "accounts; two hashtags and one sound carry most of the volume.",
                "harm_type": "dangerous_challenges",
                "regions": ["BR", "MX"],
                "languages": ["pt-BR", "es-MX"],
                "surfaces": ["feed", "search"],
                "tags": ["challenge"],
                "impact": {
                    "views": 900_000,
                    "views_per_hour": 25_000,
                    "minors_involved": True,
                    "press_attention": "inquiries",
                },
                "detected_at": now - timedelta(hours=5),
            }
        ),
        now - timedelta(hours=5),
    )
    keys.append(challenge.key)
    for status, ago in (("triaged", 290), ("active", 280), ("contained", 60)):
        service.change_status(
            session,
            principal,
            challenge.key,
            TransitionIn(to=status),
            None,
            now - timedelta(minutes=ago),
        )

    cse = service.declare(
        session,
        principal,
        IncidentCreate.model_validate(
            {
                "title": "Sextortion network targeting teen accounts via DMs",
                "summary": "Trusted-flagger report of a coordinated sextortion network. "
                "Need-to-know: members and admins only.",
                "harm_type": "child_sexual_exploitation",
                "regions": ["US", "GB", "IN"],
                "surfaces": ["dms"],
                "impact": {"minors_involved": True, "regulatory_exposure": "deadline"},
                "detected_at": now - timedelta(minutes=30),
            }
        ),
        now - timedelta(minutes=28),
    )
    keys.append(cse.key)
    return keys
