"""Routing: which teams an incident engages, and which escalation policies get paged.

A rule matches an incident by harm type (or any), minimum severity (SEV0 is the most severe,
so "SEV1 or worse" matches SEV0 and SEV1) and region (or any; EU and EEA stand for their
member states). Rules are evaluated in ``position`` order; every matching rule contributes
its teams, unless an earlier matching rule said ``stop``.

The result lists each team once, in the order it was first engaged, with every reason that
engaged it, so "why is Legal on this?" always has an answer. A team is paged through the
rule's escalation policy, or its own default policy when the rule names none; a rule with a
policy and no teams pages that policy alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidresponse.incidents.severity import Severity
from rapidresponse.incidents.validation import REGION_GROUPS


@dataclass(frozen=True)
class Rule:
    name: str
    position: int = 0
    harm_types: frozenset[str] = frozenset()  # empty: any harm type
    min_severity: Severity = Severity.SEV3  # SEV3 matches every incident
    regions: frozenset[str] = frozenset()  # empty: any region; EU/EEA expand
    teams: tuple[str, ...] = ()
    escalation_policy: str | None = None
    stop: bool = False
    enabled: bool = True


@dataclass(frozen=True)
class Engagement:
    team: str | None
    escalation_policy: str | None
    rules: tuple[str, ...]
    reasons: tuple[str, ...]


def _region_hits(rule_regions: frozenset[str], regions: frozenset[str]) -> list[str]:
    hits: list[str] = []
    for pattern in sorted(rule_regions):
        group = REGION_GROUPS.get(pattern)
        found = sorted((group or frozenset({pattern})) & regions)
        if found:
            hits.append(f"{pattern} ({', '.join(found)})" if group else pattern)
    return hits


def match(rule: Rule, harm_type: str, severity: Severity, regions: Iterable[str]) -> str | None:
    """Why ``rule`` matches the incident, or None when it does not."""
    if not rule.enabled:
        return None
    if rule.harm_types and harm_type not in rule.harm_types:
        return None
    if severity.rank > rule.min_severity.rank:
        return None
    region_set = frozenset(r.upper() for r in regions)
    hits = _region_hits(rule.regions, region_set) if rule.regions else []
    if rule.regions and not hits:
        return None
    parts = [
        f"harm type {harm_type}" if rule.harm_types else "any harm type",
        f"{severity.value} is {rule.min_severity.value} or worse"
        if rule.min_severity is not Severity.SEV3
        else "any severity",
        f"region {', '.join(hits)}" if rule.regions else "any region",
    ]
    return f"rule {rule.name!r}: " + "; ".join(parts)


def route(
    rules: Iterable[Rule],
    harm_type: str,
    severity: Severity,
    regions: Iterable[str],
    team_policies: Mapping[str, str] | None = None,
) -> list[Engagement]:
    """The engagements an incident of this kind gets, ordered and deduplicated."""
    team_policies = team_policies or {}
    region_list = list(regions)
    order: list[tuple[str | None, str | None]] = []
    found: dict[tuple[str | None, str | None], tuple[list[str], list[str]]] = {}

    def engage(team: str | None, policy: str | None, rule: Rule, reason: str) -> None:
        # A team is engaged once: the first rule that engages it decides its policy.
        key = next((k for k in order if team is not None and k[0] == team), (team, policy))
        if key not in found:
            order.append(key)
            found[key] = ([], [])
        names, reasons = found[key]
        if rule.name not in names:
            names.append(rule.name)
            reasons.append(reason)

    for rule in sorted(rules, key=lambda r: (r.position, r.name)):
        reason = match(rule, harm_type, severity, region_list)
        if reason is None:
            continue
        for team in dict.fromkeys(rule.teams):
            engage(team, rule.escalation_policy or team_policies.get(team), rule, reason)
        if not rule.teams and rule.escalation_policy:
            engage(None, rule.escalation_policy, rule, reason)
        if rule.stop:
            break
    return [
        Engagement(team, policy, tuple(found[(team, policy)][0]), tuple(found[(team, policy)][1]))
        for team, policy in order
    ]


def policies_to_page(engagements: Iterable[Engagement]) -> list[str]:
    """Distinct escalation policies, in engagement order."""
    return list(dict.fromkeys(e.escalation_policy for e in engagements if e.escalation_policy))
