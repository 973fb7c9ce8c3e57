"""Obligations for an incident: which rules apply, when each falls due, and where it stands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapidresponse.compliance.obligations import (
    WARN_MAX,
    WARN_MIN,
    ObligationState,
    TriggerFact,
    add_period,
    matched_regions,
    obligation_state,
    plan_obligations,
    rule_applies,
    time_left,
    warning_time,
)
from rapidresponse.compliance.rulebook import (
    DeadlineBasis,
    DraftKind,
    TriggerKind,
    shipped_rulebook,
)
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.incidents.validation import EEA_STATES, EU_MEMBER_STATES

RULEBOOK = shipped_rulebook()
TEN = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return TEN.replace(hour=hour, minute=minute, second=second)


def plans_for(harm_type, kind, regions, when=TEN, trigger_id=1):
    fact = TriggerFact(trigger_id, kind, when, tuple(regions))
    return {plan.rule_id: plan for plan in plan_obligations(RULEBOOK, harm_type, [fact])}


def test_csam_confirmed_in_us_and_de_means_an_ncmec_report_and_a_year_of_preservation():
    plans = plans_for(HarmType.CHILD_SEXUAL_EXPLOITATION, TriggerKind.CSAM_CONFIRMED, ["US", "DE"])
    assert set(plans) == {"us-2258a-cybertipline-report", "us-2258a-preserve"}

    report = plans["us-2258a-cybertipline-report"]
    rule = RULEBOOK.get(report.rule_id)
    assert report.regions == ("US",)  # DE matched no CSAM-reporting rule
    assert report.basis is DeadlineBasis.INTERNAL_TARGET  # "as soon as reasonably possible"
    assert report.due_at == TEN + rule.clock == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert rule.draft is DraftKind.NCMEC_CYBERTIPLINE
    assert report.retain_until is None

    preserve = plans["us-2258a-preserve"]
    assert preserve.retain_until == datetime(2027, 11, 25, 10, 0, tzinfo=UTC)
    assert preserve.trigger_id == 1


def test_csam_in_the_uk_adds_the_nca_report():
    plans = plans_for(HarmType.CHILD_SEXUAL_EXPLOITATION, TriggerKind.CSAM_CONFIRMED, ["GB", "US"])
    assert set(plans) == {
        "us-2258a-cybertipline-report",
        "us-2258a-preserve",
        "gb-osa-s66-nca-report",
    }
    assert plans["gb-osa-s66-nca-report"].regions == ("GB",)


def test_terrorist_removal_order_at_ten_is_due_at_eleven_and_breached_at_one_minute_past():
    plans = plans_for(
        HarmType.VIOLENT_EXTREMISM, TriggerKind.TERRORIST_REMOVAL_ORDER, ["DE"], when=TEN
    )
    removal = plans["eu-tco-art3-removal"]
    assert (removal.due_at, removal.basis, removal.regions) == (
        at(11),
        DeadlineBasis.STATUTORY,
        ("DE",),
    )
    assert removal.warn_at == at(10, 45)  # a quarter of the hour before

    def state(now, done=None):
        return obligation_state(removal.due_at, removal.warn_at, done, now)

    assert state(at(10, 30)) is ObligationState.OPEN
    assert state(at(10, 45)) is ObligationState.DUE_SOON
    assert state(at(11)) is ObligationState.DUE_SOON
    assert state(at(11, 0, 1)) is ObligationState.BREACHED
    assert state(at(11, 1)) is ObligationState.BREACHED
    assert state(at(11, 1), done=at(10, 50)) is ObligationState.MET
    assert state(at(11, 1), done=at(11)) is ObligationState.MET
    assert state(at(11, 30), done=at(11, 5)) is ObligationState.MET_LATE
    assert time_left(removal.due_at, at(11, 1)) == timedelta(minutes=-1)
    # The same order also requires preservation for six months and a reply to the authority.
    assert plans["eu-tco-art6-preserve"].retain_until == datetime(2027, 5, 25, 10, tzinfo=UTC)
    assert plans["eu-tco-art3-inform-authority"].basis is DeadlineBasis.INTERNAL_TARGET


def test_a_waived_obligation_stays_waived():
    assert obligation_state(at(11), at(10, 45), None, at(12), waived=True) is ObligationState.WAIVED


def test_a_threat_to_life_in_france_is_notified_under_dsa_article_18():
    plans = plans_for(HarmType.SUICIDE_SELF_HARM, TriggerKind.THREAT_TO_LIFE, ["FR"])
    assert set(plans) == {"eu-dsa-art18-threat-to-life"}
    plan = plans["eu-dsa-art18-threat-to-life"]
    assert plan.regions == ("FR",)
    assert plan.basis is DeadlineBasis.INTERNAL_TARGET  # "promptly"
    assert plan.due_at == TEN + RULEBOOK.get(plan.rule_id).clock
    assert RULEBOOK.get(plan.rule_id).draft is DraftKind.LAW_ENFORCEMENT_NOTIFICATION


def test_an_esafety_removal_notice_gives_24_hours_and_only_australian_rules_apply():
    plans = plans_for(HarmType.BULLYING_HARASSMENT, TriggerKind.REMOVAL_ORDER, ["AU"])
    assert set(plans) == {"au-osa-removal-notice"}
    plan = plans["au-osa-removal-notice"]
    assert (plan.due_at, plan.basis) == (TEN + timedelta(hours=24), DeadlineBasis.STATUTORY)
    assert plan.warn_at == plan.due_at - timedelta(hours=4)


def test_the_removal_order_rules_follow_the_issuing_jurisdiction():
    eu = plans_for(HarmType.HATE_SPEECH, TriggerKind.REMOVAL_ORDER, ["FR"])
    assert set(eu) == {"eu-dsa-art9-act-on-order", "eu-dsa-art9-inform-effect"}
    india = plans_for(HarmType.HATE_SPEECH, TriggerKind.REMOVAL_ORDER, ["IN"])
    assert set(india) == {"in-itr-3-1-d-removal", "in-itr-3-1-g-preserve"}


def test_indian_clocks():
    removal = plans_for(HarmType.HATE_SPEECH, TriggerKind.REMOVAL_ORDER, ["IN"])
    assert removal["in-itr-3-1-d-removal"].due_at == at(13)
    assert removal["in-itr-3-1-g-preserve"].retain_until == datetime(2027, 5, 24, 10, tzinfo=UTC)
    intimate = plans_for(HarmType.PRIVACY_DOXXING, TriggerKind.INTIMATE_IMAGERY_COMPLAINT, ["IN"])
    assert intimate["in-itr-3-2-b-intimate-imagery"].due_at == at(12)
    police = plans_for(HarmType.PRIVACY_DOXXING, TriggerKind.LAW_ENFORCEMENT_REQUEST, ["IN"])
    assert police["in-itr-3-1-j-information"].due_at == TEN + timedelta(hours=72)


def test_abhorrent_violent_material_in_australia_means_removal_and_referral():
    plans = plans_for(
        HarmType.VIOLENT_GRAPHIC, TriggerKind.ABHORRENT_VIOLENT_MATERIAL, ["AU", "NZ"]
    )
    assert set(plans) == {"au-criminal-code-474-34-remove-avm", "au-criminal-code-474-33-refer-afp"}
    assert all(plan.regions == ("AU",) for plan in plans.values())


def test_a_restriction_in_the_eu_needs_a_statement_of_reasons_and_a_database_entry():
    plans = plans_for(HarmType.ANIMAL_ABUSE, TriggerKind.CONTENT_RESTRICTED, ["IT", "US"])
    assert set(plans) == {"eu-dsa-art17-statement-of-reasons", "eu-dsa-art24-transparency-database"}
    assert plans_for(HarmType.ANIMAL_ABUSE, TriggerKind.CONTENT_RESTRICTED, ["US"]) == {}


def test_rules_outside_the_trigger_regions_do_not_apply():
    assert plans_for(HarmType.VIOLENT_EXTREMISM, TriggerKind.TERRORIST_REMOVAL_ORDER, ["US"]) == {}
    # Norway is in the EEA but not the EU; the rulebook's EU rules name the EU.
    assert plans_for(HarmType.VIOLENT_EXTREMISM, TriggerKind.TERRORIST_REMOVAL_ORDER, ["NO"]) == {}
    # Codes are matched whatever their case, and each is listed once.
    lower = plans_for(HarmType.VIOLENT_EXTREMISM, TriggerKind.TERRORIST_REMOVAL_ORDER, ["de", "DE"])
    assert lower["eu-tco-art3-removal"].regions == ("DE",)


def test_order_is_by_due_time_then_rule_then_trigger():
    facts = [
        TriggerFact(7, TriggerKind.CSAM_CONFIRMED, TEN, ("US",)),
        TriggerFact(3, TriggerKind.TERRORIST_REMOVAL_ORDER, TEN, ("DE",)),
        TriggerFact(5, TriggerKind.TERRORIST_REMOVAL_ORDER, TEN, ("AT",)),
    ]
    plans = plan_obligations(RULEBOOK, HarmType.VIOLENT_EXTREMISM, facts)
    keys = [(p.due_at, p.rule_id, p.trigger_id) for p in plans]
    assert keys == sorted(keys)
    assert [(p.rule_id, p.trigger_id) for p in plans[:4]] == [
        ("eu-tco-art3-removal", 3),
        ("eu-tco-art3-removal", 5),
        ("eu-tco-art6-preserve", 3),
        ("eu-tco-art6-preserve", 5),
    ]
    assert plan_obligations(RULEBOOK, HarmType.VIOLENT_EXTREMISM, facts[::-1]) == plans


def test_a_rule_for_other_harm_types_does_not_apply():
    rule = RULEBOOK.get("eu-tco-art3-removal").model_copy(
        update={"harm_types": [HarmType.VIOLENT_EXTREMISM]}
    )
    fact = TriggerFact(1, TriggerKind.TERRORIST_REMOVAL_ORDER, TEN, ("DE",))
    assert rule_applies(rule, HarmType.VIOLENT_EXTREMISM, fact)
    assert not rule_applies(rule, HarmType.HATE_SPEECH, fact)


def test_trigger_times_must_carry_a_timezone():
    with pytest.raises(ValueError, match="timezone-aware"):
        TriggerFact(1, TriggerKind.CSAM_CONFIRMED, datetime(2026, 11, 25, 10), ("US",))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("window", "lead"),
    [
        (timedelta(hours=1), timedelta(minutes=15)),
        (timedelta(hours=2), timedelta(minutes=30)),
        (timedelta(hours=24), timedelta(hours=4)),
        (timedelta(hours=72), timedelta(hours=4)),
        (timedelta(minutes=10), timedelta(minutes=5)),
        (timedelta(minutes=3), timedelta(minutes=3)),  # never before the trigger
        (timedelta(0), timedelta(0)),
    ],
)
def test_warning_time(window, lead):
    assert warning_time(TEN, TEN + window) == TEN + window - lead


@pytest.mark.parametrize(
    ("start", "period", "end"),
    [
        (datetime(2026, 1, 31, 9, tzinfo=UTC), "P1M", datetime(2026, 2, 28, 9, tzinfo=UTC)),
        (datetime(2028, 1, 31, 9, tzinfo=UTC), "P1M", datetime(2028, 2, 29, 9, tzinfo=UTC)),
        (datetime(2028, 2, 29, 9, tzinfo=UTC), "P1Y", datetime(2029, 2, 28, 9, tzinfo=UTC)),
        (datetime(2026, 8, 31, 9, tzinfo=UTC), "P6M", datetime(2027, 2, 28, 9, tzinfo=UTC)),
        (datetime(2026, 11, 25, 9, tzinfo=UTC), "P1Y6M", datetime(2028, 5, 25, 9, tzinfo=UTC)),
        (datetime(2026, 11, 25, 9, tzinfo=UTC), "P30D", datetime(2026, 12, 25, 9, tzinfo=UTC)),
        (datetime(2026, 11, 25, 9, tzinfo=UTC), "P180D", datetime(2027, 5, 24, 9, tzinfo=UTC)),
        (datetime(2026, 12, 31, 9, tzinfo=UTC), "P2M", datetime(2027, 2, 28, 9, tzinfo=UTC)),
    ],
)
def test_add_period(start, period, end):
    assert add_period(start, period) == end


# --- Properties ------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
periods = st.builds(
    lambda y, m, d: (
        "P" + (f"{y}Y" if y else "") + (f"{m}M" if m else "") + (f"{d}D" if d else "")
        if (y or m or d)
        else "P1D"
    ),
    st.integers(0, 5),
    st.integers(0, 30),
    st.integers(0, 400),
)
country_codes = st.sampled_from(
    sorted(EEA_STATES | {"US", "GB", "AU", "IN", "CA", "BR", "JP", "NZ", "CH"})
)


@given(instants, st.integers(0, 1200), st.integers(0, 11))
def test_months_and_years_move_the_calendar_and_clamp_the_day(start, years_or_months, months):
    end = add_period(start, f"P{years_or_months}M")
    assert end >= start
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == years_or_months
    assert end.day <= start.day
    assert end.time() == start.time()
    assert add_period(start, f"P{months}M") <= add_period(start, f"P{months + 1}M")
    assert add_period(start, "P1Y") == add_period(start, "P12M")


@given(instants, periods)
def test_a_period_never_ends_before_it_starts(start, period):
    assert add_period(start, period) > start


@given(instants, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)))
def test_the_warning_comes_between_the_start_and_the_due_time(start, window):
    due = start + window
    warn = warning_time(start, due)
    assert start <= warn <= due
    assert due - warn <= WARN_MAX
    assert due - warn == min(window, max(WARN_MIN, min(window / 4, WARN_MAX)))


@given(instants, instants, st.one_of(st.none(), instants), instants, st.booleans())
def test_every_moment_has_exactly_one_sensible_state(due, warn, done, now, waived):
    warn = min(warn, due)
    state = obligation_state(due, warn, done, now, waived)
    if waived:
        assert state is ObligationState.WAIVED
    elif done is not None:
        assert state is (ObligationState.MET if done <= due else ObligationState.MET_LATE)
    elif now > due:
        assert state is ObligationState.BREACHED
        assert time_left(due, now) < timedelta(0)
    else:
        assert state in (ObligationState.OPEN, ObligationState.DUE_SOON)
        assert (state is ObligationState.DUE_SOON) == (now >= warn)
        assert time_left(due, now) >= timedelta(0)


@given(
    st.sampled_from(list(TriggerKind)),
    st.sampled_from(list(HarmType)),
    st.lists(country_codes, min_size=1, max_size=6),
    instants,
)
def test_every_plan_comes_from_a_matching_rule_and_its_clock(kind, harm_type, regions, when):
    fact = TriggerFact(1, kind, when, tuple(regions))
    plans = plan_obligations(RULEBOOK, harm_type, [fact])
    planned = {plan.rule_id for plan in plans}
    for rule in RULEBOOK.for_trigger(kind):
        covered = [r for r in regions if any(r in _expand(p) for p in rule.regions)]
        assert (rule.id in planned) == bool(
            covered and (not rule.harm_types or harm_type in rule.harm_types)
        )
    for plan in plans:
        rule = RULEBOOK.get(plan.rule_id)
        assert plan.due_at == when + rule.clock
        assert set(plan.regions) <= set(regions)
        assert plan.regions == tuple(sorted(set(plan.regions)))
        assert plan.regions == matched_regions(rule, regions)
        assert (plan.retain_until is not None) == (rule.retain_for is not None)


def _expand(pattern: str) -> set[str]:
    groups = {"EU": EU_MEMBER_STATES, "EEA": EEA_STATES}
    return set(groups.get(pattern, {pattern}))
