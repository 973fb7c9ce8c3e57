"""The harm-type taxonomy (coverage, DSA mapping, defaults) and region/language/tag validation."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapidresponse.incidents.taxonomy import HARM_TYPES, HarmType, harm_type_info
from rapidresponse.incidents.validation import (
    normalise_language,
    normalise_region,
    normalise_tag,
    unique,
)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DSA_FIELDS_FILE = "dsa-statement-of-reasons-fields.json"


def shared_data_dir() -> Path:
    """/work/shared/data next to the repository, unless RR_SHARED_DATA names another folder."""
    override = os.environ.get("RR_SHARED_DATA")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="module")
def dsa_fields() -> dict[str, Any]:
    path = shared_data_dir() / DSA_FIELDS_FILE
    if not path.is_file():
        message = f"EU transparency database field list not found at {path}"
        if IN_CI:
            pytest.fail(message + " (CI=true makes it mandatory)")
        pytest.skip(message)
    fields: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return fields


# --- taxonomy -------------------------------------------------------------------------------

# The ten harm types the team must be able to declare incidents for, and a word their label
# must contain so that a responder picking from the list finds them.
REQUIRED_HARM_TYPES = {
    "violent_extremism": "terror",
    "child_sexual_exploitation": "child sexual",
    "suicide_self_harm": "self-harm",
    "dangerous_challenges": "challenge",
    "hate_speech": "hate",
    "bullying_harassment": "harassment",
    "violent_graphic": "graphic",
    "animal_abuse": "animal",
    "crisis_misinformation": "misinformation",
    "privacy_doxxing": "doxxing",
}


@pytest.mark.parametrize(("value", "label_word"), sorted(REQUIRED_HARM_TYPES.items()))
def test_required_harm_type_is_in_the_taxonomy(value: str, label_word: str) -> None:
    harm_type = HarmType(value)
    info = HARM_TYPES[harm_type]
    assert info.harm_type is harm_type
    assert label_word in info.label.lower()
    assert info.description.strip()


def test_taxonomy_covers_at_least_the_ten_required_types() -> None:
    assert len(HARM_TYPES) >= 10
    assert {h.value for h in HARM_TYPES} >= set(REQUIRED_HARM_TYPES)
    assert set(HARM_TYPES) == set(HarmType), "every HarmType needs a taxonomy entry"


def test_entries_are_keyed_by_their_own_harm_type() -> None:
    for harm_type, info in HARM_TYPES.items():
        assert info.harm_type is harm_type
    labels = [info.label for info in HARM_TYPES.values()]
    assert len(set(labels)) == len(labels), "labels must tell harm types apart"


def test_harm_type_info_accepts_values_and_rejects_unknown() -> None:
    assert harm_type_info("hate_speech") is HARM_TYPES[HarmType.HATE_SPEECH]
    assert harm_type_info(HarmType.ANIMAL_ABUSE).harm_type is HarmType.ANIMAL_ABUSE
    with pytest.raises(ValueError, match="spam"):
        harm_type_info("spam")


@pytest.mark.parametrize("harm_type", sorted(HarmType))
def test_gravity_is_between_1_and_4(harm_type: HarmType) -> None:
    gravity = HARM_TYPES[harm_type].gravity
    assert isinstance(gravity, int)
    assert 1 <= gravity <= 4


def test_gravity_4_is_reserved_for_terrorism_and_cse() -> None:
    top = {h for h, info in HARM_TYPES.items() if info.gravity == 4}
    assert top == {HarmType.VIOLENT_EXTREMISM, HarmType.CHILD_SEXUAL_EXPLOITATION}


def test_only_child_sexual_exploitation_is_restricted_by_default() -> None:
    restricted = {h for h, info in HARM_TYPES.items() if info.restricted_by_default}
    assert restricted == {HarmType.CHILD_SEXUAL_EXPLOITATION}


@pytest.mark.parametrize("harm_type", sorted(HarmType))
def test_dsa_category_is_accepted_by_the_transparency_database(
    harm_type: HarmType, dsa_fields: dict[str, Any]
) -> None:
    info = HARM_TYPES[harm_type]
    accepted = dsa_fields["category"]
    assert info.dsa_category in accepted, (
        f"{harm_type.value}: {info.dsa_category} is not one of {sorted(accepted)}"
    )


@pytest.mark.parametrize("harm_type", sorted(HarmType))
def test_dsa_keywords_are_accepted_by_the_transparency_database(
    harm_type: HarmType, dsa_fields: dict[str, Any]
) -> None:
    info = HARM_TYPES[harm_type]
    accepted = dsa_fields["category_specification"]
    assert info.dsa_keywords, f"{harm_type.value} has no category_specification keyword"
    assert len(set(info.dsa_keywords)) == len(info.dsa_keywords)
    unknown = [k for k in info.dsa_keywords if k not in accepted]
    assert not unknown, f"{harm_type.value}: {unknown} are not accepted keywords"


def test_dsa_field_list_has_the_expected_shape(dsa_fields: dict[str, Any]) -> None:
    # Guards the two tests above against passing vacuously on an empty or renamed list.
    assert len(dsa_fields["category"]) >= 10
    assert len(dsa_fields["category_specification"]) >= 20
    assert all(k.startswith("STATEMENT_CATEGORY_") for k in dsa_fields["category"])
    assert all(k.startswith("KEYWORD_") for k in dsa_fields["category_specification"])


def test_rr_shared_data_overrides_the_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RR_SHARED_DATA", str(tmp_path))
    assert shared_data_dir() == tmp_path
    monkeypatch.delenv("RR_SHARED_DATA")
    assert shared_data_dir().parts[-2:] == ("shared", "data")


# --- regions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"), [("de", "DE"), ("DE", "DE"), (" fr ", "FR"), ("gb", "GB"), ("In", "IN")]
)
def test_normalise_region_accepts_country_codes(raw: str, expected: str) -> None:
    assert normalise_region(raw) == expected


def test_every_iso_country_code_is_accepted_in_any_case() -> None:
    codes = [c.alpha_2 for c in pycountry.countries]
    assert len(codes) > 240
    for code in codes:
        assert normalise_region(code.lower()) == code
        assert normalise_region(code) == code


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        ("EU", "member states"),
        ("eu", "member states"),
        ("UK", "GB"),
        ("uk", "GB"),
        ("EL", "GR"),
    ],
)
def test_normalise_region_rejects_groupings_with_a_hint(raw: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint) as caught:
        normalise_region(raw)
    assert repr(raw) in str(caught.value)


@pytest.mark.parametrize("raw", ["XX", "DEU", "D", "", "  ", "12", "D E", "usa", "Germany"])
def test_normalise_region_rejects_non_codes(raw: str) -> None:
    with pytest.raises(ValueError, match="ISO 3166-1 alpha-2") as caught:
        normalise_region(raw)
    assert repr(raw) in str(caught.value)


@settings(max_examples=200)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz ", max_size=4))
def test_normalise_region_returns_a_known_code_or_raises(raw: str) -> None:
    try:
        result = normalise_region(raw)
    except ValueError:
        return
    assert pycountry.countries.get(alpha_2=result) is not None
    assert result == raw.strip().upper()
    assert normalise_region(result) == result


# --- languages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("pt-br", "pt-BR"),
        ("pt-BR", "pt-BR"),
        ("de-at", "de-AT"),
        (" fr ", "fr"),
        ("zh-hant-tw", "zh-Hant-TW"),
    ],
)
def test_normalise_language_accepts_and_normalises_bcp47(raw: str, expected: str) -> None:
    assert normalise_language(raw) == expected


@pytest.mark.parametrize("raw", ["english", "", "   ", "xx", "en--us", "123", "en-"])
def test_normalise_language_rejects_non_tags(raw: str) -> None:
    with pytest.raises(ValueError, match="BCP 47") as caught:
        normalise_language(raw)
    assert repr(raw) in str(caught.value)


@pytest.mark.parametrize("raw", ["en", "pt-br", "de-at", "zh-hant-tw", "sr-latn"])
def test_normalise_language_is_idempotent(raw: str) -> None:
    once = normalise_language(raw)
    assert normalise_language(once) == once


# --- tags -----------------------------------------------------------------------------------

VALID_TAG = re.compile(r"[a-z0-9][a-z0-9_\-:.]{0,63}")
valid_tags = st.from_regex(VALID_TAG, fullmatch=True)


@settings(max_examples=200)
@given(valid_tags, st.sampled_from(["", " ", "\t", "  \n"]))
def test_normalise_tag_keeps_valid_tags_and_strips_whitespace(tag: str, pad: str) -> None:
    assert normalise_tag(pad + tag + pad) == tag


@settings(max_examples=200)
@given(valid_tags)
def test_normalise_tag_lowercases(tag: str) -> None:
    assert normalise_tag(tag.upper()) == tag


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=70), st.text(alphabet="aZ9_-:. \n#é/", max_size=70)))
def test_normalise_tag_accepts_exactly_what_the_rules_allow(raw: str) -> None:
    candidate = raw.strip().lower()
    if VALID_TAG.fullmatch(candidate):
        assert normalise_tag(raw) == candidate
        assert normalise_tag(candidate) == candidate
    else:
        with pytest.raises(ValueError, match="not a valid tag"):
            normalise_tag(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("reuploads", "reuploads"),
        ("Live-Stream", "live-stream"),
        ("wave:2", "wave:2"),
        ("v1.2_b", "v1.2_b"),
        ("0day", "0day"),
        ("a" * 64, "a" * 64),
    ],
)
def test_normalise_tag_examples(raw: str, expected: str) -> None:
    assert normalise_tag(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "_x", "-x", ":x", ".x", "a" * 65, "two words", "#hashtag", "a/b", "café", "a\nb"],
)
def test_normalise_tag_rejects(raw: str) -> None:
    with pytest.raises(ValueError, match="1-64 characters"):
        normalise_tag(raw)


def test_unique_keeps_first_occurrences_in_order() -> None:
    assert unique(["DE", "FR", "DE", "IT", "FR"]) == ["DE", "FR", "IT"]
    assert unique([]) == []
