"""The planner: severity- and region-dependent steps, additive re-planning, due times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rapidresponse.incidents.schemas import ParticipantRole
from rapidresponse.incidents.severity import Severity
from rapidresponse.playbooks.loader import LIBRARY, load_directories
from rapidresponse.playbooks.planner import applies, blocked_steps, plan

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PLAYBOOKS = {p.id: p for p in load_directories([LIBRARY])}
VE = PLAYBOOKS["violent-extremism"]


def steps(result) -> list[str]:
    return [t.step for t in result.new_tasks]


def test_severity_ordering():
    assert applies(Severity.SEV3, Severity.SEV0)
    assert applies(Severity.SEV1, Severity.SEV1)
    assert not applies(Severity.SEV0, Severity.SEV1)


def test_sev0_plan_is_complete_and_sev3_plan_small():
    sev0 = plan(
        VE, severity=Severity.SEV0, regions={"US"}, planned_steps={}, filled_roles=set(), now=T0
    )
    sev3 = plan(
        VE, severity=Severity.SEV3, regions={"US"}, planned_steps={}, filled_roles=set(), now=T0
    )
    assert set(steps(sev3)) < set(steps(sev0))
    assert "exec-briefing" in steps(sev0)
    assert "exec-briefing" not in steps(sev3)
    assert sev0.cadence == timedelta(minutes=30)
    assert sev3.cadence == timedelta(days=1)
    assert {r.role for r in sev0.roles_needed} > {r.role for r in sev3.roles_needed}


def test_due_times_count_from_now_and_tasks_come_in_due_order():
    result = plan(
        VE, severity=Severity.SEV1, regions={"US"}, planned_steps={}, filled_roles=set(), now=T0
    )
    by_step = {t.step: t for t in result.new_tasks}
    assert by_step["stop-live-stream"].due_at == T0 + timedelta(minutes=15)
    assert by_step["hash-footage"].due_at == T0 + timedelta(minutes=45)
    assert by_step["hash-footage"].after == ("preserve-evidence",)
    assert [t.due_at for t in result.new_tasks] == sorted(t.due_at for t in result.new_tasks)
    assert "Why:" in by_step["stop-live-stream"].description


def test_regulatory_checks_follow_the_regions_including_the_eu_group():
    eu = plan(
        VE, severity=Severity.SEV1, regions={"DE"}, planned_steps={}, filled_roles=set(), now=T0
    )
    us = plan(
        VE, severity=Severity.SEV1, regions={"US"}, planned_steps={}, filled_roles=set(), now=T0
    )
    au = plan(
        VE, severity=Severity.SEV1, regions={"AU"}, planned_steps={}, filled_roles=set(), now=T0
    )
    assert "check-eu-tco-removal-order" in steps(eu)
    assert not any(s.startswith("check-eu") for s in steps(us))
    assert "check-au-abhorrent-violent-material" in steps(au)
    tco = next(t for t in eu.new_tasks if t.step == "check-eu-tco-removal-order")
    assert tco.owner_role is ParticipantRole.LEGAL


def test_replanning_after_escalation_adds_only_the_new_steps_due_from_then():
    first = plan(
        VE, severity=Severity.SEV2, regions={"US"}, planned_steps={}, filled_roles=set(), now=T0
    )
    statuses = dict.fromkeys(steps(first), "open") | {"stop-live-stream": "done"}
    later = T0 + timedelta(hours=3)
    second = plan(
        VE,
        severity=Severity.SEV0,
        regions={"US"},
        planned_steps=statuses,
        filled_roles={ParticipantRole.INCIDENT_COMMANDER},
        now=later,
    )
    assert not set(steps(second)) & set(statuses)  # nothing planned twice
    assert "exec-briefing" in steps(second)
    exec_briefing = next(t for t in second.new_tasks if t.step == "exec-briefing")
    assert exec_briefing.due_at == later + timedelta(minutes=30)
    assert "stop-live-stream" in second.kept_steps
    assert ParticipantRole.INCIDENT_COMMANDER not in {r.role for r in second.open_roles}


def test_de_escalation_reports_open_steps_instead_of_cancelling_them():
    sev0 = plan(
        VE, severity=Severity.SEV0, regions={"US"}, planned_steps={}, filled_roles=set(), now=T0
    )
    statuses = dict.fromkeys(steps(sev0), "open") | {"exec-briefing": "done"}
    sev3 = plan(
        VE,
        severity=Severity.SEV3,
        regions={"US"},
        planned_steps=statuses,
        filled_roles=set(),
        now=T0,
    )
    assert sev3.new_tasks == []
    assert "holding-statement" in sev3.no_longer_applicable
    assert "exec-briefing" not in sev3.no_longer_applicable  # done work is not "to stop"


@settings(max_examples=60)
@given(
    severity=st.sampled_from(list(Severity)),
    regions=st.sets(st.sampled_from(["US", "DE", "FR", "GB", "AU", "IN", "BR", "JP"]), min_size=1),
    done=st.sets(st.sampled_from([t.id for t in VE.tasks])),
)
def test_planning_is_idempotent_and_monotone_in_severity(severity, regions, done):
    for playbook in PLAYBOOKS.values():
        first = plan(
            playbook,
            severity=severity,
            regions=regions,
            planned_steps={},
            filled_roles=set(),
            now=T0,
        )
        planned = {s: ("done" if s in done else "open") for s in steps(first)}
        again = plan(
            playbook,
            severity=severity,
            regions=regions,
            planned_steps=planned,
            filled_roles=set(),
            now=T0 + timedelta(hours=1),
        )
        assert again.new_tasks == []
        assert set(again.kept_steps) == set(planned)
        more_severe = [s for s in Severity if s.rank <= severity.rank]
        for other in more_severe:
            bigger = plan(
                playbook,
                severity=other,
                regions=regions,
                planned_steps={},
                filled_roles=set(),
                now=T0,
            )
            assert set(steps(first)) <= set(steps(bigger))


def test_blocked_steps():
    after = {"hash": ("preserve",), "block": ("hash",), "share": ("hash",)}
    assert blocked_steps(after, {"preserve": "open", "hash": "open", "block": "open"}) == {
        "hash",
        "block",
    }
    assert blocked_steps(after, {"preserve": "done", "hash": "open", "block": "open"}) == {"block"}
    assert blocked_steps(after, {"preserve": "done", "hash": "done", "block": "open"}) == set()
    assert blocked_steps(after, {"hash": "open"}) == set()  # an unplanned dependency blocks nothing
