"""The content policy catalogue: what is violating, what context allows, and regional variants.

One versioned document per harm type lives in ``policy/*.yaml``. Each document has sections
(``VE-1``, ``HS-3`` ...): what violates, the context exceptions (news, documentary,
counter-speech, awareness, education, artistic, satire) with the condition under which each
holds, the default enforcement and what is applied instead when an exception holds. Regional
variants record where law or an order differs from the global policy (Holocaust denial is a
crime in DE, FR and AT; a national order can require a geo-restriction of content that is
lawful elsewhere), each with its legal basis, source and check date.

The catalogue's ``version`` is the list of document versions ("animal_abuse v1, ...,
violent_graphic v2"): a person reading a statement of reasons or an audit entry can tell which
policy text applied, and a document's version is bumped whenever its meaning changes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rapidresponse.datafiles import (
    DataFileError,
    DataFileIssue,
    line_for,
    read_yaml_with_lines,
    validation_issues,
    yaml_files,
)
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.incidents.validation import region_matches
from rapidresponse.playbooks.schema import ContainmentAction, RegionCodes

POLICY_DIR = Path(__file__).parent / "policy"

# Section ids carry their harm type's prefix, so "HS-3" alone says which document it is in.
SECTION_PREFIX: dict[HarmType, str] = {
    HarmType.VIOLENT_EXTREMISM: "VE",
    HarmType.CHILD_SEXUAL_EXPLOITATION: "CSE",
    HarmType.SUICIDE_SELF_HARM: "SSH",
    HarmType.DANGEROUS_CHALLENGES: "DC",
    HarmType.HATE_SPEECH: "HS",
    HarmType.BULLYING_HARASSMENT: "BH",
    HarmType.VIOLENT_GRAPHIC: "VG",
    HarmType.ANIMAL_ABUSE: "AA",
    HarmType.CRISIS_MISINFORMATION: "CM",
    HarmType.PRIVACY_DOXXING: "PD",
}

Text = Annotated[str, Field(min_length=1, max_length=2000)]
Title = Annotated[str, Field(min_length=1, max_length=200)]
SectionId = Annotated[str, Field(pattern=r"^[A-Z]{2,3}-[1-9][0-9]?$")]
VariantId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")]


class ContextException(StrEnum):
    NEWS = "news"
    DOCUMENTARY = "documentary"
    COUNTER_SPEECH = "counter_speech"
    AWARENESS = "awareness"
    EDUCATION = "education"
    ARTISTIC = "artistic"
    SATIRE = "satire"


class PolicySection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: SectionId
    title: Title
    violating: list[Text] = Field(min_length=1)
    # The condition under which each context exception applies.
    allowed_in_context: dict[ContextException, Text] = Field(default_factory=dict)
    default_enforcement: list[ContainmentAction] = Field(min_length=1)
    # What is applied instead when a context exception holds (empty: leave it up as it is).
    context_enforcement: list[ContainmentAction] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> PolicySection:
        if self.context_enforcement and not self.allowed_in_context:
            raise ValueError(
                "context_enforcement: there is no context exception for it to apply to"
            )
        for name in ("default_enforcement", "context_enforcement"):
            actions = getattr(self, name)
            if len(set(actions)) != len(actions):
                raise ValueError(f"{name}: an action is listed twice")
        return self


class RegionalVariant(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: VariantId
    section: SectionId
    regions: RegionCodes = Field(min_length=1)
    kind: Literal["illegal", "order_based", "stricter_policy"]
    summary: Text
    enforcement: list[ContainmentAction] = Field(min_length=1)
    legal_basis: Text
    source_url: Annotated[str, Field(pattern=r"^https://\S+$")]
    last_checked: date

    def applies_to(self, regions: Iterable[str]) -> bool:
        codes = {region.strip().upper() for region in regions}
        return any(region_matches(pattern, codes) for pattern in self.regions)


class PolicyDocument(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    harm_type: HarmType
    version: int = Field(ge=1)
    effective: date
    title: Title
    summary: Text
    sections: list[PolicySection] = Field(min_length=1)
    regional_variants: list[RegionalVariant] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> PolicyDocument:
        prefix = SECTION_PREFIX[self.harm_type] + "-"
        seen: dict[str, int] = {}
        for index, section in enumerate(self.sections):
            if not section.id.startswith(prefix):
                raise ValueError(
                    f"sections.{index}.id: {self.harm_type.value} section ids start with {prefix}"
                )
            if section.id in seen:
                raise ValueError(
                    f"sections.{index}.id: {section.id} is already used by "
                    f"sections.{seen[section.id]}"
                )
            seen[section.id] = index
        variant_ids: dict[str, int] = {}
        for index, variant in enumerate(self.regional_variants):
            if variant.section not in seen:
                raise ValueError(
                    f"regional_variants.{index}.section: no section {variant.section} in this "
                    f"document (it has {', '.join(seen)})"
                )
            if variant.id in variant_ids:
                raise ValueError(
                    f"regional_variants.{index}.id: {variant.id} is already used by "
                    f"regional_variants.{variant_ids[variant.id]}"
                )
            variant_ids[variant.id] = index
        return self


class PolicyError(DataFileError):
    """The policy files are invalid; ``issues`` lists each problem as file:line: field."""


@dataclass(frozen=True)
class PolicyCatalogue:
    documents: dict[HarmType, PolicyDocument]

    def document(self, harm_type: HarmType | str) -> PolicyDocument:
        return self.documents[HarmType(harm_type)]

    def section(self, section_id: str) -> tuple[PolicyDocument, PolicySection]:
        """The document and section with this id; KeyError if there is none."""
        for document in self.documents.values():
            for section in document.sections:
                if section.id == section_id:
                    return document, section
        raise KeyError(section_id)

    def variants_for(
        self, harm_type: HarmType | str, regions: Iterable[str]
    ) -> list[RegionalVariant]:
        """The harm type's regional variants that cover any of ``regions``, in document order."""
        codes = list(regions)
        document = self.documents.get(HarmType(harm_type))
        if document is None:
            return []
        return [v for v in document.regional_variants if v.applies_to(codes)]

    @property
    def version(self) -> str:
        """Every document's version by harm type: "animal_abuse v1, bullying_harassment v1, ..."."""
        return ", ".join(
            f"{harm_type.value} v{self.documents[harm_type].version}"
            for harm_type in sorted(self.documents, key=lambda h: h.value)
        )


def _document_in_file(path: Path) -> tuple[PolicyDocument, dict[tuple[str | int, ...], int]]:
    file = str(path)
    try:
        data, lines = read_yaml_with_lines(path)
    except DataFileError as exc:
        raise PolicyError(exc.issues) from None
    if not isinstance(data, dict):
        raise PolicyError([DataFileIssue(file, 1, "", "a policy document is a mapping of fields")])
    try:
        return PolicyDocument.model_validate(data), lines
    except ValidationError as exc:
        raise PolicyError(validation_issues(exc, file, lines)) from None


def load_policy_catalogue(paths: Iterable[Path] | None = None) -> PolicyCatalogue:
    """The policy documents in the given files or directories; None: the shipped catalogue.

    One document per harm type; section ids and variant ids unique across the catalogue. All
    problems in all files are raised together as one PolicyError.
    """
    if paths is None:
        return _shipped()
    issues: list[DataFileIssue] = []
    documents: dict[HarmType, PolicyDocument] = {}
    where_doc: dict[HarmType, str] = {}
    where_section: dict[str, str] = {}
    where_variant: dict[str, str] = {}
    for path in yaml_files(paths):
        file = str(path)
        try:
            document, lines = _document_in_file(path)
        except PolicyError as exc:
            issues.extend(exc.issues)
            continue
        if document.harm_type in documents:
            issues.append(
                DataFileIssue(
                    file,
                    line_for(("harm_type",), lines),
                    "harm_type",
                    f"{document.harm_type.value} already has a document in "
                    f"{where_doc[document.harm_type]}",
                )
            )
            continue
        for index, section in enumerate(document.sections):
            line = line_for(("sections", index, "id"), lines)
            if section.id in where_section:
                issues.append(
                    DataFileIssue(
                        file,
                        line,
                        f"sections.{index}.id",
                        f"{section.id} is already used in {where_section[section.id]}",
                    )
                )
            where_section[section.id] = f"{file}:{line}"
        for index, variant in enumerate(document.regional_variants):
            line = line_for(("regional_variants", index, "id"), lines)
            if variant.id in where_variant:
                issues.append(
                    DataFileIssue(
                        file,
                        line,
                        f"regional_variants.{index}.id",
                        f"{variant.id} is already used in {where_variant[variant.id]}",
                    )
                )
            where_variant[variant.id] = f"{file}:{line}"
        documents[document.harm_type] = document
        where_doc[document.harm_type] = file
    if issues:
        raise PolicyError(issues)
    return PolicyCatalogue(dict(sorted(documents.items(), key=lambda item: item[0].value)))


@functools.lru_cache(maxsize=1)
def _shipped() -> PolicyCatalogue:
    catalogue = load_policy_catalogue([POLICY_DIR])
    missing = sorted(h.value for h in HarmType if h not in catalogue.documents)
    if missing:
        raise PolicyError(
            [
                DataFileIssue(
                    str(POLICY_DIR), None, "", f"no policy document for: {', '.join(missing)}"
                )
            ]
        )
    return catalogue


def shipped_policy_catalogue() -> PolicyCatalogue:
    """The catalogue shipped with the package, loaded once per process."""
    return _shipped()
