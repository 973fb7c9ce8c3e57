"""Drafts of reports that people review and send themselves: NCMEC CyberTipline, law enforcement.

A report to NCMEC or to the police is a legal act with consequences for real people, so nothing
here sends anything. Each draft is a plain dict laid out the way the recipient asks for the
information, plus two lists for the reviewer: ``needs_human_input`` (what a person must complete
or confirm: nothing there is guessed) and ``review_warnings`` (gaps that make the report weaker,
such as items without hashes). Items are referred to by id, URL and hash only; no media bytes.

A draft built here is always ``status: "draft"``. ``reviewed`` and ``submitted`` are recorded by a
person (the service layer stores who and when, and for ``submitted`` the receipt or reference the
recipient gave them); no code path here sets them.

The NCMEC layout follows the CyberTipline reporting API's sections: reporter, incident summary
(type, date and time), internet details (URLs), the reported person or user, files with their
original hashes and whether the company viewed them and whether they were publicly available,
and additional information.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from rapidresponse.incidents.taxonomy import HARM_TYPES, HarmType
from rapidresponse.incidents.validation import EEA_STATES

DRAFT_BANNER = "DRAFT — for human review; not submitted"


class DraftStatus(StrEnum):
    DRAFT = "draft"
    REVIEWED = "reviewed"
    # A person records that they submitted it themselves, with the recipient's receipt/reference.
    SUBMITTED = "submitted"


@dataclass(frozen=True)
class ReportedItem:
    content_id: str
    account_id: str | None
    uploaded_at: datetime | None
    url: str | None
    md5: str | None
    sha256: str | None
    pdq: str | None
    publicly_available: bool | None
    viewed_by_staff: bool | None
    regions: tuple[str, ...]


@dataclass(frozen=True)
class CaseFacts:
    incident_key: str
    harm_type: HarmType
    title: str
    summary: str
    regions: tuple[str, ...]
    detected_at: datetime | None
    trigger_kind: str
    trigger_at: datetime
    trigger_reference: str | None
    items: tuple[ReportedItem, ...]
    accounts: tuple[str, ...]
    reporter_org: str
    reporter_contact: str | None


# The CyberTipline's incident types; the reviewer picks one, this only suggests.
NCMEC_INCIDENT_TYPES: tuple[str, ...] = (
    "Child Pornography (possession, manufacture, and distribution)",
    "Child Sex Trafficking",
    "Child Sex Tourism",
    "Child Sexual Molestation",
    "Misleading Domain Name",
    "Misleading Words or Digital Images on the Internet",
    "Online Enticement of Children for Sexual Act",
    "Unsolicited Obscene Material Sent to a Child",
)
_NCMEC_DEFAULT_TYPE = NCMEC_INCIDENT_TYPES[0]
_NCMEC_ENTICEMENT = "Online Enticement of Children for Sexual Act"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _dedupe(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _reported_accounts(facts: CaseFacts) -> list[str]:
    return _dedupe([*facts.accounts, *(item.account_id for item in facts.items)])


def _naive_times(facts: CaseFacts) -> list[str]:
    moments = [("trigger time", facts.trigger_at), ("detection time", facts.detected_at)]
    moments += [(f"upload time of {i.content_id}", i.uploaded_at) for i in facts.items]
    return [
        f"{label} has no time zone; confirm it is UTC before submitting"
        for label, moment in moments
        if moment is not None and moment.tzinfo is None
    ]


def _hash_warnings(items: Iterable[ReportedItem]) -> list[str]:
    warnings = []
    for item in items:
        pairs = (("MD5", item.md5), ("SHA-256", item.sha256))
        missing = [name for name, value in pairs if not value]
        if missing:
            warnings.append(
                f"item {item.content_id}: missing {' and '.join(missing)} hash; recipients match "
                "and de-duplicate on file hashes"
            )
    return warnings


def _item_warnings(facts: CaseFacts) -> list[str]:
    warnings: list[str] = []
    if not facts.items:
        warnings.append("no items: the report names no content")
    warnings += _hash_warnings(facts.items)
    warnings += [
        f"item {item.content_id}: no upload time" for item in facts.items if not item.uploaded_at
    ]
    warnings += [f"item {item.content_id}: no URL" for item in facts.items if not item.url]
    if not _reported_accounts(facts):
        warnings.append("no reported account: neither the case nor any item names one")
    return warnings + _naive_times(facts)


def _incident_time(facts: CaseFacts) -> tuple[datetime, str]:
    uploads = [item.uploaded_at for item in facts.items if item.uploaded_at is not None]
    if uploads:
        return min(uploads), "earliest upload time among the reported items"
    if facts.detected_at is not None:
        return facts.detected_at, "time the platform detected the incident"
    return facts.trigger_at, f"time of the {facts.trigger_kind} that raised the case"


def draft_ncmec_report(facts: CaseFacts) -> dict[str, Any]:
    """The CyberTipline report contents for ``facts``, for a person to complete and submit."""
    harm = HARM_TYPES[facts.harm_type]
    incident_time, time_basis = _incident_time(facts)
    accounts = _reported_accounts(facts)
    suggested_type = _NCMEC_ENTICEMENT if not facts.items else _NCMEC_DEFAULT_TYPE

    files = []
    for item in facts.items:
        hashes = [
            {"hash_type": kind, "value": value}
            for kind, value in (("MD5", item.md5), ("SHA256", item.sha256))
            if value
        ]
        files.append(
            {
                "content_id": item.content_id,
                "location_of_file": item.url,
                "uploaded_at": _iso(item.uploaded_at),
                "uploaded_by_account": item.account_id,
                "original_file_hashes": hashes,
                # PDQ is a perceptual hash, not a file hash: it goes with the file's metadata.
                "details": [{"type": "HASH", "name": "PDQ", "value": item.pdq}] if item.pdq else [],
                "file_viewed_by_esp": item.viewed_by_staff,
                "publicly_available": item.publicly_available,
                "regions": list(item.regions),
            }
        )

    needs = [
        "reporting person: name, e-mail and phone of the person submitting",
        "incident type confirmation (suggested: " + suggested_type + ")",
        "incident date and time confirmation",
        "whether to escalate to high priority (e.g. a child in imminent danger) and why",
        "report annotations that apply (e.g. sextortion, minor-to-minor interaction), if any",
        "victim and intended recipient details, if known",
        "upload of each file through the CyberTipline (this draft carries no media)",
    ]
    if not facts.reporter_contact:
        needs.insert(1, "reporter contact for law enforcement follow-up")
    for account in accounts:
        needs.append(
            f"reported account {account}: screen name, profile URL, and IP/device records "
            "from account systems, as the law and policy allow"
        )
    for item in facts.items:
        if item.viewed_by_staff is None:
            needs.append(f"whether file {item.content_id} was viewed by staff")
        if item.publicly_available is None:
            needs.append(f"whether file {item.content_id} was publicly available")

    warnings = []
    if facts.harm_type is not HarmType.CHILD_SEXUAL_EXPLOITATION:
        warnings.append(
            f"harm type is {harm.label}: the CyberTipline takes reports of child sexual "
            "exploitation; confirm this case belongs there"
        )
    warnings += _item_warnings(facts)

    return {
        "kind": "ncmec_cybertipline_report",
        "banner": DRAFT_BANNER,
        "status": DraftStatus.DRAFT.value,
        "incident_key": facts.incident_key,
        "title": facts.title,
        "needs_human_input": needs,
        "review_warnings": warnings,
        "reporter": {
            "company": facts.reporter_org,
            "contact": facts.reporter_contact,
            "reporting_person": None,
        },
        "incident_summary": {
            "incident_type": None,
            "suggested_incident_type": suggested_type,
            "incident_type_options": list(NCMEC_INCIDENT_TYPES),
            "incident_date_time": incident_time.isoformat(),
            "incident_date_time_description": time_basis,
            "escalate_to_high_priority": None,
            "report_annotations": [],
        },
        "internet_details": {"web_page": {"urls": _dedupe(item.url for item in facts.items)}},
        "reported_people": [
            {
                "esp_identifier": account,
                "content_ids": [i.content_id for i in facts.items if i.account_id == account],
            }
            for account in accounts
        ],
        "files": files,
        "additional_information": _additional_information(facts, harm.label),
    }


def _additional_information(facts: CaseFacts, harm_label: str) -> str:
    lines = [
        f"Internal incident {facts.incident_key}: {facts.title} ({harm_label}).",
        facts.summary,
        f"Raised by {facts.trigger_kind} at {facts.trigger_at.isoformat()}"
        + (f" (reference {facts.trigger_reference})." if facts.trigger_reference else "."),
    ]
    if facts.detected_at is not None:
        lines.append(f"Detected at {facts.detected_at.isoformat()}.")
    if facts.regions:
        lines.append(f"Regions: {', '.join(facts.regions)}.")
    return "\n".join(line for line in lines if line)


def draft_law_enforcement_notification(
    facts: CaseFacts, authority: str, legal_basis: str
) -> dict[str, Any]:
    """A notification to ``authority`` (e.g. under Art. 18 DSA), for a person to complete and send.

    Art. 18 DSA asks a hosting provider that becomes aware of information giving rise to a
    suspicion of a criminal offence involving a threat to the life or safety of persons to inform
    the law-enforcement or judicial authorities of the Member State(s) concerned, with all
    relevant information available.
    """
    harm = HARM_TYPES[facts.harm_type]
    accounts = _reported_accounts(facts)
    member_states = sorted({r.upper() for r in facts.regions} & EEA_STATES)

    items = [
        {
            "content_id": item.content_id,
            "url": item.url,
            "uploaded_at": _iso(item.uploaded_at),
            "account_id": item.account_id,
            "hashes": {
                kind: value
                for kind, value in (("md5", item.md5), ("sha256", item.sha256), ("pdq", item.pdq))
                if value
            },
            "publicly_available": item.publicly_available,
            "regions": list(item.regions),
        }
        for item in facts.items
    ]

    needs = [
        "threat to life or safety: who is at risk, how imminent, and the facts that show it",
        "the criminal offence suspected, in the authority's terms",
        "preservation status: confirm the items and account data are preserved, and until when",
        "contact point available around the clock for the authority's follow-up",
        "what the platform has already done (removals, restrictions) and when",
        "the channel to send it through (the authority's portal, e-mail or phone line)",
    ]
    if not facts.reporter_contact:
        needs.insert(3, "contact point name and direct line")
    for account in accounts:
        needs.append(
            f"account {account}: subscriber and IP/device data to include, as the law allows"
        )

    warnings = []
    if not authority.strip():
        warnings.append("no authority named: say which authority receives this notification")
    if not legal_basis.strip():
        warnings.append("no legal basis given")
    if not member_states:
        warnings.append(
            "no EU/EEA region: where the Member State concerned is unclear, Art. 18(2) DSA points "
            "to the authorities of the Member State of establishment or legal representative, "
            "or to Europol"
        )
    warnings += _item_warnings(facts)

    return {
        "kind": "law_enforcement_notification",
        "banner": DRAFT_BANNER,
        "status": DraftStatus.DRAFT.value,
        "incident_key": facts.incident_key,
        "title": facts.title,
        "needs_human_input": needs,
        "review_warnings": warnings,
        "authority": authority,
        "legal_basis": legal_basis,
        "member_states_concerned": member_states,
        "suspicion": {
            "harm_type": harm.label,
            "summary": facts.summary,
            "offence_suspected": None,
        },
        "threat_to_life_or_safety": {
            "assessment": None,
            "detected_at": _iso(facts.detected_at),
            "raised_by": facts.trigger_kind,
            "raised_at": facts.trigger_at.isoformat(),
            "reference": facts.trigger_reference,
        },
        "regions": list(facts.regions),
        "items": items,
        "accounts": accounts,
        "preservation": {"items_to_preserve": len(items), "confirmed": None, "until": None},
        "contact_point": {"organisation": facts.reporter_org, "contact": facts.reporter_contact},
    }


_TITLES = {
    "ncmec_cybertipline_report": "NCMEC CyberTipline report",
    "law_enforcement_notification": "Law-enforcement notification",
}
_HEADER_KEYS = ("kind", "banner", "status", "title", "needs_human_input", "review_warnings")


def _heading(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _scalar(value: object) -> str:
    if value is None:
        return "_(to complete)_"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _render(value: object, depth: int, out: list[str]) -> None:
    indent = "  " * depth
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if isinstance(inner, Mapping | list) and inner:
                out.append(f"{indent}- **{_heading(str(key))}**:")
                _render(inner, depth + 1, out)
            elif isinstance(inner, list):
                out.append(f"{indent}- **{_heading(str(key))}**: none")
            else:
                out.append(f"{indent}- **{_heading(str(key))}**: {_scalar(inner)}")
    elif isinstance(value, list):
        for number, inner in enumerate(value, start=1):
            if isinstance(inner, Mapping):
                out.append(f"{indent}- **#{number}**")
                _render(inner, depth + 1, out)
            else:
                out.append(f"{indent}- {_scalar(inner)}")
    else:
        out.append(f"{indent}{_scalar(value)}")


def render_markdown(draft: Mapping[str, Any]) -> str:
    """A readable review copy of a draft, headed by the draft banner."""
    kind = str(draft.get("kind", ""))
    out = [f"# {DRAFT_BANNER}", ""]
    out.append(f"## {_TITLES.get(kind, _heading(kind) or 'Report')}: {draft.get('title', '')}")
    out.append("")
    out.append(f"Status: **{draft.get('status', DraftStatus.DRAFT.value)}**")
    # What the reviewer must do comes first, as a checklist; the warnings follow it.
    for key, label, mark in (
        ("needs_human_input", "To complete", "- [ ] "),
        ("review_warnings", "Warnings", "- ⚠ "),
    ):
        entries = draft.get(key) or []
        out += ["", f"### {label}", ""]
        out += [f"{mark}{entry}" for entry in entries] if entries else ["- none"]
    for key, value in draft.items():
        if key in _HEADER_KEYS:
            continue
        out += ["", f"### {_heading(key)}", ""]
        if isinstance(value, str) and "\n" in value:
            out += value.splitlines()
        else:
            _render(value if isinstance(value, Mapping | list) else [value], 0, out)
    out.append("")
    return "\n".join(out)
