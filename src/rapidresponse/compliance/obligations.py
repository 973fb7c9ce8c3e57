"""An incident's legal obligations, computed from its harm type and its recorded triggers.

Pure: rules, trigger facts and a ``now`` in, plans and states out. No database, no clock.

For each recorded trigger (a removal order received at 10:00 in DE, CSAM confirmed at 09:12 for
an incident in US and DE) every rule with the same trigger kind applies when its harm types are
empty or include the incident's harm type, and one of the trigger's regions lies in the rule's
regions (groups such as EU expand to their member states). Each match is one obligation, due at
the trigger time plus the rule's clock, with a warning time before it and, for preservation
duties, the date until which the material must be kept.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from rapidresponse.compliance.rulebook import (
    DeadlineBasis,
    Rule,
    Rulebook,
    TriggerKind,
    parse_iso_period,
)
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.incidents.validation import region_matches

# The warning lead: a quarter of the window, but never more than WARN_MAX (a 72-hour clock warns
# 4 hours ahead, not 18: an early warning that nobody can act on yet trains people to ignore
# warnings) and never less than WARN_MIN (even a short clock gets a few minutes' notice).
WARN_FRACTION = 4
WARN_MAX = timedelta(hours=4)
WARN_MIN = timedelta(minutes=5)


@dataclass(frozen=True)
class TriggerFact:
    """A recorded fact that starts legal clocks."""

    id: int
    kind: TriggerKind
    occurred_at: datetime
    # ISO codes the trigger concerns: the order's issuing jurisdiction, or the incident's regions.
    regions: tuple[str, ...]

    def __post_init__(self) -> None:
        _require_aware(self.occurred_at, "occurred_at")


@dataclass(frozen=True)
class ObligationPlan:
    rule_id: str
    trigger_id: int
    regions: tuple[str, ...]  # the trigger regions this rule matched, sorted
    due_at: datetime
    basis: DeadlineBasis
    warn_at: datetime
    # For preservation duties: trigger time + the retention period. The law usually counts the
    # period from a later event (the report's submission, the removal); this is the earliest
    # possible end, and the service extends it from that event once it is recorded.
    retain_until: datetime | None


class ObligationState(StrEnum):
    OPEN = "open"
    DUE_SOON = "due_soon"
    BREACHED = "breached"
    MET = "met"
    MET_LATE = "met_late"
    WAIVED = "waived"


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got {value!r}")


def matched_regions(rule: Rule, regions: Sequence[str]) -> tuple[str, ...]:
    """The given regions that the rule covers (codes or groups such as EU), sorted, unique."""
    codes = {region.strip().upper() for region in regions}
    return tuple(
        sorted(code for code in codes if any(region_matches(p, {code}) for p in rule.regions))
    )


def rule_applies(rule: Rule, harm_type: HarmType, trigger: TriggerFact) -> bool:
    return (
        rule.trigger is TriggerKind(trigger.kind)
        and (not rule.harm_types or HarmType(harm_type) in rule.harm_types)
        and bool(matched_regions(rule, trigger.regions))
    )


def plan_obligations(
    rulebook: Rulebook, harm_type: HarmType, triggers: Sequence[TriggerFact]
) -> list[ObligationPlan]:
    """One plan per (trigger, matching rule), ordered by due time, then rule id, then trigger."""
    plans = []
    for trigger in triggers:
        for rule in rulebook.for_trigger(trigger.kind):
            if not rule_applies(rule, harm_type, trigger):
                continue
            due_at = trigger.occurred_at + rule.clock
            plans.append(
                ObligationPlan(
                    rule_id=rule.id,
                    trigger_id=trigger.id,
                    regions=matched_regions(rule, trigger.regions),
                    due_at=due_at,
                    basis=rule.basis,
                    warn_at=warning_time(trigger.occurred_at, due_at),
                    retain_until=(
                        add_period(trigger.occurred_at, rule.retain_for)
                        if rule.retain_for is not None
                        else None
                    ),
                )
            )
    return sorted(plans, key=lambda p: (p.due_at, p.rule_id, p.trigger_id))


def warning_time(start: datetime, due_at: datetime) -> datetime:
    """When to warn that ``due_at`` is near: a quarter of the window before it.

    The lead is clamped to 5 minutes..4 hours (see WARN_MAX, WARN_MIN) and the warning never
    comes before ``start``: a 1-hour clock warns 15 minutes ahead, a 24-hour clock 4 hours ahead,
    a 10-minute clock 5 minutes ahead, a 3-minute clock at once.
    """
    lead = min(max((due_at - start) / WARN_FRACTION, WARN_MIN), WARN_MAX)
    return max(start, due_at - lead)


def add_period(start: datetime, iso_period: str) -> datetime:
    """``start`` plus an ISO 8601 period, with calendar months and years.

    Years and months move the calendar date and keep the time of day; a day that does not exist
    in the target month is clamped to its last day (31 Jan + P1M = 28 or 29 Feb, 29 Feb 2028 +
    P1Y = 28 Feb 2029). Weeks, days and any time part are then added as exact durations.
    """
    parts = parse_iso_period(iso_period)
    months = start.month - 1 + parts.get("months", 0) + 12 * parts.get("years", 0)
    year, month = start.year + months // 12, months % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    moved = start.replace(year=year, month=month, day=day)
    return moved + timedelta(
        weeks=parts.get("weeks", 0),
        days=parts.get("days", 0),
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )


def obligation_state(
    due_at: datetime,
    warn_at: datetime,
    done_at: datetime | None,
    now: datetime,
    waived: bool = False,
) -> ObligationState:
    """Where an obligation stands at ``now``.

    Waived wins; a done obligation is met (on or before ``due_at``) or met late; otherwise it is
    open before ``warn_at``, due soon from ``warn_at`` up to and including ``due_at``, and
    breached from the first instant after ``due_at``.
    """
    if waived:
        return ObligationState.WAIVED
    if done_at is not None:
        return ObligationState.MET if done_at <= due_at else ObligationState.MET_LATE
    if now > due_at:
        return ObligationState.BREACHED
    if now >= warn_at:
        return ObligationState.DUE_SOON
    return ObligationState.OPEN


def time_left(due_at: datetime, now: datetime) -> timedelta:
    """Time until ``due_at``; negative once it has passed."""
    return due_at - now
