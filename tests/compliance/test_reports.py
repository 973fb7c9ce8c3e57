"""Report drafts for people to review and send: NCMEC CyberTipline, law-enforcement notices."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rapidresponse.compliance.reports import (
    DRAFT_BANNER,
    NCMEC_INCIDENT_TYPES,
    CaseFacts,
    DraftStatus,
    ReportedItem,
    draft_law_enforcement_notification,
    draft_ncmec_report,
    render_markdown,
)
from rapidresponse.incidents.taxonomy import HarmType

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
MD5 = "9e107d9d372bb6826bd81d3542a419d6"
SHA256 = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def item(content_id: str, **overrides: Any) -> ReportedItem:
    values: dict[str, Any] = {
        "content_id": content_id,
        "account_id": "acct-7",
        "uploaded_at": T0 - timedelta(hours=3),
        "url": f"https://video.example/v/{content_id}",
        "md5": MD5,
        "sha256": SHA256,
        "pdq": PDQ,
        "publicly_available": True,
        "viewed_by_staff": True,
        "regions": ("DE", "US"),
    }
    values.update(overrides)
    return ReportedItem(**values)


def case(**overrides: Any) -> CaseFacts:
    values: dict[str, Any] = {
        "incident_key": "INC-2026-0042",
        "harm_type": HarmType.CHILD_SEXUAL_EXPLOITATION,
        "title": "Sextortion ring targeting minors",
        "summary": "Accounts coerce minors into sending images; two videos found so far.",
        "regions": ("DE", "US"),
        "detected_at": T0 - timedelta(hours=1),
        "trigger_kind": "hash_match",
        "trigger_at": T0 - timedelta(minutes=50),
        "trigger_reference": "alert-981",
        "items": (item("vid-1"), item("vid-2", account_id="acct-8", md5="a" * 32)),
        "accounts": ("acct-7",),
        "reporter_org": "Example Video Ltd",
        "reporter_contact": "lawenforcement@video.example",
    }
    values.update(overrides)
    return CaseFacts(**values)


def walk(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair anywhere in a draft."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key, inner
            yield from walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from walk(inner)


def text_of(draft: dict[str, Any]) -> str:
    return json.dumps(draft, ensure_ascii=False)


DRAFTERS = [
    pytest.param(draft_ncmec_report, id="ncmec"),
    pytest.param(
        lambda facts: draft_law_enforcement_notification(
            facts, "Bundeskriminalamt (BKA)", "Art. 18 DSA"
        ),
        id="law-enforcement",
    ),
]


@pytest.mark.parametrize("drafter", DRAFTERS)
def test_draft_names_every_item_and_hash(drafter: Any) -> None:
    facts = case()
    draft = drafter(facts)
    text = text_of(draft)
    for reported in facts.items:
        assert reported.content_id in text
        assert reported.md5 in text
        assert reported.sha256 in text
        assert reported.pdq in text
    assert "acct-7" in text
    assert "acct-8" in text


@pytest.mark.parametrize("drafter", DRAFTERS)
def test_draft_flags_items_missing_hashes(drafter: Any) -> None:
    facts = case(items=(item("vid-1"), item("vid-9", md5=None, sha256=None)))
    warnings = drafter(facts)["review_warnings"]
    flagged = [w for w in warnings if "vid-9" in w and "hash" in w]
    assert flagged
    assert "MD5" in flagged[0]
    assert "SHA-256" in flagged[0]
    assert not [w for w in warnings if "vid-1" in w]


@pytest.mark.parametrize("drafter", DRAFTERS)
def test_draft_is_never_marked_submitted_by_code(drafter: Any) -> None:
    draft = drafter(case())
    assert draft["status"] == DraftStatus.DRAFT
    for key, value in walk(draft):
        assert "submitted" not in key.lower(), key
        if key == "status":
            assert value == DraftStatus.DRAFT


@pytest.mark.parametrize("drafter", DRAFTERS)
def test_draft_warns_about_missing_items_upload_times_and_urls(drafter: Any) -> None:
    assert any("no items" in w for w in drafter(case(items=()))["review_warnings"])
    facts = case(items=(item("vid-3", uploaded_at=None, url=None),))
    warnings = drafter(facts)["review_warnings"]
    assert "item vid-3: no upload time" in warnings
    assert "item vid-3: no URL" in warnings


@pytest.mark.parametrize("drafter", DRAFTERS)
def test_draft_warns_about_times_without_a_time_zone(drafter: Any) -> None:
    naive = datetime(2026, 11, 25, 9, 0)  # noqa: DTZ001 - the case under test
    warnings = drafter(case(trigger_at=naive))["review_warnings"]
    assert any("trigger time has no time zone" in w for w in warnings)


@pytest.mark.parametrize("drafter", DRAFTERS)
def test_draft_carries_no_media(drafter: Any) -> None:
    for key, value in walk(drafter(case())):
        assert not isinstance(value, bytes | bytearray), key


# --- NCMEC ------------------------------------------------------------------------------------


def test_ncmec_draft_follows_the_cybertipline_sections() -> None:
    draft = draft_ncmec_report(case())
    assert draft["banner"] == DRAFT_BANNER
    assert draft["reporter"]["company"] == "Example Video Ltd"
    summary = draft["incident_summary"]
    # The reviewer picks the incident type; the draft only suggests one from the official list.
    assert summary["incident_type"] is None
    assert summary["suggested_incident_type"] in NCMEC_INCIDENT_TYPES
    assert summary["incident_date_time"] == (T0 - timedelta(hours=3)).isoformat()
    assert summary["escalate_to_high_priority"] is None
    assert draft["internet_details"]["web_page"]["urls"] == [
        "https://video.example/v/vid-1",
        "https://video.example/v/vid-2",
    ]
    assert [p["esp_identifier"] for p in draft["reported_people"]] == ["acct-7", "acct-8"]
    first = draft["files"][0]
    assert first["original_file_hashes"] == [
        {"hash_type": "MD5", "value": MD5},
        {"hash_type": "SHA256", "value": SHA256},
    ]
    assert first["file_viewed_by_esp"] is True
    assert first["publicly_available"] is True
    assert "INC-2026-0042" in draft["additional_information"]


def test_ncmec_draft_asks_a_person_to_confirm_what_code_cannot_know() -> None:
    facts = case(
        items=(item("vid-1", viewed_by_staff=None, publicly_available=None),),
        reporter_contact=None,
    )
    needs = draft_ncmec_report(facts)["needs_human_input"]
    assert any(n.startswith("incident type confirmation") for n in needs)
    assert "whether file vid-1 was viewed by staff" in needs
    assert "whether file vid-1 was publicly available" in needs
    assert any("reporter contact" in n for n in needs)
    assert any("escalate" in n for n in needs)


def test_ncmec_draft_known_viewing_facts_need_no_confirmation() -> None:
    needs = draft_ncmec_report(case())["needs_human_input"]
    assert not [n for n in needs if n.startswith("whether file")]


def test_ncmec_draft_questions_a_case_outside_child_safety() -> None:
    warnings = draft_ncmec_report(case(harm_type=HarmType.HATE_SPEECH))["review_warnings"]
    assert any("child sexual exploitation" in w for w in warnings)
    assert not [
        w for w in draft_ncmec_report(case())["review_warnings"] if "confirm this case" in w
    ]


def test_ncmec_incident_time_falls_back_to_detection_then_trigger() -> None:
    undated = (item("vid-1", uploaded_at=None),)
    summary = draft_ncmec_report(case(items=undated))["incident_summary"]
    assert summary["incident_date_time"] == (T0 - timedelta(hours=1)).isoformat()
    summary = draft_ncmec_report(case(items=undated, detected_at=None))["incident_summary"]
    assert summary["incident_date_time"] == (T0 - timedelta(minutes=50)).isoformat()
    assert "hash_match" in summary["incident_date_time_description"]


# --- law enforcement --------------------------------------------------------------------------


def test_law_enforcement_draft_names_authority_basis_and_member_states() -> None:
    draft = draft_law_enforcement_notification(case(), "Bundeskriminalamt (BKA)", "Art. 18 DSA")
    assert draft["authority"] == "Bundeskriminalamt (BKA)"
    assert draft["legal_basis"] == "Art. 18 DSA"
    assert draft["member_states_concerned"] == ["DE"]
    assert draft["contact_point"]["contact"] == "lawenforcement@video.example"
    assert draft["preservation"]["confirmed"] is None
    assert draft["threat_to_life_or_safety"]["assessment"] is None
    needs = draft["needs_human_input"]
    assert any(n.startswith("threat to life or safety") for n in needs)
    assert any(n.startswith("preservation status") for n in needs)


def test_law_enforcement_draft_warns_when_no_member_state_is_concerned() -> None:
    facts = case(regions=("US", "BR"))
    draft = draft_law_enforcement_notification(facts, "", "")
    warnings = draft["review_warnings"]
    assert any("Europol" in w for w in warnings)
    assert any("no authority named" in w for w in warnings)
    assert "no legal basis given" in warnings


# --- review copy ------------------------------------------------------------------------------


@pytest.mark.parametrize("drafter", DRAFTERS)
def test_markdown_review_copy_has_the_draft_banner_and_the_content(drafter: Any) -> None:
    facts = case(items=(item("vid-1"), item("vid-9", md5=None)))
    markdown = render_markdown(drafter(facts))
    assert markdown.splitlines()[0] == "# DRAFT — for human review; not submitted"
    assert "Sextortion ring targeting minors" in markdown
    assert "- [ ] " in markdown  # the reviewer's checklist
    for reported in facts.items:
        assert reported.content_id in markdown
        assert reported.sha256 in markdown
    assert "vid-9: missing MD5 hash" in markdown
    assert "_(to complete)_" in markdown


def test_markdown_keeps_the_banner_even_for_a_recorded_status() -> None:
    # A person recorded the review; the copy they print is still not a submission.
    draft = {**draft_ncmec_report(case()), "status": DraftStatus.REVIEWED.value}
    markdown = render_markdown(draft)
    assert markdown.startswith("# " + DRAFT_BANNER)
    assert "Status: **reviewed**" in markdown
