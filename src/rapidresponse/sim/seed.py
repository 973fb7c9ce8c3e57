"""Demo incidents, created through the real services (so they are timelined and audited).

The three shapes a rapid-response team meets most: a live-streamed attack spreading through
re-uploads, a dangerous challenge trending among minors, and a child-safety case that is
need-to-know. Times are relative to ``now`` so the demo always looks current.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from rapidresponse.auth.policy import Principal
from rapidresponse.compliance import service as compliance
from rapidresponse.compliance.schemas import TriggerIn
from rapidresponse.enforcement import service as enforcement
from rapidresponse.enforcement.schemas import ActionIn, ItemIn
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
    _contain_attack(session, principal, attack.key, now)

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
    _contain_challenge(session, principal, challenge.key, now)
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


def _contain_attack(session: Session, principal: Principal, key: str, now: datetime) -> None:
    """1,500 re-uploads, a German removal order running against the hour, a labelled batch
    done, and the big geo-block waiting for a second incident manager's approval."""
    regions = (["DE", "AT"], ["FR"], ["US"], ["DE", "FR", "US"])
    enforcement.add_items(
        session,
        principal,
        key,
        [
            ItemIn(
                external_id=f"reupload-{i:05d}",
                account_id=f"acct-{i % 211:04d}",
                regions=regions[i % len(regions)],
                keys=["#attackvideo", "media:cluster-7f3a"],
                language="de" if i % 3 else "en",
                views=40 + (i * 37) % 9000,
                posted_at=now - timedelta(minutes=90 - i % 80),
                source="hash_match" if i % 4 else "user_report",
                automated_detection=bool(i % 4),
            )
            for i in range(1500)
        ],
        now - timedelta(minutes=60),
    )
    compliance.record_trigger(
        session,
        principal,
        key,
        TriggerIn.model_validate(
            {
                "kind": "terrorist_content_removal_order",
                "occurred_at": now - timedelta(minutes=45),
                "regions": ["DE"],
                "reference": "TCO removal order BKA-2026-1187",
                "details": "Covers the attacker's stream and its re-uploads.",
            }
        ),
        now - timedelta(minutes=44),
    )
    label = enforcement.plan(
        session,
        principal,
        key,
        ActionIn.model_validate(
            {
                "action": "label",
                "selector": {
                    "scope": "items",
                    "external_ids": [f"reupload-{i:05d}" for i in range(40)],
                },
                "policy_section": "VE-1",
                "explanation": "Footage of a violent attack; shown behind a warning screen.",
                "reason": "News reuse under review; warning screen first.",
            }
        ),
        now - timedelta(minutes=35),
        approval_threshold=1000,
    )
    enforcement.start(session, principal, key, label.id, now - timedelta(minutes=34))
    while enforcement.run_batch(session, label.id, now - timedelta(minutes=33), 500):
        pass
    enforcement.plan(
        session,
        principal,
        key,
        ActionIn.model_validate(
            {
                "action": "geo_restrict",
                "selector": {"scope": "key", "key": "media:cluster-7f3a"},
                "regions": ["DE", "AT", "FR"],
                "policy_section": "VE-1",
                "ground": "illegal",
                "legal_ground": "Regulation (EU) 2021/784, Art. 3 (removal order BKA-2026-1187)",
                "explanation": "The attacker's stream and edited copies: terrorist content "
                "subject to a removal order.",
                "reason": "Removal order received; 1,500 re-uploads in the cluster.",
            }
        ),
        now - timedelta(minutes=20),
        approval_threshold=1000,
    )


def _contain_challenge(session: Session, principal: Principal, key: str, now: datetime) -> None:
    """The challenge's hashtags: searches redirected to help resources."""
    enforcement.add_items(
        session,
        principal,
        key,
        [
            ItemIn(subject="hashtag", external_id=tag, keys=[f"#{tag}"], regions=["BR", "MX"])
            for tag in ("blackoutchallenge", "desafiodoapagao")
        ],
        now - timedelta(minutes=200),
    )
    action = enforcement.plan(
        session,
        principal,
        key,
        ActionIn.model_validate(
            {
                "action": "search_intervention",
                "selector": {"scope": "cluster", "subjects": ["hashtag"]},
                "policy_section": "DC-1",
                "explanation": "Searches for the challenge show safety resources instead.",
            }
        ),
        now - timedelta(minutes=190),
        approval_threshold=1000,
    )
    enforcement.start(session, principal, key, action.id, now - timedelta(minutes=189))
    enforcement.run_batch(session, action.id, now - timedelta(minutes=188), 500)
