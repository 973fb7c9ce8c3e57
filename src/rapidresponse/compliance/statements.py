"""DSA statements of reasons, built and checked the way the EU transparency database takes them.

Article 17 DSA asks for a statement of reasons to the user whenever the platform restricts their
information, and Article 24(5) asks online platforms to send every such statement to the
Commission's transparency database. This module turns one containment action on one item into the
JSON object that database's API accepts, checks records against the accepted keys and rules
before anything leaves the building, and writes them out as JSON lines with the problems of each
record beside it.

The accepted values come from ``data/dsa_sor_fields.json`` (a copy of
``shared/data/dsa-statement-of-reasons-fields.json``). The rules mirror the database's own request
validation (API v1): arrays for ``decision_visibility``, ``content_type``, ``category_addition``,
``category_specification`` and ``territorial_scope``; dates as ``YYYY-MM-DD``; ``Yes``/``No`` for
``automated_detection``; free-text limits of 500, 2000 and 5000 characters; a ``puid`` of letters,
digits, ``-`` and ``_``. Pure: plain values in, plain values out. Validation is a loop over
precomputed key sets so bulk actions can check tens of thousands of records a second.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rapidresponse.incidents.taxonomy import HARM_TYPES, HarmType
from rapidresponse.incidents.validation import EEA_STATES, EU_MEMBER_STATES
from rapidresponse.playbooks.schema import ContainmentAction

_FIELDS_FILE = "dsa_sor_fields.json"


def load_fields(path: Path | None = None) -> dict[str, dict[str, str]]:
    """The accepted keys of each keyed field (field -> key -> label), ``_about`` left out.

    Without ``path`` it reads the copy packaged with rapidresponse.
    """
    if path is None:
        text = (
            resources.files("rapidresponse.compliance")
            .joinpath("data", _FIELDS_FILE)
            .read_text(encoding="utf-8")
        )
    else:
        text = path.read_text(encoding="utf-8")
    raw = json.loads(text)
    return {name: dict(keys) for name, keys in raw.items() if not name.startswith("_")}


FIELDS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {name: MappingProxyType(keys) for name, keys in load_fields().items()}
)


class Ground(StrEnum):
    ILLEGAL = "illegal"
    INCOMPATIBLE = "incompatible"


_GROUND_KEY = {
    Ground.ILLEGAL: "DECISION_GROUND_ILLEGAL_CONTENT",
    Ground.INCOMPATIBLE: "DECISION_GROUND_INCOMPATIBLE_CONTENT",
}
_ILLEGAL = "DECISION_GROUND_ILLEGAL_CONTENT"
_INCOMPATIBLE = "DECISION_GROUND_INCOMPATIBLE_CONTENT"

# Account actions go to decision_account alone. The database keeps two separate restriction
# types from Art. 17(1): (c) suspension/termination of the *provision of the service* and (d)
# suspension/termination of the *account*; its documentation treats them as distinct restrictions
# that a statement lists only when each was actually imposed. Suspending or banning an account is
# (d); adding a decision_provision as well would report a second restriction nobody imposed.
_VISIBILITY = {
    ContainmentAction.REMOVE: "DECISION_VISIBILITY_CONTENT_REMOVED",
    ContainmentAction.GEO_RESTRICT: "DECISION_VISIBILITY_CONTENT_DISABLED",
    ContainmentAction.AGE_RESTRICT: "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    ContainmentAction.REDUCE_REACH: "DECISION_VISIBILITY_CONTENT_DEMOTED",
    ContainmentAction.LABEL: "DECISION_VISIBILITY_CONTENT_LABELLED",
    ContainmentAction.RESTRICT_INTERACTION: "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
}
_ACCOUNT = {
    ContainmentAction.SUSPEND_ACCOUNT: "DECISION_ACCOUNT_SUSPENDED",
    ContainmentAction.BAN_ACCOUNT: "DECISION_ACCOUNT_TERMINATED",
}


def decision_for(action: ContainmentAction) -> dict[str, Any] | None:
    """The decision_* fields an action maps to; None when the action needs no statement.

    ``search_intervention`` (a warning or resources panel on search results) and ``hash_bank``
    (adding a hash to a bank, which restricts nothing by itself; the removals it triggers get
    their own statements) do not restrict a recipient's information.
    """
    action = ContainmentAction(action)
    if action in _VISIBILITY:
        return {"decision_visibility": [_VISIBILITY[action]]}
    if action in _ACCOUNT:
        return {"decision_account": _ACCOUNT[action]}
    return None


_REGION_GROUPS: Mapping[str, frozenset[str]] = {
    "EU": frozenset(EU_MEMBER_STATES),
    "EEA": frozenset(EEA_STATES),
}


def needs_statement(action: ContainmentAction, regions: Iterable[str]) -> tuple[str, ...]:
    """The EU/EEA territorial scope (sorted ISO codes) a statement must cover, or ``()``.

    ``regions`` are where the action applies; an action without a region restriction (global)
    applies wherever the item is available, so the caller passes the item's own regions. The
    groups ``EU`` and ``EEA`` expand to their member countries.
    """
    if decision_for(action) is None:
        return ()
    scope: set[str] = set()
    for region in regions:
        code = region.strip().upper()
        group = _REGION_GROUPS.get(code)
        if group is not None:
            scope |= group
        elif code in EEA_STATES:
            scope.add(code)
    return tuple(sorted(scope))


@dataclass(frozen=True)
class StatementFacts:
    puid: str
    action: ContainmentAction
    territorial_scope: tuple[str, ...]
    ground: Ground
    ground_reference: str
    explanation: str
    harm_type: HarmType
    content_type: str
    content_date: date
    application_date: date
    decision_facts: str
    source_type: str
    automated_detection: bool
    automated_decision: str
    account_type: str | None = None
    content_language: str | None = None
    # The end of a temporary restriction (a suspension): goes to end_date_account_restriction
    # for account actions and end_date_visibility_restriction for the others. None = indefinite.
    end_date: date | None = None
    # Declares DECISION_VISIBILITY_OTHER as well, with this description of the restriction.
    decision_visibility_other: str | None = None
    # Required by the database when content_type is CONTENT_TYPE_OTHER.
    content_type_other: str | None = None


def build_statement(facts: StatementFacts) -> dict[str, Any]:
    """The statement of reasons for ``facts``, keys and values as the transparency DB takes them.

    It does not validate; pass the result to :func:`validate_statement` (or export it with
    :func:`export_jsonl`). Raises ValueError for an action that needs no statement.
    """
    decision = decision_for(facts.action)
    if decision is None:
        raise ValueError(f"{facts.action} needs no statement of reasons")
    harm = HARM_TYPES[facts.harm_type]
    record: dict[str, Any] = {}
    visibility = decision.get("decision_visibility")
    if facts.decision_visibility_other is not None:
        visibility = [*(visibility or ()), "DECISION_VISIBILITY_OTHER"]
    if visibility is not None:
        record["decision_visibility"] = visibility
    if facts.decision_visibility_other is not None:
        record["decision_visibility_other"] = facts.decision_visibility_other
    if "decision_account" in decision:
        record["decision_account"] = decision["decision_account"]
    if facts.account_type is not None:
        record["account_type"] = facts.account_type
    ground = Ground(facts.ground)
    record["decision_ground"] = _GROUND_KEY[ground]
    if ground is Ground.ILLEGAL:
        record["illegal_content_legal_ground"] = facts.ground_reference
        record["illegal_content_explanation"] = facts.explanation
    else:
        record["incompatible_content_ground"] = facts.ground_reference
        record["incompatible_content_explanation"] = facts.explanation
    record["content_type"] = [facts.content_type]
    if facts.content_type_other is not None:
        record["content_type_other"] = facts.content_type_other
    record["category"] = harm.dsa_category
    record["category_specification"] = list(harm.dsa_keywords)
    record["territorial_scope"] = sorted(set(facts.territorial_scope))
    if facts.content_language is not None:
        record["content_language"] = facts.content_language.upper()
    record["content_date"] = facts.content_date.isoformat()
    record["application_date"] = facts.application_date.isoformat()
    if facts.end_date is not None:
        end_field = (
            "end_date_account_restriction"
            if "decision_account" in decision
            else "end_date_visibility_restriction"
        )
        record[end_field] = facts.end_date.isoformat()
    record["decision_facts"] = facts.decision_facts
    record["source_type"] = facts.source_type
    record["automated_detection"] = "Yes" if facts.automated_detection else "No"
    record["automated_decision"] = facts.automated_decision
    record["puid"] = facts.puid
    return record


# --- validation -------------------------------------------------------------------------------

# Record field -> (vocabulary in FIELDS, is an array). category_addition draws on the category
# keys; incompatible_content_illegal is a Yes/No like automated_detection.
_KEYED: Mapping[str, tuple[str, bool]] = {
    "decision_visibility": ("decision_visibility", True),
    "decision_monetary": ("decision_monetary", False),
    "decision_provision": ("decision_provision", False),
    "decision_account": ("decision_account", False),
    "account_type": ("account_type", False),
    "decision_ground": ("decision_ground", False),
    "incompatible_content_illegal": ("automated_detection", False),
    "content_type": ("content_type", True),
    "category": ("category", False),
    "category_addition": ("category", True),
    "category_specification": ("category_specification", True),
    "source_type": ("source_type", False),
    "automated_detection": ("automated_detection", False),
    "automated_decision": ("automated_decision", False),
}
_TEXT_LIMITS: Mapping[str, int] = {
    "decision_visibility_other": 500,
    "decision_monetary_other": 500,
    "content_type_other": 500,
    "category_specification_other": 500,
    "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000,
    "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000,
    "decision_facts": 5000,
    "source_identity": 500,
    "decision_ground_reference_url": 500,
    "puid": 500,
}
# Field -> (earliest, latest) accepted by the database; end dates must also not precede
# application_date.
_DATE_BOUNDS: Mapping[str, tuple[date | None, date]] = {
    "content_date": (date(2000, 1, 1), date(2038, 1, 1)),
    "application_date": (date(2020, 1, 1), date(2038, 1, 1)),
    "end_date_account_restriction": (None, date(2038, 1, 1)),
    "end_date_monetary_restriction": (None, date(2038, 1, 1)),
    "end_date_service_restriction": (None, date(2038, 1, 1)),
    "end_date_visibility_restriction": (None, date(2038, 1, 1)),
}
_END_DATES = tuple(name for name in _DATE_BOUNDS if name.startswith("end_date_"))
KNOWN_FIELDS: frozenset[str] = frozenset(
    {*_KEYED, *_TEXT_LIMITS, *_DATE_BOUNDS, "territorial_scope", "content_language"}
)
# The transparency DB lists territorial_scope as required; its other required fields come from
# the _about rules of the fields file.
REQUIRED_FIELDS: tuple[str, ...] = (
    "decision_ground",
    "content_type",
    "category",
    "territorial_scope",
    "content_date",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
)
_DECISIONS = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
# (field holding the key, key, companion text field): the text is required with the key and
# dropped by the database without it.
_OTHER_TEXT = (
    ("decision_visibility", "DECISION_VISIBILITY_OTHER", "decision_visibility_other"),
    ("decision_monetary", "DECISION_MONETARY_OTHER", "decision_monetary_other"),
    ("content_type", "CONTENT_TYPE_OTHER", "content_type_other"),
)
_GROUND_TEXT = {
    _ILLEGAL: ("illegal_content_legal_ground", "illegal_content_explanation"),
    _INCOMPATIBLE: (
        "incompatible_content_ground",
        "incompatible_content_explanation",
        "incompatible_content_illegal",
    ),
}
_GROUND_REQUIRED = {name: fields[:2] for name, fields in _GROUND_TEXT.items()}
_PUID = re.compile(r"[A-Za-z0-9_-]+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
_LANGUAGE = re.compile(r"[A-Z]{2}")
_HINT_ALL_UP_TO = 12


def _vocabularies(fields: Mapping[str, Mapping[str, str]]) -> dict[str, frozenset[str]]:
    return {name: frozenset(fields.get(vocab, ())) for name, (vocab, _) in _KEYED.items()}


_DEFAULT_VOCABULARIES = _vocabularies(FIELDS)


@cache
def _iso_639_1() -> frozenset[str]:
    import pycountry  # only when a record names a language; its tables load lazily

    return frozenset(
        lang.alpha_2.upper() for lang in pycountry.languages if hasattr(lang, "alpha_2")
    )


def _unknown_value(field: str, value: object, accepted: frozenset[str]) -> str:
    if len(accepted) <= _HINT_ALL_UP_TO:
        hint = "accepted: " + ", ".join(sorted(accepted))
    else:
        close = difflib.get_close_matches(str(value), accepted, n=3)
        hint = (f"did you mean {' or '.join(close)}? " if close else "") + (
            f"{len(accepted)} accepted keys, listed in FIELDS[{_KEYED[field][0]!r}]"
        )
    return f"{field}: {value!r} is not an accepted value ({hint})"


def _present(value: object) -> bool:
    return value is not None and value != "" and value != [] and value != ()


def validate_statement(
    record: Mapping[str, Any], fields: Mapping[str, Mapping[str, str]] = FIELDS
) -> list[str]:
    """Every problem with ``record`` as ``"field: message"``; an empty list means it is valid.

    ``None`` counts as absent, as it does for the database.
    """
    vocab = _DEFAULT_VOCABULARIES if fields is FIELDS else _vocabularies(fields)
    errors: list[str] = []
    for name in record:
        if name not in KNOWN_FIELDS:
            errors.append(f"{name}: unknown field; the transparency database does not accept it")
    for name in REQUIRED_FIELDS:
        if not _present(record.get(name)):
            errors.append(f"{name}: required")
    if not any(_present(record.get(name)) for name in _DECISIONS):
        errors.append(
            "decision_visibility: at least one of decision_visibility, decision_monetary, "
            "decision_provision or decision_account is required"
        )

    for name, (_, is_array) in _KEYED.items():
        value = record.get(name)
        if value is None:
            continue
        accepted = vocab[name]
        if is_array:
            if not isinstance(value, list | tuple):
                errors.append(f"{name}: must be an array of keys, got {type(value).__name__}")
                continue
            for item in value:
                if not (isinstance(item, str) and item in accepted):
                    errors.append(_unknown_value(name, item, accepted))
        elif not isinstance(value, str):
            errors.append(f"{name}: must be a single key, got {type(value).__name__}")
        elif value not in accepted:
            errors.append(_unknown_value(name, value, accepted))

    for name, limit in _TEXT_LIMITS.items():
        value = record.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            errors.append(f"{name}: must be text, got {type(value).__name__}")
        elif len(value) > limit:
            errors.append(f"{name}: {len(value)} characters; at most {limit}")

    puid = record.get("puid")
    if isinstance(puid, str) and puid and not _PUID.fullmatch(puid):
        errors.append("puid: only letters A-Z a-z, digits, '-' and '_' are allowed")
    url = record.get("decision_ground_reference_url")
    if isinstance(url, str) and url and not _URL.fullmatch(url):
        errors.append("decision_ground_reference_url: must be an http(s) URL")

    ground = record.get("decision_ground")
    for ground_key, texts in _GROUND_TEXT.items():
        if ground == ground_key:
            for name in _GROUND_REQUIRED[ground_key]:
                if not _present(record.get(name)):
                    errors.append(f"{name}: required when decision_ground is {ground_key}")
        else:
            for name in texts:
                if _present(record.get(name)):
                    errors.append(f"{name}: only allowed when decision_ground is {ground_key}")

    for field, key, text in _OTHER_TEXT:
        value = record.get(field)
        chosen = key in value if isinstance(value, list | tuple) else value == key
        if chosen and not _present(record.get(text)):
            errors.append(f"{text}: required when {field} is {key}")
        elif not chosen and _present(record.get(text)):
            errors.append(f"{text}: only allowed when {field} is {key}")
    keywords = record.get("category_specification")
    if _present(record.get("category_specification_other")) and not (
        isinstance(keywords, list | tuple) and "KEYWORD_OTHER" in keywords
    ):
        errors.append("category_specification_other: only allowed with KEYWORD_OTHER")

    scope = record.get("territorial_scope")
    if scope is not None:
        if not isinstance(scope, list | tuple):
            errors.append(f"territorial_scope: must be an array, got {type(scope).__name__}")
        else:
            outside = [code for code in scope if not (isinstance(code, str) and code in EEA_STATES)]
            if outside:
                errors.append(
                    f"territorial_scope: {', '.join(map(str, outside))} not EU/EEA country "
                    "code(s) (ISO 3166-1 alpha-2, GR for Greece)"
                )

    language = record.get("content_language")
    if language is not None and not (
        isinstance(language, str) and _LANGUAGE.fullmatch(language) and language in _iso_639_1()
    ):
        errors.append(
            f"content_language: {language!r} is not an upper-case ISO 639-1 code (e.g. EN, DE)"
        )

    dates: dict[str, date] = {}
    for name, (earliest, latest) in _DATE_BOUNDS.items():
        value = record.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            errors.append(f"{name}: must be a date as YYYY-MM-DD, got {value!r}")
            continue
        try:
            day = date.fromisoformat(value)
        except ValueError:
            errors.append(f"{name}: {value!r} is not a calendar date")
            continue
        if earliest is not None and day < earliest:
            errors.append(f"{name}: {value} is before {earliest.isoformat()}")
        elif day > latest:
            errors.append(f"{name}: {value} is after {latest.isoformat()}")
        dates[name] = day
    applied = dates.get("application_date")
    if applied is not None:
        for name in _END_DATES:
            end = dates.get(name)
            if end is not None and end < applied:
                errors.append(f"{name}: {end.isoformat()} is before application_date")
    return errors


@dataclass(frozen=True)
class ExportLine:
    index: int
    puid: str
    line: str
    errors: tuple[str, ...]


def export_jsonl(records: Iterable[Mapping[str, Any]]) -> Iterator[ExportLine]:
    """One compact JSON line per record (in order), each with its validation errors.

    ``index`` is the record's 0-based position; a line with errors must be fixed before it is
    submitted. Values JSON cannot encode are written with ``str`` (and reported as errors).
    """
    for index, record in enumerate(records):
        errors = validate_statement(record)
        line = json.dumps(
            record if isinstance(record, dict) else dict(record),
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        )
        puid = record.get("puid")
        yield ExportLine(index, puid if isinstance(puid, str) else "", line, tuple(errors))
