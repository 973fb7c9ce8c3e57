"""Routing an incident to its teams and paging their policies, once per incident and policy."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from rapidresponse.db import transaction
from rapidresponse.errors import Conflict, Forbidden, InvalidInput
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.schemas import IncidentCreate, IncidentPatch
from rapidresponse.incidents.severity import Severity
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.oncall import service
from rapidresponse.oncall.model import Page, PageNotification
from rapidresponse.oncall.schemas import (
    PersonPatch,
    PolicyCreate,
    RuleCreate,
    RulePatch,
    TeamCreate,
)
from tests.conftest import MANAGER, RESPONDER, VIEWER, incident_body
from tests.oncall.follow_the_sun import utc


def policy(slug: str, person: str) -> PolicyCreate:
    return PolicyCreate.model_validate(
        {"slug": slug, "name": slug, "levels": [{"targets": [{"person": person}]}]}
    )


@pytest.fixture
def routed(db, clock, follow_the_sun) -> None:
    """T&S pages the follow-the-sun schedule; legal and PR have their own on-call people."""
    with transaction(db) as session:
        now = clock.now()
        service.create_policy(session, MANAGER, policy("legal-oncall", "dee"), now)
        service.create_policy(session, MANAGER, policy("pr-oncall", "ann"), now)
        for slug, function, members, default in (
            ("ts-ops", "trust_safety", ["sid", "dee", "ann"], "ts-primary"),
            ("legal", "legal", ["dee"], "legal-oncall"),
            ("pr", "pr", ["ann"], "pr-oncall"),
            ("br-experts", "regional_expert", ["abe"], None),
        ):
            service.create_team(
                session,
                MANAGER,
                TeamCreate.model_validate(
                    {
                        "slug": slug,
                        "name": slug,
                        "function": function,
                        "members": members,
                        "escalation_policy": default,
                        "schedule": "ts-follow-the-sun" if slug == "ts-ops" else None,
                    }
                ),
                now,
            )
        for body in (
            {"name": "T&S always", "teams": ["ts-ops"]},
            {
                "name": "Terror SEV1+ in the EU",
                "position": 10,
                "harm_types": ["violent_extremism"],
                "min_severity": "SEV1",
                "regions": ["EU"],
                "teams": ["legal", "pr"],
            },
            {"name": "Brazil", "position": 20, "regions": ["BR"], "teams": ["br-experts"]},
        ):
            service.create_rule(session, MANAGER, RuleCreate.model_validate(body), now)


def declare(db, clock, **overrides) -> str:
    with transaction(db) as session:
        return incidents.declare(
            session, MANAGER, IncidentCreate.model_validate(incident_body(**overrides)), clock.now()
        ).key


def counts(db) -> tuple[int, int]:
    with transaction(db) as session:
        return (
            session.scalar(select(func.count()).select_from(Page)) or 0,
            session.scalar(select(func.count()).select_from(PageNotification)) or 0,
        )


def test_routing_picks_teams_by_harm_severity_and_region(db, clock, routed):
    with transaction(db) as session:
        sev1_eu = service.preview_routing(
            session, HarmType.VIOLENT_EXTREMISM, Severity.SEV1, ["DE"], utc(2026, 3, 17, 9)
        )
        sev2_eu = service.preview_routing(
            session, HarmType.VIOLENT_EXTREMISM, Severity.SEV2, ["DE"], utc(2026, 3, 17, 9)
        )
        sev0_us = service.preview_routing(
            session, HarmType.VIOLENT_EXTREMISM, Severity.SEV0, ["US"], utc(2026, 3, 17, 9)
        )
        brazil = service.preview_routing(
            session, HarmType.HATE_SPEECH, Severity.SEV3, ["BR"], utc(2026, 3, 17, 9)
        )
    assert [(e.team, e.escalation_policy) for e in sev1_eu.engagements] == [
        ("ts-ops", "ts-primary"),
        ("legal", "legal-oncall"),
        ("pr", "pr-oncall"),
    ]
    # Who would be paged first at that moment: the holiday backup for Dublin.
    assert [r.person for r in sev1_eu.engagements[0].first_responders] == ["bea"]
    assert [e.team for e in sev2_eu.engagements] == ["ts-ops"]
    assert [e.team for e in sev0_us.engagements] == ["ts-ops"]
    assert [(e.team, e.escalation_policy) for e in brazil.engagements] == [
        ("ts-ops", "ts-primary"),
        ("br-experts", None),  # engaged, but nobody to page: visible, not silently dropped
    ]


def test_engaging_an_incident_pages_each_policy_once_however_often_it_is_replanned(
    db, clock, routed
):
    clock.set(utc(2026, 3, 17, 9))
    key = declare(
        db, clock, regions=["DE", "FR"], impact={"views": 5_000_000, "views_per_hour": 200_000}
    )
    with transaction(db) as session:
        first = service.engage_for_incident(session, RESPONDER, key, clock.now())
    assert first.severity in (Severity.SEV0, Severity.SEV1)
    assert [p.escalation_policy for p in first.pages] == ["ts-primary", "legal-oncall", "pr-oncall"]
    pages, notes = counts(db)
    assert pages == 3
    with transaction(db) as session:
        again = service.engage_for_incident(session, RESPONDER, key, clock.now())
    assert [p.created for p in again.pages] == [False, False, False]
    assert [p.page_id for p in again.pages] == [p.page_id for p in first.pages]
    assert counts(db) == (pages, notes)  # nobody was paged twice

    # Re-planning after a change that engages more teams pages only what is new.
    with transaction(db) as session:
        service.create_policy(session, MANAGER, policy("br-oncall", "abe"), clock.now())
        [brazil] = [r for r in service.list_rules(session) if r.name == "Brazil"]
        service.update_rule(
            session, MANAGER, brazil.id, RulePatch(escalation_policy="br-oncall"), clock.now()
        )
        incident = incidents.get_incident(session, MANAGER, key)
        incidents.update(
            session,
            MANAGER,
            key,
            IncidentPatch(regions=["DE", "BR"]),
            incident.version,
            clock.now(),
        )
    with transaction(db) as session:
        third = service.engage_for_incident(session, RESPONDER, key, clock.now())
    assert [(p.escalation_policy, p.created) for p in third.pages] == [
        ("ts-primary", False),
        ("legal-oncall", False),
        ("pr-oncall", False),
        ("br-oncall", True),
    ]
    assert counts(db)[0] == 4


def test_engaging_needs_a_responder_who_can_see_the_incident(db, clock, routed):
    key = declare(db, clock)
    with transaction(db) as session, pytest.raises(Forbidden):
        service.engage_for_incident(session, VIEWER, key, clock.now())


def test_references_are_checked_and_in_use_things_are_not_deleted(db, clock, routed):
    with transaction(db) as session, pytest.raises(InvalidInput, match="no team 'nobody'"):
        service.create_rule(
            session,
            MANAGER,
            RuleCreate(name="bad", teams=["nobody"]),
            clock.now(),
        )
    with transaction(db) as session, pytest.raises(Conflict, match="routing rules engage"):
        service.delete_team(session, MANAGER, "legal", clock.now())
    with transaction(db) as session, pytest.raises(Conflict, match="used by team legal"):
        service.delete_policy(session, MANAGER, "legal-oncall", clock.now())
    with transaction(db) as session, pytest.raises(Conflict, match="ts-primary"):
        service.delete_schedule(session, MANAGER, "ts-follow-the-sun", clock.now())
    with transaction(db) as session, pytest.raises(Conflict, match="still on call"):
        service.update_person(session, MANAGER, "sid", PersonPatch(active=False), clock.now())
