"""A demo on-call directory: a follow-the-sun Trust & Safety team and the functions it calls.

Austin, Dublin and Singapore each cover their working day (Dublin is off on Irish public
holidays, when a London backup covers); Legal, Communications, Public Policy, Engineering,
regional experts and an executive sponsor each have a round-the-clock rotation. People get
no external contact addresses, so the demo records pages without e-mailing anyone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from rapidresponse.auth.policy import Principal
from rapidresponse.oncall import service as oncall
from rapidresponse.oncall.schemas import (
    PersonCreate,
    PolicyCreate,
    RuleCreate,
    ScheduleCreate,
    TeamCreate,
)

PEOPLE = {
    "amira.ic": ("Amira Haddad", "Europe/Dublin"),
    "ann.austin": ("Ann Lopez", "America/Chicago"),
    "abe.austin": ("Abe Turner", "America/Chicago"),
    "dee.dublin": ("Dee Murphy", "Europe/Dublin"),
    "dan.dublin": ("Dan Byrne", "Europe/Dublin"),
    "sam.sg": ("Sam Tan", "Asia/Singapore"),
    "sid.sg": ("Sid Lim", "Asia/Singapore"),
    "bea.london": ("Bea Clarke", "Europe/London"),
    "jonas.legal": ("Jonas Weber", "Europe/Berlin"),
    "mei.comms": ("Mei Chen", "Europe/Dublin"),
    "paul.policy": ("Paul Martin", "Europe/Brussels"),
    "tom.eng": ("Tom Novak", "Europe/Dublin"),
    "lea.ops": ("Lea Fischer", "Europe/Berlin"),
    "rina.regional": ("Rina Sato", "Asia/Tokyo"),
    "vera.exec": ("Vera Ross", "America/Chicago"),
}


def _always(slug: str, name: str, people: list[str], start: str) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": name,
        "layers": [
            {
                "name": "weekly",
                "position": 0,
                "participants": people,
                "rotation_unit": "weeks",
                "handoff_time": "09:00",
                "timezone": "UTC",
                "starts_on": start,
            }
        ],
    }


def seed_directory(session: Session, principal: Principal, now: datetime) -> None:
    start = (now - timedelta(days=now.weekday() + 7)).date().isoformat()  # a recent Monday
    for handle, (name, zone) in PEOPLE.items():
        oncall.create_person(
            session, principal, PersonCreate(handle=handle, name=name, timezone=zone), now
        )
    region = {"rotation_unit": "days", "starts_on": start}
    oncall.create_schedule(
        session,
        principal,
        ScheduleCreate.model_validate(
            {
                "slug": "ts-follow-the-sun",
                "name": "Trust & Safety follow the sun",
                "layers": [
                    {
                        "name": "base",
                        "position": 0,
                        "participants": ["lea.ops"],
                        "rotation_unit": "weeks",
                        "timezone": "UTC",
                        "starts_on": start,
                    },
                    {
                        "name": "singapore",
                        "position": 10,
                        "participants": ["sam.sg", "sid.sg"],
                        "handoff_time": "08:00",
                        "timezone": "Asia/Singapore",
                        **region,
                        "restrictions": [{"days": ["daily"], "start": "08:00", "end": "16:00"}],
                    },
                    {
                        "name": "dublin",
                        "position": 20,
                        "participants": ["dee.dublin", "dan.dublin"],
                        "handoff_time": "08:00",
                        "timezone": "Europe/Dublin",
                        **region,
                        "restrictions": [{"days": ["daily"], "start": "08:00", "end": "16:00"}],
                        "holiday_country": "IE",
                        "covers_holidays": False,
                        "backup_layer": "london-backup",
                    },
                    {
                        "name": "austin",
                        "position": 30,
                        "participants": ["ann.austin", "abe.austin"],
                        "handoff_time": "10:00",
                        "timezone": "America/Chicago",
                        **region,
                        "restrictions": [{"days": ["daily"], "start": "10:00", "end": "18:00"}],
                    },
                    {
                        "name": "london-backup",
                        "position": 5,
                        "participants": ["bea.london"],
                        "rotation_unit": "weeks",
                        "timezone": "Europe/London",
                        "starts_on": start,
                        "backup_only": True,
                    },
                ],
            }
        ),
        now,
    )
    for slug, name, people in (
        ("legal-oncall", "Legal on call", ["jonas.legal"]),
        ("comms-oncall", "Communications on call", ["mei.comms"]),
        ("policy-oncall", "Public policy on call", ["paul.policy"]),
        ("eng-oncall", "Integrity engineering on call", ["tom.eng"]),
        ("regional-oncall", "Regional experts on call", ["rina.regional"]),
        ("exec-oncall", "Executive sponsor", ["vera.exec"]),
    ):
        oncall.create_schedule(
            session,
            principal,
            ScheduleCreate.model_validate(_always(slug, name, people, start)),
            now,
        )
    oncall.create_policy(
        session,
        principal,
        PolicyCreate.model_validate(
            {
                "slug": "ts-escalation",
                "name": "Trust & Safety",
                "repeat": 1,
                "levels": [
                    {"wait_minutes": 15, "targets": [{"schedule": "ts-follow-the-sun"}]},
                    {"wait_minutes": 15, "targets": [{"person": "amira.ic"}]},
                ],
            }
        ),
        now,
    )
    oncall.create_policy(
        session,
        principal,
        PolicyCreate.model_validate(
            {
                "slug": "exec-escalation",
                "name": "Executive sponsor",
                "levels": [{"wait_minutes": 30, "targets": [{"schedule": "exec-oncall"}]}],
            }
        ),
        now,
    )
    teams = (
        (
            "ts",
            "Trust & Safety",
            "trust_safety",
            "ts-follow-the-sun",
            "ts-escalation",
            [
                "ann.austin",
                "abe.austin",
                "dee.dublin",
                "dan.dublin",
                "sam.sg",
                "sid.sg",
                "bea.london",
                "lea.ops",
            ],
        ),
        ("legal", "Legal", "legal", "legal-oncall", None, ["jonas.legal"]),
        ("comms", "Communications", "pr", "comms-oncall", None, ["mei.comms"]),
        ("policy", "Public Policy", "public_policy", "policy-oncall", None, ["paul.policy"]),
        ("integrity-eng", "Integrity Engineering", "engineering", "eng-oncall", None, ["tom.eng"]),
        (
            "regional",
            "Regional experts",
            "regional_expert",
            "regional-oncall",
            None,
            ["rina.regional"],
        ),
        ("exec", "Executives", "executive", "exec-oncall", "exec-escalation", ["vera.exec"]),
    )
    for slug, name, function, schedule, policy, members in teams:
        oncall.create_team(
            session,
            principal,
            TeamCreate.model_validate(
                {
                    "slug": slug,
                    "name": name,
                    "function": function,
                    "members": members,
                    "schedule": schedule,
                    "escalation_policy": policy,
                }
            ),
            now,
        )
    oncall.create_rule(
        session,
        principal,
        RuleCreate.model_validate(
            {
                "name": "severe incidents page Trust & Safety",
                "min_severity": "SEV1",
                "teams": ["ts"],
                "escalation_policy": "ts-escalation",
            }
        ),
        now,
    )
