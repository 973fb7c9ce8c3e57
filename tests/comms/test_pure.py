"""The pure comms modules: templates, Slack formatting, cadence arithmetic, disclosure checks,
targets and signatures. No database, no network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import UndefinedError
from jinja2.exceptions import SecurityError

from rapidresponse.comms import cadence, slack, templates
from rapidresponse.comms.approvals import (
    ApprovalFunction,
    NotAllowed,
    check_editable,
    check_publish,
    missing_approvals,
    second_hat,
    standing,
)
from rapidresponse.comms.channels import Channel, masked, normalise_target
from rapidresponse.comms.disclosure import restricted_details
from rapidresponse.comms.facts import internal_facts, public_facts
from rapidresponse.comms.signing import signature, verify
from rapidresponse.incidents.schemas import IncidentOut, ParticipantOut, TaskOut, TimelineOut

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def incident_out(**overrides: Any) -> IncidentOut:
    data: dict[str, Any] = {
        "key": "INC-2026-0007",
        "title": "Blackout challenge spreading among teens",
        "summary": "Uploader @teen_star123 started it; account 4455667788 is the origin.",
        "harm_type": "dangerous_challenges",
        "dsa_category": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "regions": ["US", "GB", "KR"],
        "languages": ["en"],
        "surfaces": ["feed", "live"],
        "tags": [],
        "restricted": False,
        "status": "contained",
        "severity": {
            "level": "SEV0",
            "computed": "SEV0",
            "score": 14,
            "points": {},
            "explanation": "score 14",
            "override": None,
            "override_reason": None,
        },
        "impact": {
            "views": 1_234_567,
            "views_per_hour": 89_000,
            "minors_involved": True,
            "regulatory_exposure": "deadline",
            "press_attention": "major",
        },
        "times": {
            "started_at": None,
            "detected_at": T0,
            "declared_at": T0,
            "triaged_at": T0,
            "active_at": T0,
            "contained_at": T0 + timedelta(hours=2),
            "resolved_at": None,
            "closed_at": None,
            "declined_at": None,
            "merged_at": None,
            "time_to_detect_s": None,
            "time_to_acknowledge_s": 0.0,
            "time_to_contain_s": 7200.0,
            "time_to_resolve_s": None,
        },
        "merged_into": None,
        "created_by": "dana",
        "updated_at": T0,
        "version": 3,
    }
    data.update(overrides)
    return IncidentOut.model_validate(data)


def facts_for(incident: IncidentOut) -> dict[str, Any]:
    people = [
        ParticipantOut(
            id=1, user="dana", role="incident_commander", added_at=T0, added_by="x", removed_at=None
        ),
        ParticipantOut(
            id=2, user="priya", role="communications", added_at=T0, added_by="x", removed_at=None
        ),
        ParticipantOut(
            id=3, user="old-legal", role="legal", added_at=T0, added_by="x", removed_at=T0
        ),
    ]
    tasks = [
        TaskOut(
            id=1,
            title="Add search interstitial",
            description="",
            owner="sam",
            due_at=T0 + timedelta(hours=1),
            status="open",
            overdue=True,
            created_at=T0,
            created_by="x",
            completed_at=None,
            version=1,
        ),
        TaskOut(
            id=2,
            title="Hash the clips",
            description="",
            owner=None,
            due_at=None,
            status="done",
            overdue=False,
            created_at=T0,
            created_by="x",
            completed_at=T0,
            version=2,
        ),
    ]
    decisions = [
        TimelineOut(
            id=9, at=T0, actor="dana", kind="decision", text="Reduce reach of #blackout", data={}
        )
    ]
    return internal_facts(
        incident,
        people,
        tasks,
        decisions,
        now=T0 + timedelta(hours=3),
        update_number=4,
        next_update_due_at=T0 + timedelta(hours=3, minutes=30),
        link="https://rr.example/incidents/INC-2026-0007",
    )


# ---------------------------------------------------------------- templates


def test_internal_update_carries_the_live_facts_in_utc():
    rendered = templates.render("internal_update", facts_for(incident_out()))
    assert rendered.title == (
        "[SEV0] INC-2026-0007 update #4: Blackout challenge spreading among teens"
    )
    body = rendered.body
    assert "**As of:** 2026-11-25 13:00 UTC" in body
    assert "Views so far: 1,234,567 (89,000 per hour)" in body
    assert "Minors involved: yes" in body
    assert "Tasks: 1 open (1 overdue, 0 blocked), 1 done" in body
    assert "OVERDUE: Add search interstitial (owner sam, due 2026-11-25 11:00 UTC)" in body
    assert "Incident commander: dana" in body
    assert "Communications: priya" in body
    assert "Legal: unassigned" in body  # removed people no longer count
    assert "- Contained: 2026-11-25 12:00 UTC" in body
    assert "Resolved:" not in body
    assert "Next update due: 2026-11-25 13:30 UTC" in body


def test_executive_summary_is_short_and_names_regions_in_words():
    rendered = templates.render("executive_summary", facts_for(incident_out()))
    assert "in United States, United Kingdom and South Korea" in rendered.body
    assert "1 of 2 tasks done, 1 overdue" in rendered.body
    assert "Reduce reach of #blackout (dana, 10:00 UTC)" in rendered.body
    assert len(rendered.body.splitlines()) < 20


def test_external_statement_is_written_from_public_facts_only():
    incident = incident_out()
    context = public_facts(incident, now=T0 + timedelta(hours=3))
    rendered = templates.render("external_statement", context)
    text = rendered.title + rendered.body
    assert rendered.title == "Statement on a dangerous challenge on our platform"
    assert "has been contained" in text
    assert "help is available" in text  # safe-messaging: challenges that hurt people
    for secret in (
        "INC-2026-0007",
        "@teen_star123",
        "4455667788",
        "Blackout",
        "dana",
        "priya",
        "1,234,567",
        "deadline",
    ):
        assert secret not in text, secret
    assert (
        restricted_details(text, handles=["dana", "priya"], internal_texts=[incident.summary]) == []
    )


def test_templates_fail_loudly_on_a_missing_fact():
    context = facts_for(incident_out())
    del context["incident"]["impact"]
    with pytest.raises(UndefinedError, match="impact"):
        templates.render("internal_update", context)
    with pytest.raises(UndefinedError):
        templates.render_source("# {{ incident.nickname }}\nbody", facts_for(incident_out()))
    public = public_facts(incident_out(), now=T0)
    del public["harm"]
    with pytest.raises(UndefinedError):
        templates.render("external_statement", public)


def test_templates_run_in_a_sandbox():
    with pytest.raises(SecurityError):
        templates.render_source("# t\n{{ now.__class__.__mro__ }}", {"now": T0})
    with pytest.raises(ValueError, match="title"):
        templates.render_source("no heading", {})


# ---------------------------------------------------------------- slack


def test_slack_message_translates_markdown_and_escapes():
    document = slack.message(
        "Update",
        "# Heading\n**bold** & <script> [room](https://x.example/a)\n- one\n- two",
        incident_key="INC-1",
    )
    section = document["blocks"][1]["text"]["text"]
    assert section == (
        "*Heading*\n*bold* &amp; &lt;script&gt; <https://x.example/a|room>\n• one\n• two"
    )
    assert document["blocks"][-1]["elements"][0]["text"] == "*INC-1*"


def test_slack_message_respects_block_limits():
    body = "\n\n".join("p" * 2500 for _ in range(80)) + "\n\n" + "x" * 7000
    document = slack.message("s" * 400, body)
    blocks = document["blocks"]
    assert len(blocks) <= slack.MAX_BLOCKS
    assert len(blocks[0]["text"]["text"]) == slack.HEADER_LIMIT
    assert all(len(b["text"]["text"]) <= slack.SECTION_LIMIT for b in blocks[1:])
    assert "truncated" in blocks[-1]["text"]["text"]
    assert len(document["text"]) <= slack.FALLBACK_LIMIT


@given(st.text(max_size=12_000))
def test_slack_sections_never_exceed_the_limit(body: str):
    for block in slack.message("subject", body)["blocks"][1:]:
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= slack.SECTION_LIMIT


# ---------------------------------------------------------------- cadence


def test_update_due_counts_from_the_last_update_or_the_start():
    every = timedelta(minutes=30)
    assert cadence.update_due_at(every, T0, None) == T0 + every
    later = T0 + timedelta(minutes=20)
    assert cadence.update_due_at(every, T0, later) == later + every
    # A cadence restarted after a long silence gives people one interval to write.
    assert cadence.update_due_at(every, later, T0) == later + every


def test_one_reminder_per_interval_while_overdue():
    every, due = timedelta(minutes=30), T0 + timedelta(minutes=30)
    assert not cadence.reminder_due(due - timedelta(seconds=1), due, None, every)
    assert cadence.reminder_due(due, due, None, every)
    assert cadence.next_check_at(T0, due, None, every) == due
    reminded = due + timedelta(minutes=2)
    assert not cadence.reminder_due(reminded + timedelta(minutes=5), due, reminded, every)
    assert cadence.next_check_at(reminded, due, reminded, every) == reminded + every
    assert cadence.reminder_due(reminded + every, due, reminded, every)
    # A reminder from before the current due time does not silence the new one.
    assert cadence.reminder_due(due, due, due - timedelta(minutes=40), every)


@given(
    st.integers(min_value=1, max_value=600),
    st.integers(min_value=0, max_value=24 * 60),
    st.lists(st.integers(min_value=1, max_value=90), max_size=40),
)
def test_checking_often_never_reminds_more_than_once_per_interval(
    every_min: int, silence_min: int, steps: list[int]
):
    every = timedelta(minutes=every_min)
    due = T0 + timedelta(minutes=silence_min)
    now, last, times = T0, None, []
    for step in steps:
        now += timedelta(minutes=step)
        if cadence.reminder_due(now, due, last, every):
            times.append(now)
            last = now
        assert cadence.next_check_at(now, due, last, every) >= now
    assert all(t >= due for t in times)
    assert all(b - a >= every for a, b in pairwise(times))


def test_cadence_bounds_and_wording():
    with pytest.raises(ValueError, match="between"):
        cadence.check_every(timedelta(seconds=59))
    assert cadence.describe_every(timedelta(minutes=90)) == "1 h 30 min"
    assert cadence.describe_every(timedelta(days=1)) == "1 d"


# ---------------------------------------------------------------- approvals


def test_approval_rules():
    assert missing_approvals([]) == [ApprovalFunction.PR, ApprovalFunction.LEGAL]
    assert missing_approvals([(ApprovalFunction.LEGAL, "l")]) == [ApprovalFunction.PR]
    assert second_hat(ApprovalFunction.LEGAL, "ann", [(ApprovalFunction.PR, "ann")]) is (
        ApprovalFunction.PR
    )
    assert second_hat(ApprovalFunction.LEGAL, "bob", [(ApprovalFunction.PR, "ann")]) is None
    assert standing(ApprovalFunction.PR, is_admin=False, held_roles={"communications"}).allowed
    assert not standing(ApprovalFunction.PR, is_admin=False, held_roles={"legal"}).allowed
    as_admin = standing(ApprovalFunction.LEGAL, is_admin=True, held_roles=set())
    assert (as_admin.allowed, as_admin.on_behalf) == (True, True)
    with pytest.raises(NotAllowed, match="missing: PR"):
        check_publish("external_statement", "pending_approval", [ApprovalFunction.PR])
    with pytest.raises(NotAllowed):
        check_editable("internal_update", "sent")
    check_editable("external_statement", "approved")  # allowed: it voids the approvals


# ---------------------------------------------------------------- disclosure


def test_disclosure_findings_name_what_was_found():
    text = (
        "Contact priya@corp.example. The account @raider_01 (user id 123456789) posted it; "
        "see INC-2026-0001. Dana is on it. We removed clips from the feed at 10:00 on 2026-11-25."
    )
    findings = restricted_details(
        text,
        handles=["dana", "pr"],
        internal_texts=["We removed clips from the feed at 10:00 on 2026-11-25. Fine."],
    )
    joined = " | ".join(findings)
    for expected in (
        "priya@corp.example",
        "@raider_01",
        "123456789",
        "user id",
        "INC-2026-0001",
        "(dana)",
        "internal wording",
    ):
        assert expected in joined
    assert "(pr)" not in joined  # two-letter handles would match ordinary words
    assert restricted_details("Call 0800 123 456 or visit example.org.") == []


# ---------------------------------------------------------------- targets and signatures


def test_targets_are_normalised_or_refused():
    assert normalise_target(Channel.EMAIL, " Ops@Example.ORG ") == "Ops@example.org"
    for bad in ("ops@", "ops example.org", "a@b.org\nBcc: x@y.org", "<a@b.org>"):
        with pytest.raises(ValueError, match="e-mail address"):
            normalise_target(Channel.EMAIL, bad)
    for bad in ("file:///etc/passwd", "https://", "https://x.example/a b"):
        with pytest.raises(ValueError, match="URL"):
            normalise_target(Channel.WEBHOOK, bad)
    assert masked("slack", "https://hooks.slack.com/services/T0/B0/SECRETabcd") == (
        "https://hooks.slack.com/…abcd"
    )
    assert masked("email", "a@b.org") == "a@b.org"


def test_signature_is_hmac_sha256_of_the_raw_body():
    import hashlib
    import hmac

    body = b'{"a":1}'
    expected = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert signature("k", body) == f"sha256={expected}"
    assert verify("k", body, f"sha256={expected}")
    assert not verify("k", body + b" ", f"sha256={expected}")
    assert not verify("k", body, None)
