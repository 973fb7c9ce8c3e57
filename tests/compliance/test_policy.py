"""The content policy catalogue: one document per harm type, regional variants with sources."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest
import yaml

from rapidresponse.compliance.policy import (
    POLICY_DIR,
    SECTION_PREFIX,
    ContextException,
    PolicyError,
    load_policy_catalogue,
    shipped_policy_catalogue,
)
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.playbooks.schema import ContainmentAction

CATALOGUE = shipped_policy_catalogue()
CHECKED_ON = date(2026, 11, 25)

VALID = textwrap.dedent("""\
    harm_type: hate_speech
    version: 2
    effective: 2026-11-25
    title: Hate speech
    summary: Attacks on people for who they are.
    sections:
      - id: HS-1
        title: Attacks
        violating: [Slurs used to attack.]
        allowed_in_context:
          counter_speech: Quoting to condemn.
        default_enforcement: [remove]
        context_enforcement: [label]
    regional_variants:
      - id: de-test
        section: HS-1
        regions: [DE]
        kind: illegal
        summary: A crime in Germany.
        enforcement: [geo_restrict]
        legal_basis: StGB § 130
        source_url: https://www.gesetze-im-internet.de/stgb/__130.html
        last_checked: 2026-11-25
""")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_every_harm_type_has_a_policy_document():
    assert set(CATALOGUE.documents) == set(HarmType)
    for harm_type, document in CATALOGUE.documents.items():
        assert document.harm_type is harm_type
        assert document.version >= 1
        assert document.sections
        assert document.effective <= CHECKED_ON


def test_section_ids_are_unique_and_carry_their_harm_types_prefix():
    ids = [s.id for d in CATALOGUE.documents.values() for s in d.sections]
    assert len(ids) == len(set(ids))
    for harm_type, document in CATALOGUE.documents.items():
        assert all(s.id.startswith(SECTION_PREFIX[harm_type] + "-") for s in document.sections)


def test_every_variant_points_at_an_existing_section_and_cites_a_checked_source():
    variant_ids = []
    for document in CATALOGUE.documents.values():
        sections = {s.id for s in document.sections}
        for variant in document.regional_variants:
            variant_ids.append(variant.id)
            assert variant.section in sections
            assert CATALOGUE.section(variant.section)[0] is document
            assert variant.source_url.startswith("https://")
            assert variant.legal_basis.strip()
            assert date(2024, 1, 1) <= variant.last_checked <= CHECKED_ON
    assert len(variant_ids) == len(set(variant_ids))


def test_the_files_only_use_valid_containment_actions_and_context_exceptions():
    actions = {a.value for a in ContainmentAction}
    contexts = {c.value for c in ContextException}
    for path in sorted(POLICY_DIR.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for section in raw["sections"]:
            assert set(section["default_enforcement"]) <= actions, path.name
            assert set(section.get("context_enforcement", [])) <= actions, path.name
            assert set(section.get("allowed_in_context", {})) <= contexts, path.name
        for variant in raw.get("regional_variants", []):
            assert set(variant["enforcement"]) <= actions, path.name


def test_child_sexual_abuse_material_has_no_context_exception():
    _, csam = CATALOGUE.section("CSE-1")
    assert csam.allowed_in_context == {}
    assert ContainmentAction.HASH_BANK in csam.default_enforcement


@pytest.mark.parametrize(
    ("variant_id", "region", "basis"),
    [
        ("de-holocaust-denial", "DE", "§ 130(3)"),
        ("fr-holocaust-denial", "FR", "loi Gayssot"),
        ("at-holocaust-denial", "AT", "§ 3h"),
        ("de-nazi-symbols", "DE", "§ 86a"),
    ],
)
def test_holocaust_denial_and_nazi_symbols_are_illegal_where_the_law_says_so(
    variant_id, region, basis
):
    variants = {v.id: v for v in CATALOGUE.document(HarmType.HATE_SPEECH).regional_variants}
    variant = variants[variant_id]
    assert (variant.kind, variant.regions, variant.section) == ("illegal", [region], "HS-3")
    assert basis in variant.legal_basis
    assert variant.enforcement == [ContainmentAction.GEO_RESTRICT]


def test_there_are_order_based_variants_for_content_lawful_elsewhere():
    order_based = [
        v
        for d in CATALOGUE.documents.values()
        for v in d.regional_variants
        if v.kind == "order_based"
    ]
    assert {v.id for v in order_based} >= {"eu-dsa-art9-order-hate-speech", "eu-tco-removal-order"}


def test_variants_for_regions_expand_groups_and_ignore_other_regions():
    def ids(regions):
        return [v.id for v in CATALOGUE.variants_for(HarmType.HATE_SPEECH, regions)]

    assert ids(["DE"]) == [
        "de-holocaust-denial",
        "de-nazi-symbols",
        "eu-dsa-art9-order-hate-speech",
    ]
    assert ids(["fr"]) == ["fr-holocaust-denial", "eu-dsa-art9-order-hate-speech"]
    assert ids(["PL"]) == ["eu-dsa-art9-order-hate-speech"]
    assert ids(["US", "JP"]) == []
    assert ids([]) == []
    assert CATALOGUE.variants_for(HarmType.CHILD_SEXUAL_EXPLOITATION, ["DE"]) == []


def test_section_lookup_and_version():
    document, section = CATALOGUE.section("VE-1")
    assert document.harm_type is HarmType.VIOLENT_EXTREMISM
    assert ContextException.NEWS in section.allowed_in_context
    with pytest.raises(KeyError):
        CATALOGUE.section("XX-9")
    assert CATALOGUE.version.split(", ") == [
        f"{h.value} v{CATALOGUE.document(h).version}"
        for h in sorted(HarmType, key=lambda h: h.value)
    ]
    assert shipped_policy_catalogue() is CATALOGUE
    assert load_policy_catalogue() is CATALOGUE


def test_a_valid_document_loads(tmp_path):
    catalogue = load_policy_catalogue([write(tmp_path, "hate.yaml", VALID)])
    assert catalogue.version == "hate_speech v2"
    assert catalogue.document("hate_speech").regional_variants[0].regions == ["DE"]


@pytest.mark.parametrize(
    ("old", "new", "field", "message", "on_line"),
    [
        (
            "default_enforcement: [remove]",
            "default_enforcement: [delete]",
            "sections.0.default_enforcement.0",
            "",
            "default_enforcement:",
        ),
        (
            "section: HS-1",
            "section: HS-9",
            "regional_variants.0.section",
            "no section HS-9",
            "section: HS-9",
        ),
        ("  - id: HS-1", "  - id: VE-1", "sections.0.id", "start with HS-", "- id: VE-1"),
        (
            "counter_speech: Quoting",
            "parody: Quoting",
            "sections.0.allowed_in_context.parody.[key]",
            "",
            "parody:",
        ),
        ("regions: [DE]", "regions: [UK]", "regional_variants.0.regions", "use GB", "regions:"),
        ("kind: illegal", "kind: banned", "regional_variants.0.kind", "", "kind:"),
        ("version: 2", "version: 0", "version", "", "version:"),
        (
            "    allowed_in_context:\n      counter_speech: Quoting to condemn.\n",
            "",
            "sections.0.context_enforcement",
            "no context exception",
            "context_enforcement:",
        ),
    ],
)
def test_a_broken_document_is_reported_with_file_line_and_field(
    tmp_path, old, new, field, message, on_line
):
    assert old in VALID
    text = VALID.replace(old, new, 1)
    path = write(tmp_path, "hate.yaml", text)
    with pytest.raises(PolicyError) as caught:
        load_policy_catalogue([path])
    issue = caught.value.issues[0]
    assert (issue.file, issue.field) == (str(path), field)
    assert message in issue.message
    assert issue.line == line_of(text, on_line)


def test_two_documents_for_one_harm_type_and_reused_ids_are_refused(tmp_path):
    write(tmp_path, "a.yaml", VALID)
    second = write(tmp_path, "b.yaml", VALID)
    with pytest.raises(PolicyError) as caught:
        load_policy_catalogue([tmp_path])
    [issue] = caught.value.issues
    assert (issue.file, issue.line, issue.field) == (str(second), 1, "harm_type")

    other = VALID.replace("harm_type: hate_speech", "harm_type: bullying_harassment")
    other = other.replace("HS-1", "BH-1")
    write(tmp_path, "b.yaml", other)
    with pytest.raises(PolicyError) as caught:
        load_policy_catalogue([tmp_path])
    [issue] = caught.value.issues
    assert issue.field == "regional_variants.0.id"
    assert "de-test is already used in" in issue.message


def test_a_section_id_used_twice_is_refused(tmp_path):
    text = VALID.replace(
        "  - id: HS-1",
        "  - id: HS-1\n    title: X\n    violating: [x]\n    default_enforcement: [remove]\n"
        "  - id: HS-1",
        1,
    )
    path = write(tmp_path, "a.yaml", text)
    with pytest.raises(PolicyError) as caught:
        load_policy_catalogue([path])
    [issue] = caught.value.issues
    assert (issue.field, issue.line) == ("sections.1.id", 11)
    assert "already used by sections.0" in issue.message


def test_a_missing_file_and_a_non_mapping_are_reported(tmp_path):
    listed = write(tmp_path, "a.yaml", "- just\n- a list\n")
    with pytest.raises(PolicyError) as caught:
        load_policy_catalogue([listed, tmp_path / "missing.yaml"])
    messages = [str(issue) for issue in caught.value.issues]
    assert messages[0] == f"{listed}:1: a policy document is a mapping of fields"
    assert "cannot read" in messages[1]
