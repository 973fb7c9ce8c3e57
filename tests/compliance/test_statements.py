"""DSA statements of reasons: action mapping, building, validation against the EU DB's rules."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from rapidresponse.compliance import statements
from rapidresponse.compliance.statements import (
    FIELDS,
    ExportLine,
    Ground,
    StatementFacts,
    build_statement,
    decision_for,
    export_jsonl,
    load_fields,
    needs_statement,
    validate_statement,
)
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.incidents.validation import EEA_STATES
from rapidresponse.playbooks.schema import ContainmentAction

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SHARED_FILE = "dsa-statement-of-reasons-fields.json"
PACKAGED = Path(statements.__file__).parent / "data" / "dsa_sor_fields.json"


def shared_fields_path() -> Path:
    """shared/data next to the repository (<root>/main, <root>/shared), or RR_SHARED_DATA."""
    override = os.environ.get("RR_SHARED_DATA")
    folder = Path(override) if override else Path(__file__).parents[2] / ".." / "shared" / "data"
    return folder / SHARED_FILE


@pytest.fixture(scope="module")
def reference_fields() -> dict[str, dict[str, str]]:
    """The shared field list when there is one (always in CI), else the packaged copy."""
    path = shared_fields_path()
    return load_fields(path if path.is_file() else PACKAGED)


def facts(**overrides: Any) -> StatementFacts:
    values: dict[str, Any] = {
        "puid": "rr-inc-42_item-0001",
        "action": ContainmentAction.GEO_RESTRICT,
        "territorial_scope": ("FR", "DE"),
        "ground": Ground.ILLEGAL,
        "ground_reference": "§ 131 StGB; Art. 421-2-5 Code pénal (glorification of terrorism)",
        "explanation": "Footage of the attack shared to glorify it; illegal in DE and FR.",
        "harm_type": HarmType.VIOLENT_EXTREMISM,
        "content_type": "CONTENT_TYPE_VIDEO",
        "content_date": date(2026, 11, 24),
        "application_date": date(2026, 11, 25),
        "decision_facts": "Re-upload matched the incident's hash bank; reviewed by a moderator.",
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": True,
        "automated_decision": "AUTOMATED_DECISION_PARTIALLY",
    }
    values.update(overrides)
    return StatementFacts(**values)


def valid_record(**overrides: Any) -> dict[str, Any]:
    record = build_statement(facts())
    record.update(overrides)
    return record


def errors_for(field: str, record: dict[str, Any]) -> list[str]:
    return [e for e in validate_statement(record) if e.startswith(field + ":")]


# --- the packaged field list ---------------------------------------------------------------


def test_packaged_field_list_is_a_byte_for_byte_copy_of_the_shared_one() -> None:
    shared = shared_fields_path()
    if not shared.is_file():
        message = f"shared field list not found at {shared}"
        if IN_CI:
            pytest.fail(message + " (CI=true makes it mandatory)")
        pytest.skip(message)
    assert PACKAGED.read_bytes() == shared.read_bytes()


def test_fields_load_from_the_package_without_the_about_text() -> None:
    assert "_about" not in FIELDS
    assert dict(FIELDS["automated_detection"]) == {"Yes": "Yes", "No": "No"}
    assert load_fields() == {name: dict(keys) for name, keys in FIELDS.items()}


# --- which actions need a statement, and where ------------------------------------------------

EXPECTED_DECISIONS = {
    ContainmentAction.REMOVE: {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]},
    ContainmentAction.GEO_RESTRICT: {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    },
    ContainmentAction.AGE_RESTRICT: {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"]
    },
    ContainmentAction.REDUCE_REACH: {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_DEMOTED"]
    },
    ContainmentAction.LABEL: {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_LABELLED"]},
    ContainmentAction.RESTRICT_INTERACTION: {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED"]
    },
    ContainmentAction.SUSPEND_ACCOUNT: {"decision_account": "DECISION_ACCOUNT_SUSPENDED"},
    ContainmentAction.BAN_ACCOUNT: {"decision_account": "DECISION_ACCOUNT_TERMINATED"},
    ContainmentAction.SEARCH_INTERVENTION: None,
    ContainmentAction.HASH_BANK: None,
}


def test_every_containment_action_has_a_decided_mapping() -> None:
    assert set(EXPECTED_DECISIONS) == set(ContainmentAction)
    for action, expected in EXPECTED_DECISIONS.items():
        assert decision_for(action) == expected, action


@pytest.mark.parametrize(
    "action", [a for a, decision in EXPECTED_DECISIONS.items() if decision is not None]
)
def test_every_action_mapping_builds_a_valid_statement(
    action: ContainmentAction, reference_fields: dict[str, dict[str, str]]
) -> None:
    record = build_statement(facts(action=action))
    assert validate_statement(record, reference_fields) == []
    assert validate_statement(record) == []


def test_an_action_that_needs_no_statement_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="needs no statement"):
        build_statement(facts(action=ContainmentAction.HASH_BANK))


def test_needs_statement_keeps_only_eu_and_eea_regions_sorted() -> None:
    assert needs_statement(ContainmentAction.GEO_RESTRICT, ["fr", "US", "DE", "NO", "GB"]) == (
        "DE",
        "FR",
        "NO",
    )
    assert needs_statement(ContainmentAction.REMOVE, ["US", "GB", "BR"]) == ()
    assert needs_statement(ContainmentAction.REMOVE, []) == ()


def test_needs_statement_expands_region_groups() -> None:
    assert set(needs_statement(ContainmentAction.REMOVE, ["EEA"])) == EEA_STATES
    assert "NO" not in needs_statement(ContainmentAction.REMOVE, ["EU"])


def test_actions_that_restrict_nothing_need_no_statement_anywhere() -> None:
    for action in (ContainmentAction.SEARCH_INTERVENTION, ContainmentAction.HASH_BANK):
        assert needs_statement(action, ["DE", "FR"]) == ()


# --- the built record ------------------------------------------------------------------------


def test_built_statement_uses_the_databases_shapes() -> None:
    record = build_statement(facts(content_language="de"))
    assert record["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert record["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert record["illegal_content_legal_ground"].startswith("§ 131 StGB")
    assert "incompatible_content_ground" not in record
    assert record["territorial_scope"] == ["DE", "FR"]
    assert record["content_type"] == ["CONTENT_TYPE_VIDEO"]
    assert record["category"] == "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
    assert record["category_specification"] == [
        "KEYWORD_TERRORIST_CONTENT",
        "KEYWORD_ILLEGAL_ORGANIZATIONS",
    ]
    assert record["content_date"] == "2026-11-24"
    assert record["application_date"] == "2026-11-25"
    assert record["automated_detection"] == "Yes"
    assert record["content_language"] == "DE"
    # The record is what gets submitted: it must survive JSON unchanged.
    assert json.loads(json.dumps(record)) == record


def test_incompatible_ground_fills_the_terms_and_conditions_fields() -> None:
    record = build_statement(
        facts(ground=Ground.INCOMPATIBLE, ground_reference="Community Guidelines § 4.2")
    )
    assert record["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert record["incompatible_content_ground"] == "Community Guidelines § 4.2"
    assert "illegal_content_legal_ground" not in record
    assert validate_statement(record) == []


def test_a_temporary_suspension_carries_its_end_date_on_the_account() -> None:
    record = build_statement(
        facts(action=ContainmentAction.SUSPEND_ACCOUNT, end_date=date(2026, 12, 25))
    )
    assert record["end_date_account_restriction"] == "2026-12-25"
    assert "end_date_visibility_restriction" not in record
    assert validate_statement(record) == []


def test_other_visibility_restriction_is_declared_with_its_text() -> None:
    record = build_statement(facts(decision_visibility_other="Removed from trending lists"))
    assert record["decision_visibility"][-1] == "DECISION_VISIBILITY_OTHER"
    assert validate_statement(record) == []


def test_every_keyed_value_used_comes_from_the_shared_field_list(
    reference_fields: dict[str, dict[str, str]],
) -> None:
    """Each harm type, action, ground and content type yields values the shared file lists."""
    keyed = {
        "decision_visibility": "decision_visibility",
        "decision_account": "decision_account",
        "decision_ground": "decision_ground",
        "content_type": "content_type",
        "category": "category",
        "category_specification": "category_specification",
        "source_type": "source_type",
        "automated_detection": "automated_detection",
        "automated_decision": "automated_decision",
        "account_type": "account_type",
    }
    checked = 0
    for harm_type in HarmType:
        for action, decision in EXPECTED_DECISIONS.items():
            if decision is None:
                continue
            for ground in Ground:
                record = build_statement(
                    facts(
                        harm_type=harm_type,
                        action=action,
                        ground=ground,
                        account_type="ACCOUNT_TYPE_PRIVATE",
                        automated_detection=ground is Ground.ILLEGAL,
                    )
                )
                for field, vocabulary in keyed.items():
                    value = record.get(field)
                    if value is None:
                        continue
                    for key in value if isinstance(value, list) else [value]:
                        assert key in reference_fields[vocabulary], (field, key)
                        checked += 1
    assert checked > 1000


# --- validation ------------------------------------------------------------------------------


def test_illegal_ground_without_its_legal_ground_is_an_error() -> None:
    record = valid_record()
    del record["illegal_content_legal_ground"]
    assert errors_for("illegal_content_legal_ground", record) == [
        "illegal_content_legal_ground: required when decision_ground is "
        "DECISION_GROUND_ILLEGAL_CONTENT"
    ]


def test_incompatible_ground_without_its_explanation_is_an_error() -> None:
    record = build_statement(facts(ground=Ground.INCOMPATIBLE))
    record["incompatible_content_explanation"] = ""
    assert errors_for("incompatible_content_explanation", record)


def test_fields_of_the_other_ground_are_errors_not_silently_dropped() -> None:
    record = valid_record(incompatible_content_ground="Community Guidelines § 4.2")
    assert errors_for("incompatible_content_ground", record)


@pytest.mark.parametrize("puid", ["has space", "slash/inside", "ümlaut", "x" * 501, "a.b"])
def test_bad_puid_is_an_error(puid: str) -> None:
    assert errors_for("puid", valid_record(puid=puid))


def test_missing_puid_is_an_error() -> None:
    record = valid_record()
    del record["puid"]
    assert errors_for("puid", record) == ["puid: required"]


@pytest.mark.parametrize("scope", [["DE", "US"], ["GB"], ["EL"], ["de"]])
def test_territorial_scope_outside_the_eu_and_eea_is_an_error(scope: list[str]) -> None:
    assert errors_for("territorial_scope", valid_record(territorial_scope=scope))


def test_territorial_scope_must_be_an_array() -> None:
    assert errors_for("territorial_scope", valid_record(territorial_scope="DE"))


def test_unknown_key_is_an_error() -> None:
    problems = validate_statement(valid_record(severity="sev0"))
    assert problems == ["severity: unknown field; the transparency database does not accept it"]


def test_other_visibility_needs_its_text() -> None:
    record = valid_record(decision_visibility=["DECISION_VISIBILITY_OTHER"])
    assert errors_for("decision_visibility_other", record) == [
        "decision_visibility_other: required when decision_visibility is DECISION_VISIBILITY_OTHER"
    ]
    record["decision_visibility_other"] = "Hidden from the For You feed"
    assert validate_statement(record) == []


def test_content_type_other_needs_its_text() -> None:
    record = valid_record(content_type=["CONTENT_TYPE_OTHER"])
    assert errors_for("content_type_other", record)


def test_unknown_keyed_value_names_the_accepted_keys() -> None:
    (problem,) = validate_statement(valid_record(automated_decision="Yes"))
    assert problem.startswith("automated_decision: 'Yes' is not an accepted value")
    assert "AUTOMATED_DECISION_FULLY" in problem


def test_near_miss_in_a_long_list_gets_a_suggestion() -> None:
    (problem,) = validate_statement(valid_record(category="STATEMENT_CATEGORY_VIOLENCES"))
    assert "did you mean STATEMENT_CATEGORY_VIOLENCE" in problem


def test_array_fields_must_be_arrays_and_single_fields_single() -> None:
    assert errors_for(
        "decision_visibility",
        valid_record(decision_visibility="DECISION_VISIBILITY_CONTENT_DISABLED"),
    )
    assert errors_for("category", valid_record(category=["STATEMENT_CATEGORY_VIOLENCE"]))


def test_automated_detection_must_be_yes_or_no() -> None:
    assert errors_for("automated_detection", valid_record(automated_detection=True))


def test_a_statement_needs_at_least_one_decision() -> None:
    record = valid_record()
    del record["decision_visibility"]
    assert errors_for("decision_visibility", record)
    record["decision_account"] = "DECISION_ACCOUNT_SUSPENDED"
    assert validate_statement(record) == []


def test_every_required_field_is_reported_on_an_empty_record() -> None:
    problems = validate_statement({})
    for field in statements.REQUIRED_FIELDS:
        assert f"{field}: required" in problems


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("content_date", "2026-1-5"),
        ("content_date", "2026-02-30"),
        ("content_date", "1999-12-31"),
        ("application_date", "2019-12-31"),
        ("application_date", "25/11/2026"),
        ("end_date_visibility_restriction", "2026-11-24"),
        ("end_date_account_restriction", "2040-01-01"),
    ],
)
def test_bad_dates_are_errors(field: str, value: str) -> None:
    assert errors_for(field, valid_record(**{field: value}))


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("decision_facts", 5000),
        ("illegal_content_explanation", 2000),
        ("illegal_content_legal_ground", 500),
    ],
)
def test_text_limits(field: str, limit: int) -> None:
    assert validate_statement(valid_record(**{field: "x" * limit})) == []
    assert errors_for(field, valid_record(**{field: "x" * (limit + 1)}))


def test_content_language_must_be_upper_case_iso_639_1() -> None:
    assert validate_statement(valid_record(content_language="FR")) == []
    for bad in ("fr", "FRA", "QQ"):
        assert errors_for("content_language", valid_record(content_language=bad)), bad


def test_none_counts_as_absent() -> None:
    assert validate_statement(valid_record(account_type=None, content_language=None)) == []


def test_validation_accepts_another_field_list() -> None:
    narrower = {name: dict(keys) for name, keys in FIELDS.items()}
    del narrower["content_type"]["CONTENT_TYPE_VIDEO"]
    assert errors_for("content_type", valid_record()) == []
    assert [e for e in validate_statement(valid_record(), narrower) if "content_type" in e]


# --- bulk and export -------------------------------------------------------------------------


def test_ten_thousand_geo_restrictions_in_de_and_fr_are_all_valid() -> None:
    scope = needs_statement(ContainmentAction.GEO_RESTRICT, ["DE", "FR", "US"])
    assert scope == ("DE", "FR")
    template = facts(territorial_scope=scope)
    started = time.perf_counter()
    records = [
        build_statement(dataclasses.replace(template, puid=f"rr-inc-42-item-{n:05d}"))
        for n in range(10_000)
    ]
    lines = list(export_jsonl(records))
    elapsed = time.perf_counter() - started
    assert len(lines) == 10_000
    assert [line for line in lines if line.errors] == []
    assert len({line.puid for line in lines}) == 10_000
    assert all(json.loads(line.line)["territorial_scope"] == ["DE", "FR"] for line in lines)
    # Bulk actions build and check statements inline; generous bound for a loaded CI machine.
    assert elapsed < 10, f"10,000 statements took {elapsed:.2f}s"


def test_export_reports_errors_per_record_with_its_index() -> None:
    good = valid_record()
    bad_puid = valid_record(puid="not valid!")
    outside = valid_record(puid="rr-2", territorial_scope=["US"])
    lines = list(export_jsonl([good, bad_puid, outside]))
    assert [line.index for line in lines] == [0, 1, 2]
    assert lines[0].errors == ()
    assert lines[1].puid == "not valid!"
    assert [e.split(":")[0] for e in lines[1].errors] == ["puid"]
    assert [e.split(":")[0] for e in lines[2].errors] == ["territorial_scope"]


def test_export_lines_are_compact_single_line_json() -> None:
    record = valid_record(decision_facts="line one\nline two")
    (line,) = export_jsonl([record])
    assert line.line == json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    assert isinstance(line, ExportLine)
    assert "\n" not in line.line
    assert json.loads(line.line)["decision_facts"] == "line one\nline two"
    assert "Code pénal" in line.line  # UTF-8 as is, not \u escapes


def test_export_does_not_fail_on_values_json_cannot_encode() -> None:
    (line,) = export_jsonl([valid_record(content_date=date(2026, 11, 24))])
    assert json.loads(line.line)["content_date"] == "2026-11-24"
    assert [e.split(":")[0] for e in line.errors] == ["content_date"]
