"""Routing rules: harm type x severity x region decide who is engaged, and why."""

from __future__ import annotations

from rapidresponse.incidents.severity import Severity
from rapidresponse.oncall import routing
from rapidresponse.oncall.routing import Rule

RULES = [
    Rule("T&S on every incident", position=0, teams=("ts-ops",), escalation_policy="ts-primary"),
    Rule(
        "Terror SEV1+ goes to legal and PR",
        position=10,
        harm_types=frozenset({"violent_extremism"}),
        min_severity=Severity.SEV1,
        teams=("legal", "pr"),
    ),
    Rule(
        "EU terror: DSA and TCO exposure",
        position=20,
        harm_types=frozenset({"violent_extremism"}),
        regions=frozenset({"EU"}),
        teams=("public-policy", "legal"),
        escalation_policy="eu-policy",
    ),
    Rule(
        "Brazil regional experts",
        position=30,
        regions=frozenset({"BR"}),
        teams=("br-experts",),
        escalation_policy="br-experts",
    ),
    Rule(
        "Executives for SEV0",
        position=40,
        min_severity=Severity.SEV0,
        escalation_policy="exec-bridge",
    ),
]
TEAM_POLICIES = {"legal": "legal-oncall", "pr": "pr-oncall", "public-policy": "policy-oncall"}


def engaged(
    harm: str, severity: Severity, regions: list[str]
) -> list[tuple[str | None, str | None]]:
    return [
        (e.team, e.escalation_policy)
        for e in routing.route(RULES, harm, severity, regions, TEAM_POLICIES)
    ]


def test_a_minor_incident_engages_only_ts_operations():
    assert engaged("bullying_harassment", Severity.SEV3, ["US"]) == [("ts-ops", "ts-primary")]


def test_terror_sev1_in_the_eu_engages_legal_pr_and_policy_once_each_in_rule_order():
    assert engaged("violent_extremism", Severity.SEV1, ["DE", "US"]) == [
        ("ts-ops", "ts-primary"),
        ("legal", "legal-oncall"),  # the first rule engaging legal decides its policy
        ("pr", "pr-oncall"),
        ("public-policy", "eu-policy"),
    ]


def test_severity_threshold_counts_sev0_as_most_severe():
    assert ("legal", "legal-oncall") not in engaged("violent_extremism", Severity.SEV2, ["US"])
    sev0 = engaged("violent_extremism", Severity.SEV0, ["US"])
    assert ("legal", "legal-oncall") in sev0
    assert sev0[-1] == (None, "exec-bridge")  # a policy-only rule pages the policy alone


def test_regions_match_countries_and_groups():
    assert ("br-experts", "br-experts") in engaged("hate_speech", Severity.SEV2, ["BR"])
    assert ("br-experts", "br-experts") not in engaged("hate_speech", Severity.SEV2, ["PT"])
    assert ("public-policy", "eu-policy") not in engaged("violent_extremism", Severity.SEV2, ["NO"])


def test_every_reason_is_kept_and_explains_the_match():
    [_, legal, *_] = routing.route(RULES, "violent_extremism", Severity.SEV1, ["FR"], TEAM_POLICIES)
    assert legal.team == "legal"
    assert legal.rules == ("Terror SEV1+ goes to legal and PR", "EU terror: DSA and TCO exposure")
    assert legal.reasons[0] == (
        "rule 'Terror SEV1+ goes to legal and PR': harm type violent_extremism; "
        "SEV1 is SEV1 or worse; any region"
    )
    assert "region EU (FR)" in legal.reasons[1]


def test_stop_skips_later_rules_and_disabled_rules_never_match():
    rules = [
        Rule(
            "CSE goes only to the specialist team",
            position=0,
            harm_types=frozenset({"child_sexual_exploitation"}),
            teams=("cse",),
            stop=True,
        ),
        *RULES,
        Rule("disabled", position=99, teams=("nobody",), enabled=False),
    ]
    result = routing.route(rules, "child_sexual_exploitation", Severity.SEV0, ["US"])
    assert [(e.team, e.escalation_policy) for e in result] == [("cse", None)]
    assert "nobody" not in {e.team for e in routing.route(rules, "hate_speech", Severity.SEV0, [])}


def test_order_of_rules_given_does_not_matter_and_policies_are_paged_once():
    forward = routing.route(RULES, "violent_extremism", Severity.SEV0, ["DE", "BR"], TEAM_POLICIES)
    backward = routing.route(
        list(reversed(RULES)), "violent_extremism", Severity.SEV0, ["DE", "BR"], TEAM_POLICIES
    )
    assert forward == backward
    assert routing.policies_to_page(forward) == [
        "ts-primary",
        "legal-oncall",
        "pr-oncall",
        "eu-policy",
        "br-experts",
        "exec-bridge",
    ]
