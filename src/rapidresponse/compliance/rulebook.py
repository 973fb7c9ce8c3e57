"""The jurisdiction rulebook: legal obligations as data, each with its citation and check date.

A rule says: when this *trigger* is recorded for an incident touching these *regions* (and,
optionally, these harm types), this *obligation* falls due this long after the trigger, and this
*evidence* proves it was met. The rules live in ``rulebook/*.yaml`` (one file per jurisdiction),
so Legal can review and change them without reading code; every rule names its instrument,
article, source URL, the date it was last checked and whether its clock is confirmed
(``in_force``) or still ``to_confirm``.

Two kinds of clock, never mixed up: ``deadline`` is a clock the law itself sets ("within one
hour of receipt"); ``target`` is our own internal target where the law only says "promptly" or
"as soon as reasonably possible". The UI shows which is which, so a target is never presented
as law.

The YAML helpers here (``read_yaml_with_lines``, ``validation_issues``) are shared with the
policy catalogue loader: they report problems as ``file:line: field: message``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rapidresponse.datafiles import (
    DataFileError,
    DataFileIssue,
    YamlPath,
    line_for,
    read_yaml_with_lines,
    validation_issues,
    yaml_files,
)
from rapidresponse.incidents.taxonomy import HarmType
from rapidresponse.playbooks.durations import parse_duration
from rapidresponse.playbooks.schema import Duration, RegionCodes, RegulatoryCheck

RULEBOOK_DIR = Path(__file__).parent / "rulebook"

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
HttpsUrl = Annotated[str, Field(pattern=r"^https://\S+$")]

# ISO 8601 calendar periods (P6M, P1Y, P180D, P1Y6M, P2W); a time part is allowed for
# completeness (P1DT12H). Calendar parts are applied first, see obligations.add_period.
ISO_PERIOD = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def parse_iso_period(text: str) -> dict[str, int]:
    """The components of an ISO 8601 period such as ``P1Y6M``; ValueError if it is not one."""
    match = ISO_PERIOD.match(text.strip().upper())
    if match is None or not any(match.groupdict().values()) or text.strip().upper().endswith("T"):
        raise ValueError(f"{text!r} is not an ISO 8601 period; write e.g. P6M, P1Y, P180D, P1Y6M")
    return {k: int(v) for k, v in match.groupdict().items() if v}


class TriggerKind(StrEnum):
    """Facts recorded on an incident that start a legal clock."""

    # Apparent CSAM confirmed by a specialist reviewer.
    CSAM_CONFIRMED = "csam_confirmed"
    # Information suggesting a criminal offence threatening life or safety (DSA Art. 18).
    THREAT_TO_LIFE = "threat_to_life_identified"
    # A removal order under the EU Terrorist Content Online Regulation (Art. 3).
    TERRORIST_REMOVAL_ORDER = "terrorist_content_removal_order"
    # Any other order or notice to remove or disable content (DSA Art. 9 order, eSafety removal
    # notice, IT Rules 3(1)(d) notice); the trigger's regions name the issuing jurisdiction.
    REMOVAL_ORDER = "removal_order_received"
    # An order to provide information about recipients of the service (DSA Art. 10).
    INFORMATION_ORDER = "information_order_received"
    # Illegal content identified on the service (UK Online Safety Act take-down duty).
    ILLEGAL_CONTENT_IDENTIFIED = "illegal_content_identified"
    # Abhorrent violent material identified (Australian Criminal Code ss. 474.33, 474.34).
    ABHORRENT_VIOLENT_MATERIAL = "abhorrent_violent_material_identified"
    # A complaint by the person shown in intimate imagery (India IT Rules 3(2)(b)).
    INTIMATE_IMAGERY_COMPLAINT = "intimate_imagery_complaint"
    # A lawful request from a government agency for information or assistance (IT Rules 3(1)(j)).
    LAW_ENFORCEMENT_REQUEST = "law_enforcement_request"
    # An enforcement action restricted content in a region (DSA Art. 17 statements of reasons);
    # recorded automatically by the enforcement service.
    CONTENT_RESTRICTED = "content_restricted"


class ObligationKind(StrEnum):
    REMOVE = "remove"
    REPORT = "report"
    NOTIFY = "notify"
    PRESERVE = "preserve"
    INFORM = "inform"
    STATEMENT = "statement"


class DeadlineBasis(StrEnum):
    STATUTORY = "statutory"
    INTERNAL_TARGET = "internal_target"


class RuleStatus(StrEnum):
    IN_FORCE = "in_force"
    TO_CONFIRM = "to_confirm"


class DraftKind(StrEnum):
    """Report drafts the compliance service prepares for a person to review and send."""

    NCMEC_CYBERTIPLINE = "ncmec_cybertipline"
    LAW_ENFORCEMENT_NOTIFICATION = "law_enforcement_notification"


class Rule(BaseModel):
    """One legal obligation: trigger -> obligation -> clock -> evidence, with its legal source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Slug
    jurisdiction: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    regions: RegionCodes = Field(min_length=1)
    instrument: Text
    citation: Text
    source_url: HttpsUrl
    last_checked: date
    status: RuleStatus
    status_note: Annotated[str, Field(max_length=2000)] = ""
    trigger: TriggerKind
    harm_types: list[HarmType] = Field(default_factory=list)
    kind: ObligationKind
    title: Annotated[str, Field(min_length=1, max_length=200)]
    obligation: Text
    law_says: Text
    deadline: Duration | None = None
    target: Duration | None = None
    retain_for: str | None = None
    evidence: list[Text] = Field(min_length=1)
    check: RegulatoryCheck | None = None
    draft: DraftKind | None = None

    @field_validator("retain_for")
    @classmethod
    def _iso_period(cls, value: str | None) -> str | None:
        if value is not None:
            parse_iso_period(value)
            return value.strip().upper()
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        # Cross-field errors start with the field they concern so the loader can find its line.
        if (self.deadline is None) == (self.target is None):
            raise ValueError(
                "deadline: set exactly one of deadline (a clock the law sets) or target "
                "(our internal target where the law sets none)"
            )
        if self.clock <= timedelta(0):
            raise ValueError("deadline: the clock must be longer than zero")
        if self.status is RuleStatus.TO_CONFIRM and not self.status_note.strip():
            raise ValueError("status_note: a to_confirm rule must say exactly what is uncertain")
        if self.kind is ObligationKind.PRESERVE and self.retain_for is None:
            raise ValueError("retain_for: a preserve duty needs its retention period (e.g. P6M)")
        if self.kind is not ObligationKind.PRESERVE and self.retain_for is not None:
            raise ValueError("retain_for: only preserve duties have a retention period")
        if len(set(self.harm_types)) != len(self.harm_types):
            raise ValueError("harm_types: a harm type is listed twice")
        return self

    @property
    def basis(self) -> DeadlineBasis:
        return (
            DeadlineBasis.STATUTORY if self.deadline is not None else DeadlineBasis.INTERNAL_TARGET
        )

    @property
    def clock(self) -> timedelta:
        """How long after the trigger the obligation is due (the deadline, else the target)."""
        text = self.deadline if self.deadline is not None else self.target
        assert text is not None  # the validator guarantees exactly one is set
        return parse_duration(text)


@dataclass(frozen=True)
class Rulebook:
    rules: tuple[Rule, ...]
    _by_id: dict[str, Rule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, Rule] = {}
        for rule in self.rules:
            if rule.id in by_id:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            by_id[rule.id] = rule
        object.__setattr__(self, "_by_id", by_id)

    def get(self, rule_id: str) -> Rule:
        """The rule with this id; KeyError if there is none."""
        return self._by_id[rule_id]

    def for_trigger(self, kind: TriggerKind) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.trigger is TriggerKind(kind))

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)


class RulebookError(DataFileError):
    """The rulebook files are invalid; ``issues`` lists each problem as file:line: field."""


# --- Loading ------------------------------------------------------------------------------


def _rules_in_file(path: Path) -> list[tuple[Rule, int | None, str]]:
    """Every rule in one jurisdiction file, with its line; RulebookError for any problem."""
    file = str(path)
    try:
        data, lines = read_yaml_with_lines(path)
    except DataFileError as exc:
        raise RulebookError(exc.issues) from None
    if not isinstance(data, dict) or set(data) - {"jurisdiction", "rules"}:
        raise RulebookError(
            [
                DataFileIssue(
                    file, 1, "", "a rulebook file has exactly two keys: jurisdiction, rules"
                )
            ]
        )
    jurisdiction = data.get("jurisdiction")
    raw_rules = data.get("rules")
    if not isinstance(jurisdiction, str) or not isinstance(raw_rules, list) or not raw_rules:
        raise RulebookError(
            [DataFileIssue(file, 1, "", "give the jurisdiction (e.g. EU) and a list of rules")]
        )
    out: list[tuple[Rule, int | None, str]] = []
    issues: list[DataFileIssue] = []
    for index, raw in enumerate(raw_rules):
        where: YamlPath = ("rules", index)
        if not isinstance(raw, dict):
            issues.append(
                DataFileIssue(file, line_for(where, lines), f"rules.{index}", "a rule is a mapping")
            )
            continue
        if raw.setdefault("jurisdiction", jurisdiction) != jurisdiction:
            issues.append(
                DataFileIssue(
                    file,
                    line_for((*where, "jurisdiction"), lines),
                    f"rules.{index}.jurisdiction",
                    f"this file is for {jurisdiction}; put the rule in that jurisdiction's file",
                )
            )
            continue
        try:
            rule = Rule.model_validate(raw)
        except ValidationError as exc:
            issues.extend(validation_issues(exc, file, lines, where))
            continue
        out.append((rule, line_for((*where, "id"), lines), file))
    if issues:
        raise RulebookError(issues)
    return out


def load_rulebook(paths: Iterable[Path] | None = None) -> Rulebook:
    """The rules in the given files or directories; None: the shipped rulebook (cached).

    All problems in all files are collected and raised together as one RulebookError.
    """
    if paths is None:
        return _shipped()
    issues: list[DataFileIssue] = []
    seen: dict[str, str] = {}
    rules: list[Rule] = []
    for path in yaml_files(paths):
        try:
            found = _rules_in_file(path)
        except RulebookError as exc:
            issues.extend(exc.issues)
            continue
        for rule, line, file in found:
            if rule.id in seen:
                issues.append(
                    DataFileIssue(
                        file, line, "id", f"rule id {rule.id!r} is already used in {seen[rule.id]}"
                    )
                )
                continue
            seen[rule.id] = f"{file}:{line}"
            rules.append(rule)
    if issues:
        raise RulebookError(issues)
    return Rulebook(tuple(sorted(rules, key=lambda r: (r.jurisdiction, r.id))))


@functools.lru_cache(maxsize=1)
def _shipped() -> Rulebook:
    return load_rulebook([RULEBOOK_DIR])


def shipped_rulebook() -> Rulebook:
    """The rulebook shipped with the package, loaded once per process."""
    return _shipped()
